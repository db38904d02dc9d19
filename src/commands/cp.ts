// `xdp-lab cp SRC DST`: copies files and directories between this machine and a lab host (HOST:PATH).
import type { ArgumentsCamelCase, Argv } from "yargs";
import { withName } from "./lab-options.ts";

export const command = "cp <src> <dst>";
export const describe = "Copy a file or directory to or from a lab host: xdp-lab cp prog.bpf.o vm:/root/  |  xdp-lab cp vm:/tmp/x.pcap .";

export function builder(y: Argv) {
  return withName(y)
    .positional("src", { type: "string", demandOption: true, describe: "a path here, or HOST:/PATH (vm, client, server, internet)" })
    .positional("dst", { type: "string", demandOption: true, describe: "a path here, or HOST:/PATH (into it when it is a directory)" })
    .option("json", { type: "boolean", default: false });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ copy, parseEnd }, { requireRoot }] = await Promise.all([import("../../network/hosts/index.ts"), import("../../network/state.ts")]);
  requireRoot("xdp-lab cp");
  const src = parseEnd(argv.src);
  const dst = parseEnd(argv.dst);
  const started = performance.now();
  const r = await copy(argv.name, src, dst);
  const seconds = (performance.now() - started) / 1000;
  if (argv.json) process.stdout.write(JSON.stringify({ ...r, seconds: Number(seconds.toFixed(3)) }) + "\n");
  else process.stderr.write(`${argv.src} -> ${dst.host ? `${dst.host}:` : ""}${r.target} (${r.kind}, ${r.bytes} bytes in ${seconds.toFixed(2)} s)\n`);
}
