// `xdp-lab boot [-- CMD...]`: boots out/ in qemu, runs CMD in the guest (or a shell) and powers off.
import { rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { DEFAULT_VM } from "../../network/vm/qemu.ts";
import type { AccelDecision } from "../../network/vm/accel.ts";
import { accelFor, bootKernel, vmOptions, withAccel, withKernel, withMachine, withShare } from "./lab-options.ts";
import { DEFAULT_OUT } from "../paths.ts";
import { shellCommand, shellQuote } from "../../network/shell.ts";
import type { BootKernel } from "../build-out.ts";
import { describeFeatures } from "../build/stock-features.ts";

/** boot's line on stderr when the guest is ready: seconds since qemu started, and the guest's uptime at its marker. */
export function readyLine(r: { seconds: number; uptime: number }): string {
  return `guest ready ${r.seconds.toFixed(2)} s after qemu start (guest uptime ${r.uptime.toFixed(2)} s)`;
}

/** The figures of readyLine in boot's stderr, for the benchmarks; undefined when the guest never got ready. */
export function parseReadyLine(stderr: string): { seconds: number; uptime: number } | undefined {
  const m = /guest ready ([\d.]+) s after qemu start \(guest uptime ([\d.]+) s\)/.exec(stderr);
  return m ? { seconds: Number(m[1]), uptime: Number(m[2]) } : undefined;
}

export const command = "boot [cmd..]";
export const describe = "Boot out/bzImage + out/initramfs.img in qemu; run CMD in the guest (after --) or open its shell";

export function builder(y: Argv) {
  return withKernel(withShare(withMachine(withAccel(y))))
    .positional("cmd", { type: "string", array: true, describe: "command to run in the guest, after --" })
    .option("out", { type: "string", default: DEFAULT_OUT, describe: "directory with the build's artifacts", defaultDescription: "out/ in the checkout" })
    .option("append", { type: "string", array: true, default: [] as string[], describe: "extra kernel command line argument (repeatable)" })
    .option("timeout", { type: "number", default: 60, describe: "seconds to wait for the guest to be ready" })
    .option("log", { type: "string", describe: "console log file", defaultDescription: "OUT/logs/console.log" })
    .option("install", { type: "boolean", default: true, describe: "install qemu if missing (root); --no-install only reports it" })
    .option("quiet", { alias: "q", type: "boolean", default: false, describe: "print only the guest command's output" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

/**
 * What booting a build needs, checked in order: its artifacts, then qemu; and the accelerator to use.
 * KERNEL (--kernel) other than built is a stock kernel, fetched when missing (build-out.ts bootKernel).
 */
export async function prepareBoot(
  out: string,
  install: boolean,
  accel: string | undefined,
  kernel?: { choice?: string; shares?: unknown[]; guestRoot?: string; log?: (l: string) => void },
): Promise<{ kernel: string; initrd: string; accel: AccelDecision; boot: BootKernel }> {
  const [{ ensure }, { VM_RUNTIME }] = await Promise.all([import("../tools/ensure.ts"), import("../build/packages.ts")]);
  // The build is checked first (bootKernel): probing KVM with no kernel would remember it as unusable.
  const boot = await bootKernel(out, kernel?.choice, { shares: kernel?.shares, guestRoot: kernel?.guestRoot, log: kernel?.log });
  await ensure(VM_RUNTIME, { install, purpose: "booting the guest" });
  return { kernel: boot.kernel, initrd: boot.initrd, boot, accel: await accelFor(accel, out, process.env, boot) };
}

export async function handler(argv: Args): Promise<void> {
  const out = resolve(argv.out);
  const say = (m: string): void => void (argv.quiet ? undefined : process.stderr.write(m + "\n"));
  const { kernel, initrd, accel: decision, boot: chosen } = await prepareBoot(out, argv.install, argv.accel, { choice: argv.kernel, shares: argv.share, guestRoot: argv.guestRoot, log: say });
  const accel = decision.accel;
  const { boot } = await import("../../network/vm/boot.ts");
  const cmd = [...(argv.cmd ?? []), ...((argv["--"] as unknown[] | undefined) ?? [])].map(String);
  say(`booting ${kernel} (${describeKernel(chosen)}) under ${accel.toUpperCase()} (${decision.why})`);
  for (const line of featureLines(chosen)) say(`  ${line}`);
  const options: Parameters<typeof boot>[0] = {
    vm: {
      ...DEFAULT_VM,
      ...vmOptions(argv),
      kernel,
      initrd,
      accel,
      cpuOff: chosen.cpuOff,
      command: guestCommand(cmd),
    },
    log: resolve(argv.log ?? join(out, "logs", "console.log")),
    readyTimeout: argv.timeout,
    interactive: cmd.length === 0,
    onOutput: (line) => process.stdout.write(line + "\n"),
    onReady: (r) => say(readyLine(r)),
  };
  const { BootError, retryPanic } = await import("../../network/vm/boot.ts");
  // A panic before ready under TCG is tried once more, as up does; one after it is the command's.
  const result = await boot(options).catch(async (error: unknown) => {
    if (!(error instanceof BootError) || error.failure !== "panic" || error.ready || !retryPanic(error.message, accel, 1)) throw error;
    await rename(options.log, `${options.log}.panic`).catch(() => undefined);
    say(`the guest's kernel panicked during boot under TCG (console log kept as ${options.log}.panic); booting it once more`);
    return boot(options);
  });
  say(`guest command exited with status ${result.exitCode}; console log: ${result.log}`);
  process.exitCode = result.exitCode;
}

/** "the lab's built kernel 6.1.192", "the lab's kernel 6.12 (6.12.117)" or "debian-6.12: Debian's 6.12.95+deb12-cloud-amd64, package 6.12.95-1~bpo12+1". */
export function describeKernel(k: BootKernel): string {
  if (k.name === "built") return `the lab's built kernel${k.release ? ` ${k.release}` : ""}`;
  if (k.version === undefined) return `the lab's kernel ${k.name}${k.release ? ` (${k.release})` : ""}`;
  return `${k.name}: Debian's ${k.release}, package version ${k.version}`;
}

/** A stock kernel's lab features, one line each ("9p shares (--share): no (CONFIG_NET_9P not set)"); none for the built kernel. */
export function featureLines(k: BootKernel): string[] {
  return k.features ? describeFeatures(k.features) : [];
}

/**
 * The shell command for the guest: one argument is taken as a shell command line (`-- 'ip l; uname'`),
 * several as an argv whose words are quoted (`-- echo "a b"`).
 */
export function guestCommand(cmd: string[]): string | undefined {
  return cmd.length === 0 ? undefined : shellCommand(cmd);
}

export { shellQuote };
