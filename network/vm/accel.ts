// Which accelerator a guest runs under. /dev/kvm can lie (nested KVM that aborts qemu or hangs in
// the firmware), so "auto" trusts KVM only after a real test boot reached the ready marker, and
// remembers that verdict per machine (qemu build and host kernel) so the probe runs once.
import { createHash } from "node:crypto";
import { realpathSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { release } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { boot, BootError } from "./boot.ts";
import { DEFAULT_VM, detectAccel, firstErrorLine, qemuBinary, type Accel } from "./qemu.ts";

export type AccelChoice = Accel | "auto";
export const ACCEL_CHOICES: readonly AccelChoice[] = ["auto", "kvm", "tcg"];

/** The --accel flag when given, else XDP_LAB_ACCEL, else auto; a bad value names where it came from. */
export function accelChoice(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): AccelChoice {
  const [value, from] = flag !== undefined ? [flag, "--accel"] : [env.XDP_LAB_ACCEL || "auto", "XDP_LAB_ACCEL"];
  if (!(ACCEL_CHOICES as readonly string[]).includes(value)) {
    throw new Error(`${from}=${JSON.stringify(value)} is not an accelerator. Fix: use ${ACCEL_CHOICES.join(", ")}${from === "XDP_LAB_ACCEL" ? " (or unset XDP_LAB_ACCEL)" : ""}`);
  }
  return value as AccelChoice;
}

/** What was chosen and why, in words for the user. */
export interface AccelDecision {
  accel: Accel;
  why: string;
  /** Set when auto needed a verdict on KVM: the probe's cost now (0 when remembered). */
  probe?: { remembered: boolean; seconds: number; verdict: KvmVerdict };
}

/** The outcome of one test boot under KVM. */
export interface KvmVerdict {
  usable: boolean;
  /** qemu's first error line, or what the guest did instead of getting ready. */
  reason: string;
  /** Seconds the test boot took. */
  seconds: number;
  probedAt: string;
}

export interface AccelOptions {
  /** A kernel and initramfs that print the ready marker (the build's own). */
  kernel: string;
  initrd: string;
  /** Where verdicts are remembered (the build cache's root). */
  cacheDir: string;
  /** Console log of the test boot. */
  log: string;
  qemu?: string;
  /** The KVM device. Default /dev/kvm. */
  device?: string;
  /** Seconds a test boot may take to get ready. A working KVM needs well under one. Default 15. */
  probeTimeout?: number;
}

const VERDICTS = "kvm-verdicts.json";

/** The machine a verdict holds for: the qemu binary and build, and the host kernel. */
export async function machineKey(qemu: string): Promise<string> {
  const r = await execa(qemu, ["--version"], { reject: false });
  let path = qemu;
  try {
    path = realpathSync(qemu);
  } catch {
    // a bare name found on PATH: its version line identifies it
  }
  const version = String(r.stdout).split("\n")[0] ?? "";
  return createHash("sha256").update(`${path}\n${version}\n${release()}`).digest("hex").slice(0, 16);
}

async function readVerdicts(cacheDir: string): Promise<Record<string, KvmVerdict>> {
  try {
    return JSON.parse(await readFile(join(cacheDir, VERDICTS), "utf8")) as Record<string, KvmVerdict>;
  } catch {
    return {};
  }
}

async function remember(cacheDir: string, key: string, v: KvmVerdict): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const all = { ...(await readVerdicts(cacheDir)), [key]: v };
  const tmp = join(cacheDir, `${VERDICTS}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(all, null, 2) + "\n");
  await rename(tmp, join(cacheDir, VERDICTS));
}

/** Boots the build once under KVM, running `true`: usable only if it got ready and finished. */
export async function probeKvm(o: AccelOptions): Promise<KvmVerdict> {
  const timeout = o.probeTimeout ?? 15;
  const started = performance.now();
  const done = (usable: boolean, reason: string): KvmVerdict => ({
    usable,
    reason,
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    probedAt: new Date().toISOString(),
  });
  try {
    await boot({
      vm: { ...DEFAULT_VM, kernel: o.kernel, initrd: o.initrd, accel: "kvm", command: "true" },
      qemu: o.qemu,
      log: o.log,
      readyTimeout: timeout,
    });
    return done(true, "a test boot under KVM reached the ready marker");
  } catch (e) {
    if (!(e instanceof BootError)) throw e;
    const qemuSaid = firstErrorLine(e.stderr);
    if (e.failure === "timeout") {
      const last = e.tail.filter((l) => l.trim()).pop();
      return done(false, `no ready marker within ${timeout} s${last ? `, last console line: ${JSON.stringify(last.trim())}` : ""}`);
    }
    return done(false, qemuSaid ?? e.message.split("\n")[0]!);
  }
}

/** Resolves a choice to an accelerator; auto probes KVM once per machine and says why it chose. */
export async function chooseAccel(choice: AccelChoice, o: AccelOptions): Promise<AccelDecision> {
  if (choice !== "auto") return { accel: choice, why: `${choice.toUpperCase()}, as asked` };
  const device = o.device ?? "/dev/kvm";
  if (detectAccel(device) === "tcg") return { accel: "tcg", why: `no usable ${device}: using TCG (software emulation)` };
  const qemu = o.qemu ?? qemuBinary();
  const key = await machineKey(qemu);
  const known = (await readVerdicts(o.cacheDir))[key];
  const started = performance.now();
  const verdict = known ?? (await probeKvm({ ...o, qemu }));
  if (!known) await remember(o.cacheDir, key, verdict);
  const probe = { remembered: !!known, seconds: known ? 0 : Number(((performance.now() - started) / 1000).toFixed(3)), verdict };
  const when = known ? ` (remembered from a probe on ${verdict.probedAt.slice(0, 10)}; delete ${join(o.cacheDir, VERDICTS)} to probe again)` : "";
  return verdict.usable
    ? { accel: "kvm", why: `KVM works here: ${verdict.reason}${when}`, probe }
    : { accel: "tcg", why: `KVM is present but unusable (${verdict.reason}): using TCG${when}`, probe };
}
