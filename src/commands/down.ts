// `xdp-lab down`: removes everything a lab created; idempotent, works after the runner was killed.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { withName } from "./lab-options.ts";

export const command = "down";
export const describe = "Remove a lab: namespaces, links, taps, qemu, nft rules, state";

export function builder(y: Argv) {
  return withName(y).option("all", { type: "boolean", default: false, describe: "every lab on this machine" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ down }, { labNames, requireRoot }] = await Promise.all([import("../../network/down.ts"), import("../../network/state.ts")]);
  requireRoot("xdp-lab down");
  const names = argv.all ? await labNames() : [argv.name];
  for (const name of names) {
    const removed = await down(name);
    process.stdout.write(removed.length ? `lab ${name}: removed ${removed.length} things\n` : `lab ${name}: nothing to remove\n`);
  }
}
