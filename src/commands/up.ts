// `xdp-lab up`: client, br-lan, the xdp VM, br-wan, server and an internet, in namespaces of the lab's own.
import { resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { ADDR, nameFlag, type LinkName } from "../../network/plan.ts";
import { describeImpairment, parseImpairSpec, type Impairment } from "../../network/impair.ts";
import { DEFAULT_OUT } from "../paths.ts";
import { vmOptions, withAccel, withKernel, withMachine, withName, withShare } from "./lab-options.ts";

export const command = "up";
export const describe = "Bring a lab up: the VM from out/ routing between a client (LAN) and a server (WAN), with an internet behind NAT";

export function builder(y: Argv) {
  return withKernel(withShare(withMachine(withAccel(withName(y)))))
    .option("out", { type: "string", default: DEFAULT_OUT, describe: "directory with the build's artifacts", defaultDescription: "out/ in the checkout" })
    .option("uplink", { type: "string", describe: "NAT through this real host interface instead of the simulated internet (changes the host's firewall and ip_forward until down)" })
    .option("append", { type: "string", array: true, default: [] as string[], describe: "extra kernel command line argument (repeatable)" })
    .option("timeout", { type: "number", default: 60, describe: "seconds to wait for the VM" })
    .option("hosts", { type: "string", choices: ["netns", "podman"], default: "netns", describe: "run the client and the server as namespaces on this machine, or as podman containers in them" })
    .option("client-image", { type: "string", describe: "run the client as a podman container of this local image (any image with a shell)", defaultDescription: "with --hosts podman: the lab's own" })
    .option("server-image", { type: "string", describe: "run the server as a podman container of this local image (any image with a shell)", defaultDescription: "with --hosts podman: the lab's own" })
    .option("net-admin", { type: "string", array: true, choices: ["client", "server"], default: [] as string[], describe: "give this container host NET_ADMIN, to change its own addresses and routes (repeatable)" })
    .option("impair", {
      type: "string",
      array: true,
      default: [] as string[],
      describe: "impair a link from the start: LINK:KEY=VALUE,... with LINK lan, wan or uplink and KEY delay, jitter, loss, rate, duplicate, reorder, corrupt (as ./xdp-lab link takes them), e.g. lan:delay=10ms,loss=1% (repeatable)",
    })
    .option("install", { type: "boolean", default: true, describe: "install missing host packages (root)" })
    .option("json", { type: "boolean", default: false, describe: "print the result as JSON" });
}

/** --impair's values, checked before anything is created: one impairment per link. */
export function impairments(specs: string[]): Partial<Record<LinkName, Impairment>> {
  const out: Partial<Record<LinkName, Impairment>> = {};
  for (const spec of specs) {
    const { link, impairment } = parseImpairSpec(spec);
    if (out[link]) throw new Error(`--impair ${spec}: ${link} is impaired twice. Fix: put all of its values in one --impair ${link}:KEY=VALUE,KEY=VALUE`);
    out[link] = impairment;
  }
  return out;
}

/** Which hosts are containers: both with --hosts podman, and each one given an image. */
export function containerHosts(kind: string, client?: string, server?: string): Partial<Record<"client" | "server", { kind: "podman"; image?: string }>> {
  const out: Partial<Record<"client" | "server", { kind: "podman"; image?: string }>> = {};
  for (const [h, image] of [["client", client], ["server", server]] as const) if (kind === "podman" || image !== undefined) out[h] = { kind: "podman", image };
  return out;
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const impair = impairments(argv.impair);
  const { Lab } = await import("../lab.ts");
  const log = (l: string): void => void process.stderr.write(l + "\n");
  const r = await new Lab(argv.name).up({
    out: resolve(argv.out),
    kernel: argv.kernel,
    accel: argv.accel,
    vm: vmOptions(argv),
    uplink: argv.uplink,
    readyTimeout: argv.timeout,
    impair,
    hosts: containerHosts(argv.hosts, argv.clientImage, argv.serverImage),
    netAdmin: argv.netAdmin as ("client" | "server")[],
    install: argv.install,
    log,
  });
  const accel = r.accel.accel;
  if (argv.json) {
    process.stdout.write(JSON.stringify({ ...r.state, timings: r.timings }, null, 2) + "\n");
    return;
  }
  const n = nameFlag(argv.name);
  process.stdout.write(
    `lab ${argv.name} is up in ${(r.state.upSeconds ?? 0).toFixed(1)} s (${accel.toUpperCase()}, kernel ${r.state.kernel?.name ?? "built"}${r.state.kernel?.release ? ` ${r.state.kernel.release}` : ""}):\n` +
      `  client ${ADDR.lan.client} --br-lan-- ${ADDR.lan.vm} [xdp VM] ${ADDR.wan.vm} --br-wan-- server ${ADDR.wan.server}\n` +
      `  internet: ${r.state.uplink ? `NAT through ${r.state.uplink}` : `${ADDR.internet.host} (simulated), NAT at ${ADDR.internet.edge}`}\n` +
      Object.entries(r.state.impair ?? {}).map(([link, imp]) => `  ${link} impaired: ${describeImpairment(imp)}\n`).join("") +
      `next:\n` +
      `  ./xdp-lab exec client${n} -- ping -c 3 server\n` +
      `  ./xdp-lab load out/drop.bpf.o${n} --iface lan\n` +
      `  ./xdp-lab status${n}    ./xdp-lab ssh${n}    ./xdp-lab tmux${n}\n` +
      `  ./xdp-lab down${n}\n`,
  );
}
