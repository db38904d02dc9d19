// `xdp-lab ssh`: an interactive shell in the lab's VM over ssh (the lab's own key).
import type { ArgumentsCamelCase, Argv } from "yargs";
import { withName } from "./lab-options.ts";

export const command = "ssh";
export const describe = "A shell in the lab's VM";

export function builder(y: Argv) {
  return withName(y);
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ requireRoot }, { withVm }, { shell }] = await Promise.all([import("../../network/state.ts"), import("../../network/session.ts"), import("../tools/ssh.ts")]);
  requireRoot("xdp-lab ssh");
  process.exitCode = await withVm(argv.name, shell);
}
