// The kernels the lab builds from Debian's source packages: `build --kernel 6.1|6.12|PATH`. Each
// version's tarball comes from its linux-source package; its build (the kernel, the module against
// it, the BPF objects against its vmlinux.h, the initramfs with that module) lands in out/ for the
// default version and in out/kernels/VERSION/ for the others, so each kernel's artifacts stay apart
// and `boot|up|test --kernel VERSION` find them. Where lab.config's options differ between versions,
// kernel/versions/VERSION.config says why (kernel/Makefile merges it after lab.config).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensure } from "./requirements.ts";

export interface BuiltKernel {
  /** The Debian source package and the tarball it installs. */
  package: string;
  tarball: string;
}

export const BUILT_KERNELS: Readonly<Record<string, BuiltKernel>> = {
  "6.1": { package: "linux-source-6.1", tarball: "/usr/src/linux-source-6.1.tar.xz" },
  // bookworm-security carries it (as Debian's LTS kernel for bookworm), and bookworm-backports too.
  "6.12": { package: "linux-source-6.12", tarball: "/usr/src/linux-source-6.12.tar.xz" },
};
export const BUILT_VERSIONS = Object.keys(BUILT_KERNELS);
/** Debian's prebuilt kernels (src/build/stock.ts STOCK_KERNELS, not imported: it pulls the archive tools in). */
const STOCK = ["debian-6.1", "debian-6.12"];
/** The version a plain `build` builds, published to out/ itself. */
export const DEFAULT_KERNEL = "6.1";

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
 * Makes VERSION's tarball present: installs its linux-source package when missing (root). apt
 * finds 6.12 in bookworm-security; a machine whose sources lack it gets bookworm-backports added.
 */
export async function ensureKernelSource(version: string, o: { install: boolean; log?: (l: string) => void }): Promise<void> {
  const k = BUILT_KERNELS[version]!;
  const req = [{ package: k.package, file: k.tarball }];
  const purpose = `building kernel ${version}`;
  try {
    await ensure(req, { install: o.install, purpose, log: o.log });
  } catch (error) {
    if (version === DEFAULT_KERNEL || !o.install || process.getuid?.() !== 0) throw error;
    const [{ ensureSuite }, { debianMirror }] = await Promise.all([import("../tools/apt-archive.ts"), import("./image.ts")]);
    if (!(await ensureSuite("bookworm-backports", debianMirror()))) throw error;
    o.log?.(`added Debian's bookworm-backports to apt's sources for ${k.package}`);
    await ensure(req, { install: true, purpose, log: o.log });
  }
}
