// What `build --kernel K` builds, for `build` and `demo` alike: a built version's source made
// present, or a stock kernel fetched standing for the kernel and kmod stages. Apart from kernels.ts,
// which every command's --help loads, so that kernels.ts stays a leaf.
import type { BuildOptions } from "./executor.ts";
import { builtKernelOut, ensureKernelSource, type parseBuildKernel, type StockKernel } from "./kernels.ts";
import { DEFAULT_KERNEL_SRC } from "./stages.ts";
import { stockStages } from "./stock.ts";

/** What a build for one kernel is: where it goes, its source, the version recorded, and for a stock kernel the stages it stands for. */
export interface KernelBuild {
  version?: string;
  kernelSrc: string;
  out: string;
  provided?: BuildOptions["provided"];
}

/**
 * What `build --kernel K` builds (K parsed by parseBuildKernel), for `build` and `demo` alike: a
 * version other than the default into OUT/kernels/VERSION/ with its source installed when missing;
 * a stock kernel fetched, standing for the kernel and kmod stages (build into OUT, no compile); a
 * path into OUT.
 */
export async function kernelBuild(
  k: ReturnType<typeof parseBuildKernel>,
  out: string,
  o: { install: boolean; log?: (l: string) => void; container?: boolean; kconfig?: boolean; lockPath?: string },
): Promise<KernelBuild> {
  if ("stock" in k) {
    if (o.container) throw new Error(`build --container --kernel ${k.stock}: a stock kernel's build is not done in containers. Fix: build on the host (./xdp-lab build --kernel ${k.stock})`);
    if (o.kconfig) throw new Error(`--kconfig with --kernel ${k.stock}: Debian's prebuilt kernel has its own config. Fix: drop --kconfig, or build a kernel (--kernel 6.1 or 6.12)`);
    const { provided } = await stockStages(k.stock as StockKernel, out, { log: o.log });
    return { version: k.stock, kernelSrc: DEFAULT_KERNEL_SRC, out, provided };
  }
  if (!k.version) return { kernelSrc: k.kernelSrc, out };
  if (!o.container) await ensureKernelSource(k.version, { install: o.install, log: o.log, lockPath: o.lockPath });
  return { version: k.version, kernelSrc: k.kernelSrc, out: builtKernelOut(out, k.version) };
}
