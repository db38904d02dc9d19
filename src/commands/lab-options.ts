// Options the lab and boot commands share.
import type { Argv } from "yargs";
import { DEFAULT_LAB, validateName } from "../../network/plan.ts";
import { statSync } from "node:fs";
import { KERNEL_CHOICES } from "../build/kernels.ts";
import { DEFAULT_VM, parseShare, type Share, type VmOptions } from "../../network/vm/qemu.ts";
import { GUEST_ROOTS, type GuestRoot } from "../../network/contract.ts";

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
  return withGuestRoot(
    y
      // No `type: "number"`: yargs would turn "lots" into NaN before the check could name it.
      .option("memory", {
        default: DEFAULT_VM.memoryMiB,
        describe: "guest memory in MiB; the guest's files live in RAM, in about half of it",
        coerce: wholeNumber("memory", 128, 1 << 20, 1024),
      })
      .option("cpus", { default: DEFAULT_VM.cpus, describe: "virtual CPUs", coerce: wholeNumber("cpus", 1, 64, 2) }),
  );
}

/** --guest-root: up and boot (through withMachine) and test take it alike. */
export function withGuestRoot<T>(y: Argv<T>) {
  return y.option("guest-root", {
    type: "string",
    choices: GUEST_ROOTS,
    default: "initramfs" as GuestRoot,
    describe: "the guest's root file system: the lab's small initramfs, or host: this machine's own root, read-only over 9p under a writable overlay in the guest's RAM, so every tool installed here runs in the guest (the lab's configuration, app and module on top)",
  });
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

/** The guest's options as withMachine and withShare read them; the accelerator is decided apart (accelFor). */
export function vmOptions(argv: { memory: number; cpus: number; share: Share[]; append: string[]; guestRoot: string }): Omit<VmOptions, "accel"> {
  return { memoryMiB: argv.memory, cpus: argv.cpus, shares: argv.share, append: argv.append, guestRoot: argv.guestRoot as GuestRoot };
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

/** --kernel built|6.1|6.12|debian-6.1|debian-6.12: the lab's own kernel (a version of it), or Debian's prebuilt cloud kernel (no compile). */
export function withKernel<T>(y: Argv<T>) {
  return y.option("kernel", {
    type: "string",
    default: "built",
    choices: KERNEL_CHOICES,
    describe: "kernel to boot: built (out/bzImage, from ./xdp-lab build), 6.1 or 6.12 (the lab's kernel of that version, from ./xdp-lab build --kernel VERSION), or debian-6.1 / debian-6.12 (Debian's prebuilt cloud kernel, fetched from Debian's archive once, no compile)",
  });
}

export { accelFor, artifacts, bootKernel } from "../build-out.ts";
