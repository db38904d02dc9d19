// `xdp-lab capture lan|wan`: packets at a VM port, printed as tcpdump does or written as a pcap.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { withName } from "./lab-options.ts";

export const command = "capture <port> [filter..]";
export const describe = "Capture packets at a VM port (lan or wan): printed like tcpdump, or --write FILE.pcap; --xdp captures at the XDP hook in the guest";

export function builder(y: Argv) {
  return withName(y)
    .positional("port", { choices: ["lan", "wan"] as const, demandOption: true, describe: "the VM's lan0 (client side) or wan0" })
    .positional("filter", { type: "string", array: true, describe: "a tcpdump filter expression, after -- (e.g. -- icmp)" })
    .option("count", { alias: "c", type: "number", describe: "stop after N packets" })
    .option("write", { alias: "w", type: "string", describe: "write a pcap to this file on the host instead of printing" })
    .option("xdp", { type: "boolean", default: false, describe: "capture at the XDP hook in the guest (xdpdump: entry and exit, drops included)" })
    .option("install", { type: "boolean", default: true, describe: "install tcpdump if missing (root)" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ capture }, { requireRoot }, { ensure }, { CAPTURE_TOOLS }] = await Promise.all([
    import("../../network/capture.ts"),
    import("../../network/state.ts"),
    import("../tools/ensure.ts"),
    import("../build/packages.ts"),
  ]);
  requireRoot("xdp-lab capture");
  if (argv.count !== undefined && (!Number.isInteger(argv.count) || argv.count < 1)) {
    throw new Error(`--count ${argv.count}: give a whole number of packets, 1 or more`);
  }
  await ensure(CAPTURE_TOOLS, { install: argv.install, purpose: "xdp-lab capture", log: (l) => process.stderr.write(l + "\n") });
  const filter = [...(argv.filter ?? []), ...((argv["--"] as unknown[] | undefined) ?? [])].map(String);
  // Ctrl-C ends the capture cleanly: tcpdump flushes and the pcap is kept.
  const stop = new AbortController();
  const onSigint = (): void => stop.abort();
  process.on("SIGINT", onSigint);
  try {
    const r = await capture(argv.name, {
      port: argv.port,
      count: argv.count,
      write: argv.write,
      xdp: argv.xdp,
      filter,
      signal: stop.signal,
      onText: (b) => process.stdout.write(b),
      onInfo: (b) => process.stderr.write(b),
    });
    if (r.file) process.stderr.write(`xdp-lab: ${r.packets !== undefined ? `${r.packets} packets` : "pcap"} written to ${r.file}\n`);
  } finally {
    process.off("SIGINT", onSigint);
  }
}
