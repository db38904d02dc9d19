// `xdp-lab console`: the VM's serial console (Ctrl-] to leave).
import { existsSync } from "node:fs";
import { connect } from "node:net";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { labPlan } from "../../network/plan.ts";
import { withName } from "./lab-options.ts";

export const command = "console";
export const describe = "Attach to the lab VM's serial console (Ctrl-] leaves)";

export function builder(y: Argv) {
  return withName(y);
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ requireRoot }, { requireVm }] = await Promise.all([import("../../network/state.ts"), import("../../network/session.ts")]);
  requireRoot("xdp-lab console");
  const plan = labPlan(argv.name);
  await requireVm(argv.name);
  if (!existsSync(plan.files.console)) throw new Error(`Lab "${argv.name}" is not up (no ${plan.files.console}). Fix: ./xdp-lab up`);
  const sock = connect(plan.files.console);
  await new Promise<void>((resolve, reject) => {
    sock.once("error", (e) => reject(new Error(`Failed to attach to ${plan.files.console}: ${e.message}`)));
    sock.once("connect", () => {
      process.stderr.write(`console of lab ${argv.name}; Ctrl-] leaves\r\n`);
      const tty = process.stdin.isTTY;
      if (tty) process.stdin.setRawMode(true);
      process.stdin.on("data", (b: Buffer) => (b.includes(0x1d) ? sock.end() : sock.write(b)));
      sock.on("data", (b) => process.stdout.write(b));
      sock.once("close", () => {
        if (tty) process.stdin.setRawMode(false);
        process.stdin.pause();
        resolve();
      });
      sock.write("\n");
    });
  });
}
