// `xdp-lab load OBJ`: copies an XDP object into the running VM and attaches it with the app.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { withName } from "./lab-options.ts";

export const command = "load <object>";
export const describe = "Attach an XDP object (.bpf.o) in the running VM, replacing what is attached there: no reboot";

export function builder(y: Argv) {
  return withName(y)
    .positional("object", { type: "string", demandOption: true, describe: "the .bpf.o (e.g. out/drop.bpf.o)" })
    .option("iface", { choices: ["lan", "wan"] as const, default: "lan" as const, describe: "the VM port: lan0 (client side) or wan0" })
    .option("mode", { choices: ["native", "generic"] as const, default: "native" as const, describe: "native falls back to generic when the driver refuses" })
    .option("program", { type: "string", describe: "the program to attach, by its name or section (default: the object's first XDP program)" })
    .option("json", { type: "boolean", default: false });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ load }, { requireRoot }] = await Promise.all([import("../../network/app-client.ts"), import("../../network/state.ts")]);
  requireRoot("xdp-lab load");
  // The path as given: the messages name it as the user wrote it.
  const answer = await load(argv.name, argv.object, { iface: argv.iface, mode: argv.mode, program: argv.program });
  if (argv.json) process.stdout.write(JSON.stringify(answer) + "\n");
  else {
    const r = answer.result;
    const replaced = r.replaced ? `, replacing prog id ${r.replaced}` : "";
    process.stdout.write(`${argv.object} attached to ${r.iface} in ${r.mode} mode (prog id ${r.id}${replaced})\n`);
  }
}
