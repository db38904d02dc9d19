// What booting a build needs from it: its kernel and initramfs (one check, one message for `up`,
// `boot` and `demo`), and the accelerator to boot them under.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_OUT } from "./paths.ts";
import { BUILT_KERNELS, builtKernelOut } from "./build/kernels.ts";
import type { AccelDecision } from "../network/vm/accel.ts";
import { features, HOST_ROOT_FEATURE, parseConfig, SHARES_FEATURE } from "./build/stock-features.ts";

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
export async function accelFor(flag: string | undefined, out: string, env: NodeJS.ProcessEnv = process.env, boot?: { kernel: string; initrd: string }): Promise<AccelDecision> {
  const [{ accelChoice, chooseAccel }, { defaultCacheDir }] = await Promise.all([import("../network/vm/accel.ts"), import("./build/cache.ts")]);
  return chooseAccel(accelChoice(flag, env), {
    device: env.XDP_LAB_KVM_DEVICE || undefined,
    kernel: boot?.kernel ?? join(out, "bzImage"),
    initrd: boot?.initrd ?? join(out, "initramfs.img"),
    cacheDir: defaultCacheDir(env),
    log: join(out, "logs", "kvm-probe.log"),
  });
}

/** The kernel a lab or boot runs, and the files to boot it with. */
export interface BootKernel {
  /** built (the lab's own, out/bzImage) or a stock kernel's name (debian-6.12). */
  name: string;
  kernel: string;
  /** The initramfs the lab appends its overlay to: out/initramfs.img, with a stock kernel's modules after it. */
  initrd: string;
  /** uname -r, from the image's boot header. */
  release?: string;
  /** A stock kernel's Debian package version. */
  version?: string;
  /** CPU features the VM must not offer under TCG for this kernel (qemu.ts TCG_STOCK_CPU_OFF). */
  cpuOff?: string[];
  /** A stock kernel's lab features, as its config has them (stock.ts FEATURES). */
  features?: import("./build/stock.ts").Feature[];
}

/**
 * Throws unless OUT holds what booting CHOICE needs, naming the command that makes it: the lab's
 * kernel and initramfs (built), a version's build in out/kernels/VERSION/, or for a stock kernel a
 * rootfs (any build in OUT: the lab's, or one made against that kernel by build --kernel NAME).
 */
export function checkBootable(out: string, choice: string | undefined): void {
  const o = out === DEFAULT_OUT ? "" : ` --out ${out}`;
  if (choice === undefined || choice === "built") {
    artifacts(out);
  } else if (/^debian-/.test(choice)) {
    if (!existsSync(join(out, "initramfs.img"))) throw new Error(`No build to boot ${choice} with: ${join(out, "initramfs.img")} missing. Fix: run ./xdp-lab build --kernel ${choice}${o} first (no kernel compiled)`);
  } else {
    const dir = builtKernelOut(out, choice);
    const absent = ["bzImage", "initramfs.img"].map((f) => join(dir, f)).filter((f) => !existsSync(f));
    if (absent.length > 0) throw new Error(`No build of kernel ${choice} to boot: ${absent.join(" and ")} missing. Fix: run ./xdp-lab build --kernel ${choice}${o} first`);
  }
}

/** --guest-root host needs 9p and overlayfs in the kernel: its CONFIG (kernel.config beside it) is read; a build from before they were in lab.config is refused, naming BUILD. */
function checkHostRoot(config: string, build: string): void {
  if (!existsSync(config)) return;
  const missing = features(parseConfig(readFileSync(config, "utf8"))).find((f) => f.feature === HOST_ROOT_FEATURE)?.missing ?? [];
  if (missing.length) throw new Error(`--guest-root host: the kernel of ${config} is built without ${missing.join(", ")}. Fix: rebuild it with the lab's options (${build}), or leave --guest-root out`);
}

/** A kernel version the lab built (build --kernel VERSION): its build in DIR, checked to be that version. */
function builtVersion(out: string, version: string, dir: string, release: (f: string) => string | undefined): BootKernel {
  checkBootable(out, version);
  const kernel = join(dir, "bzImage");
  const initrd = join(dir, "initramfs.img");
  const build = `./xdp-lab build --kernel ${version}${out === DEFAULT_OUT ? "" : ` --out ${out}`}`;
  const r = release(kernel);
  if (r !== undefined && !r.startsWith(`${version}.`)) {
    throw new Error(`--kernel ${version}: ${kernel} is Linux ${r}, not ${version} (built from another --kernel-src). Fix: run ${build}, or boot it as --kernel built`);
  }
  return { name: version, kernel, initrd, release: r };
}

/**
 * The kernel to boot OUT's build with: CHOICE built (or unset) is out/bzImage; debian-6.1 or
 * debian-6.12 is Debian's cloud kernel, fetched into the cache and out/kernels/ when missing. A
 * stock kernel without 9p refuses SHARES, saying so.
 */
export async function bootKernel(out: string, choice: string | undefined, o: { shares?: unknown[]; guestRoot?: string; log?: (l: string) => void } = {}): Promise<BootKernel> {
  const { bzImageRelease } = await import("../network/vm/kernel-image.ts");
  if (choice !== undefined && BUILT_KERNELS[choice]) {
    const dir = builtKernelOut(out, choice);
    const k = builtVersion(out, choice, dir, bzImageRelease);
    if (o.guestRoot === "host") checkHostRoot(join(dir, "kernel.config"), `./xdp-lab build --kernel ${choice}`);
    return k;
  }
  if (choice === undefined || choice === "built") {
    const files = artifacts(out);
    if (o.guestRoot === "host") checkHostRoot(join(out, "kernel.config"), "./xdp-lab build");
    return { name: "built", ...files, release: bzImageRelease(files.kernel) };
  }
  const stock = await import("./build/stock.ts");
  const name = stock.stockKernel(choice);
  checkBootable(out, name);
  const m = await stock.ensureStockKernel(name, out, { log: o.log });
  const nine = m.features.find((f) => f.feature === SHARES_FEATURE);
  if (o.shares?.length && nine && !nine.holds) {
    throw new Error(`--share with --kernel ${name}: Debian's ${m.package} is built without 9p (${nine.missing.join(", ")} not set), so the guest cannot mount shared folders. Fix: leave --share out and copy files in with ./xdp-lab cp, or use the lab's built kernel (no --kernel)`);
  }
  const root = m.features.find((f) => f.feature === HOST_ROOT_FEATURE);
  if (o.guestRoot === "host" && root && !root.holds) {
    throw new Error(
      `--guest-root host with --kernel ${name}: Debian's ${m.package} is built without ${root.missing.join(", ")}, so the guest cannot mount this machine's root over 9p (its virtiofs would need virtiofsd, which Debian bookworm does not ship). Fix: use the lab's built kernel (--kernel 6.1 or 6.12, or no --kernel), or leave --guest-root out`,
    );
  }
  const dir = stock.stockDir(out, name);
  const { TCG_STOCK_CPU_OFF } = await import("../network/vm/qemu.ts");
  return { name, kernel: join(dir, stock.STOCK_FILES.kernel), initrd: await stock.stockInitrd(out, name), release: m.release, version: m.version, features: m.features, cpuOff: TCG_STOCK_CPU_OFF };
}
