// What booting a build needs from it: its kernel and initramfs (one check, one message for `up`,
// `boot` and `demo`), and the accelerator to boot them under.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_OUT } from "./paths.ts";
import type { AccelDecision } from "../network/vm/accel.ts";

/** Throws unless OUT holds a build to boot, naming what is missing and the fix; returns its files. */
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
 * The accelerator for booting OUT's build (FLAG: --accel, else XDP_LAB_ACCEL, else auto); the
 * probe's console log goes to OUT/logs/kvm-probe.log. Callers check the build first (artifacts):
 * probing KVM with no kernel would remember it as unusable.
 * XDP_LAB_KVM_DEVICE stands in for /dev/kvm (tests force a machine with or without one).
 */
export async function accelFor(flag: string | undefined, out: string, env: NodeJS.ProcessEnv = process.env): Promise<AccelDecision> {
  const [{ accelChoice, chooseAccel }, { defaultCacheDir }] = await Promise.all([import("../network/vm/accel.ts"), import("./build/cache.ts")]);
  return chooseAccel(accelChoice(flag, env), {
    device: env.XDP_LAB_KVM_DEVICE || undefined,
    kernel: join(out, "bzImage"),
    initrd: join(out, "initramfs.img"),
    cacheDir: defaultCacheDir(env),
    log: join(out, "logs", "kvm-probe.log"),
  });
}
