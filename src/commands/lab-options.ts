// Options the lab and boot commands share.
import { join } from "node:path";
import type { Argv } from "yargs";
import { DEFAULT_LAB, validateName } from "../../network/plan.ts";
import type { AccelDecision } from "../../network/vm/accel.ts";

export function withName<T>(y: Argv<T>) {
  return y.option("name", {
    alias: "n",
    type: "string",
    default: DEFAULT_LAB,
    describe: "which lab (several can run side by side)",
    coerce: (n: string) => validateName(n),
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

/**
 * The accelerator for booting OUT's build; the probe's console log goes to OUT/logs/kvm-probe.log.
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
