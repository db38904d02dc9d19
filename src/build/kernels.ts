// The kernels the lab builds from Debian's source packages: `build --kernel 6.1|6.12|PATH`. Each
// version's tarball comes from its linux-source package; its build (the kernel, the module against
// it, the BPF objects against its vmlinux.h, the initramfs with that module) lands in out/ for the
// default version and in out/kernels/VERSION/ for the others, so each kernel's artifacts stay apart
// and `boot|up|test --kernel VERSION` find them. Where lab.config's options differ between versions,
// kernel/versions/VERSION.config says why (kernel/Makefile merges it after lab.config).
//
// Only node:fs, node:path and the package list at load: lab-options.ts (every command's --help) takes the names from here.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_KERNEL, LINUX_SOURCES } from "./packages.ts";

export interface BuiltKernel {
  /** The Debian source package and the tarball it installs. */
  package: string;
  tarball: string;
}

export const BUILT_KERNELS: Readonly<Record<string, BuiltKernel>> = Object.fromEntries(Object.entries(LINUX_SOURCES).map(([v, r]) => [v, { package: r.package, tarball: r.file }]));
export const BUILT_VERSIONS = Object.keys(BUILT_KERNELS);

/** The stock kernels (src/build/stock.ts): Debian's cloud kernel metapackage, from the suite that has each series. */
export const STOCK_KERNELS = {
  "debian-6.1": { series: "6.1", suite: "bookworm", backports: false },
  "debian-6.12": { series: "6.12", suite: "bookworm-backports", backports: true },
} as const;
export type StockKernel = keyof typeof STOCK_KERNELS;
export const STOCK_NAMES = Object.keys(STOCK_KERNELS) as StockKernel[];
const STOCK: readonly string[] = STOCK_NAMES;

/** Every --kernel a lab can boot: the build's own (out/bzImage), a built version, a stock kernel. */
export const KERNEL_CHOICES = ["built", ...BUILT_VERSIONS, ...STOCK_NAMES];
export { DEFAULT_KERNEL };

/** A version's build in OUT: out/ itself for the default version, out/kernels/VERSION/ for another. */
export function builtKernelOut(out: string, version: string): string {
  return version === DEFAULT_KERNEL ? out : join(out, "kernels", version);
}

/** The version whose tarball SRC is, if it is one of them. */
export function versionOfSource(src: string): string | undefined {
  return BUILT_VERSIONS.find((v) => BUILT_KERNELS[v]!.tarball === src);
}

/**
 * build's --kernel: a version (6.1, 6.12), a stock kernel (debian-6.12: the other stages built
 * against it, no compile) or a source tree or tarball (as --kernel-src takes). Returns the source
 * and, for a version, its name; bad input names the choices.
 */
export function parseBuildKernel(value: string, resolvePath: (p: string) => string): { version?: string; kernelSrc: string } | { stock: string } {
  if (BUILT_KERNELS[value]) return { version: value, kernelSrc: BUILT_KERNELS[value]!.tarball };
  if (STOCK.includes(value)) return { stock: value };
  if (/^\d+\.\d+$/.test(value) || /^debian-/.test(value)) {
    throw new Error(`--kernel ${value}: not a kernel this lab builds. Fix: give ${BUILT_VERSIONS.join(" or ")} (Debian's linux-source packages, compiled), ${STOCK.join(" or ")} (Debian's prebuilt kernel, no compile), or the path of a kernel tree or tarball`);
  }
  const kernelSrc = resolvePath(value);
  if (!existsSync(kernelSrc)) throw new Error(`--kernel ${value}: no such kernel version or source path. Fix: give ${BUILT_VERSIONS.join(" or ")}, or the path of a kernel tree or tarball`);
  return { kernelSrc };
}

/**
 * Makes VERSION's tarball present, at the lock's version wherever Debian's archive still has it
 * (root): a missing package is installed at that version, and one installed at another version is
 * replaced by it, since the tarball is the kernel's source and the lock says which source CI and the
 * build image compile. When the archive no longer has the locked version the build goes on with
 * what it has and says so. apt finds 6.12 in bookworm-security; a machine whose sources lack it
 * gets bookworm-backports added.
 */
export async function ensureKernelSource(version: string, o: { install: boolean; log?: (l: string) => void; lockPath?: string }): Promise<void> {
  const [{ ensure }, { readLock, LOCK_PATH }] = await Promise.all([import("../tools/ensure.ts"), import("./lock.ts")]);
  const k = BUILT_KERNELS[version]!;
  const lockPath = o.lockPath ?? LOCK_PATH;
  const locked = readLock(lockPath)[k.package];
  const versions = locked ? { [k.package]: locked } : undefined;
  const req = [{ package: k.package, file: k.tarball }];
  const purpose = `building kernel ${version}`;
  try {
    await ensure(req, { install: o.install, purpose, log: o.log, versions });
  } catch (error) {
    if (version === DEFAULT_KERNEL || !o.install || process.getuid?.() !== 0) throw error;
    const [{ ensureSuite }, { debianMirror }] = await Promise.all([import("../tools/apt-archive.ts"), import("./image.ts")]);
    if (!(await ensureSuite("bookworm-backports", debianMirror()))) throw error;
    o.log?.(`added Debian's bookworm-backports to apt's sources for ${k.package}`);
    await ensure(req, { install: true, purpose, log: o.log, versions });
  }
  if (locked) await alignToLock(k.package, locked, lockPath, o);
}

/** What alignToLock asks of dpkg and apt; tests pass their own. */
export interface PackageOps {
  /** The installed version of PKG, or undefined. */
  installed(pkg: string): Promise<string | undefined>;
  /** Install exactly PKG=VERSION (a downgrade too); throws when the archive has no such version. */
  installExact(pkg: string, version: string): Promise<void>;
  /** The version apt would install now, or undefined. */
  candidate(pkg: string): Promise<string | undefined>;
}

const systemPackages: PackageOps = {
  installed: async (pkg) => (await (await import("../tools/dpkg.ts")).packageVersions([pkg]))[0]?.split("=")[1],
  installExact: async (pkg, version) => (await import("../tools/apt.ts")).aptInstallExact([`${pkg}=${version}`]),
  candidate: async (pkg) => (await (await import("../tools/apt.ts")).candidateVersions([pkg]))[0]?.split("=")[1],
};

/**
 * The installed PKG replaced by its LOCKED version when the archive has it; otherwise said, with
 * what is built instead. Off root, or with --no-install, nothing is installed: it is said.
 */
export async function alignToLock(
  pkg: string,
  locked: string,
  lockPath: string,
  o: { install: boolean; log?: (l: string) => void; root?: boolean; packages?: PackageOps },
): Promise<void> {
  const ops = o.packages ?? systemPackages;
  const installed = await ops.installed(pkg);
  if (installed === locked) return;
  const mismatch = `${pkg} ${installed ?? "(not installed)"} is installed, the lock ${lockPath} names ${locked}`;
  if (!o.install || !(o.root ?? process.getuid?.() === 0)) {
    o.log?.(`${mismatch}: building ${installed}; its artifacts will differ from the lock's build. Fix: run as root without --no-install, or apt-get install ${pkg}=${locked}`);
    return;
  }
  try {
    await ops.installExact(pkg, locked);
    o.log?.(`${mismatch}: installed ${pkg}=${locked}`);
  } catch (error) {
    const now = (await ops.candidate(pkg)) ?? "none";
    o.log?.(`${mismatch}, and Debian's archive no longer has it (archive now: ${now}): building ${installed}; its artifacts will differ from the lock's build. Fix: ./xdp-lab lock --update, or cache import the lock's image (${(error as Error).message.split("\n")[0]})`);
  }
}
