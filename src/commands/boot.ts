// `xdp-lab boot [-- CMD...]`: boots out/ in qemu, runs CMD in the guest (or a shell) and powers off.
import { join, resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { DEFAULT_VM } from "../../network/vm/qemu.ts";
import type { AccelDecision } from "../../network/vm/accel.ts";
import { accelFor, artifacts, vmOptions, withAccel, withMachine, withShare } from "./lab-options.ts";
import { DEFAULT_OUT } from "../paths.ts";
import { shellCommand, shellQuote } from "../../network/shell.ts";

export const command = "boot [cmd..]";
export const describe = "Boot out/bzImage + out/initramfs.img in qemu; run CMD in the guest (after --) or open its shell";

export function builder(y: Argv) {
  return withShare(withMachine(withAccel(y)))
    .positional("cmd", { type: "string", array: true, describe: "command to run in the guest, after --" })
    .option("out", { type: "string", default: DEFAULT_OUT, describe: "directory with the build's artifacts", defaultDescription: "out/ in the checkout" })
    .option("append", { type: "string", array: true, default: [] as string[], describe: "extra kernel command line argument (repeatable)" })
    .option("timeout", { type: "number", default: 60, describe: "seconds to wait for the guest to be ready" })
    .option("log", { type: "string", describe: "console log file", defaultDescription: "OUT/logs/console.log" })
    .option("install", { type: "boolean", default: true, describe: "install qemu if missing (root); --no-install only reports it" })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "print only the guest command's output" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

/** What booting a build needs, checked in order: its artifacts, then qemu; and the accelerator to use. */
export async function prepareBoot(out: string, install: boolean, accel: string | undefined): Promise<{ kernel: string; initrd: string; accel: AccelDecision }> {
  const files = artifacts(out);
  const [{ ensure }, { VM_RUNTIME }] = await Promise.all([import("../build/requirements.ts"), import("../build/packages.ts")]);
  await ensure(VM_RUNTIME, { install, purpose: "booting the guest" });
  return { ...files, accel: await accelFor(accel, out) };
}

export async function handler(argv: Args): Promise<void> {
  const out = resolve(argv.out);
  const { kernel, initrd, accel: decision } = await prepareBoot(out, argv.install, argv.accel);
  const accel = decision.accel;
  const { boot } = await import("../../network/vm/boot.ts");
  const cmd = [...(argv.cmd ?? []), ...((argv["--"] as unknown[] | undefined) ?? [])].map(String);
  const say = (m: string): void => void (argv.quiet ? undefined : process.stderr.write(m + "\n"));
  say(`booting ${kernel} under ${accel.toUpperCase()} (${decision.why})`);
  const result = await boot({
    vm: {
      ...DEFAULT_VM,
      ...vmOptions(argv),
      kernel,
      initrd,
      accel,
      command: guestCommand(cmd),
    },
    log: resolve(argv.log ?? join(out, "logs", "console.log")),
    readyTimeout: argv.timeout,
    interactive: cmd.length === 0,
    onOutput: (line) => process.stdout.write(line + "\n"),
    onReady: (r) => say(`guest ready ${r.seconds.toFixed(2)} s after qemu start (guest uptime ${r.uptime.toFixed(2)} s)`),
  });
  say(`guest command exited with status ${result.exitCode}; console log: ${result.log}`);
  process.exitCode = result.exitCode;
}

/**
 * The shell command for the guest: one argument is taken as a shell command line (`-- 'ip l; uname'`),
 * several as an argv whose words are quoted (`-- echo "a b"`).
 */
export function guestCommand(cmd: string[]): string | undefined {
  return cmd.length === 0 ? undefined : shellCommand(cmd);
}

export { shellQuote };
