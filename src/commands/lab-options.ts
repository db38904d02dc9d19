// Options the lab and boot commands share.
import { join } from "node:path";
import type { Argv } from "yargs";
import { DEFAULT_LAB, validateName } from "../../network/plan.ts";
import type { AccelDecision } from "../../network/vm/accel.ts";
import { existsSync, statSync } from "node:fs";
import { DEFAULT_VM, parseShare, type Share } from "../../network/vm/qemu.ts";
import { DEFAULT_OUT } from "../paths.ts";

export function withName<T>(y: Argv<T>) {
  return y.option("name", {
    alias: "n",
    type: "string",
    default: DEFAULT_LAB,
    describe: "which lab (several can run side by side)",
    coerce: (n: string) => validateName(n),
  });
}

/** A whole number from MIN to MAX for FLAG, or an error naming the flag, the range and an example. */
export function wholeNumber(flag: string, min: number, max: number, example: number): (v: unknown) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`--${flag} ${String(v)}: must be a whole number from ${min} to ${max}. Fix: e.g. --${flag} ${example}`);
    }
    return n;
  };
}

/**
 * --memory MiB and --cpus N of the guest. Its files live in RAM (the initramfs), so --memory also
 * bounds what `cp` can put into the VM: about half of it.
 */
export function withMachine<T>(y: Argv<T>) {
  return y
    // No `type: "number"`: yargs would turn "lots" into NaN before the check could name it.
    .option("memory", {
      default: DEFAULT_VM.memoryMiB,
      describe: "guest memory in MiB; the guest's files live in RAM, in about half of it",
      coerce: wholeNumber("memory", 128, 1 << 20, 1024),
    })
    .option("cpus", { default: DEFAULT_VM.cpus, describe: "virtual CPUs", coerce: wholeNumber("cpus", 1, 64, 2) });
}

/** `--share HOST[:GUEST][:ro]`, checked: HOST must be a directory. */
export function checkShare(arg: string): Share {
  const share = parseShare(arg);
  if (!statSync(share.host, { throwIfNoEntry: false })?.isDirectory()) {
    throw new Error(`--share ${arg}: ${share.host} is not a directory on this machine. Fix: share an existing directory, e.g. --share "$PWD"`);
  }
  return share;
}

/** --share, repeatable: host directories the guest mounts over virtio 9p. */
export function withShare<T>(y: Argv<T>) {
  return y.option("share", {
    type: "string",
    array: true,
    default: [] as string[],
    describe: "mount a host directory in the VM over 9p: HOST[:GUEST][:ro]; GUEST defaults to the same path (repeatable)",
    coerce: (args: string[]): Share[] => args.map(checkShare),
  });
}

/** --accel auto|kvm|tcg; its default comes from XDP_LAB_ACCEL (see accelFor). */
export function withAccel<T>(y: Argv<T>) {
  return y.option("accel", {
    type: "string",
    choices: ["auto", "kvm", "tcg"],
    describe: "auto: KVM only if a test boot under it works (remembered per machine), else TCG",
    defaultDescription: "$XDP_LAB_ACCEL or auto",
  });
}

/** Checks that a build left a kernel and an initramfs in out/. */
export function artifacts(out: string): { kernel: string; initrd: string } {
  const kernel = join(out, "bzImage");
  const initrd = join(out, "initramfs.img");
  const absent = [kernel, initrd].filter((f) => !existsSync(f));
  if (absent.length > 0) {
    throw new Error(`No build to boot: ${absent.join(" and ")} missing. Fix: run ./xdp-lab build${out === DEFAULT_OUT ? "" : ` --out ${out}`} first`);
  }
  return { kernel, initrd };
}

/**
 * The accelerator for booting OUT's build; the probe's console log goes to OUT/logs/kvm-probe.log.
 * Callers check the build first (artifacts, requireBuild): probing KVM with no kernel would
 * remember it as unusable.
 * XDP_LAB_KVM_DEVICE stands in for /dev/kvm (tests force a machine with or without one).
 */
export async function accelFor(flag: string | undefined, out: string, env: NodeJS.ProcessEnv = process.env): Promise<AccelDecision> {
  const [{ accelChoice, chooseAccel }, { defaultCacheDir }] = await Promise.all([import("../../network/vm/accel.ts"), import("../build/cache.ts")]);
  return chooseAccel(accelChoice(flag, env), {
    device: env.XDP_LAB_KVM_DEVICE || undefined,
    kernel: join(out, "bzImage"),
    initrd: join(out, "initramfs.img"),
    cacheDir: defaultCacheDir(),
    log: join(out, "logs", "kvm-probe.log"),
  });
}
