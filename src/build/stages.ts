// The stage table: what each build stage runs, from which inputs, producing which outputs.
// The host executor runs it as is and the Dagger module maps it onto containers, so everything a
// stage does lives in its command (a make target in the stage's folder), never in the executor.
import { existsSync, readdirSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { APP_TOOLCHAIN, BPF_TOOLCHAIN, DEFAULT_KERNEL, KERNEL_TOOLCHAIN, LINUX_SOURCES, ROOTFS_CONTENT, type Requirement } from "./packages.ts";
import { REPO } from "../paths.ts";
import { kernelSourceIdentity, sha256, type HashMemo } from "./hash.ts";

export const STAGE_NAMES = ["kernel", "kmod", "bpf", "app", "rootfs"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Where a stage runs; the executor fills these in (the cache key sees placeholders instead). */
export interface StagePaths {
  /** Checkout root; commands run there. */
  repo: string;
  /** Empty directory the stage writes its outputs to. */
  out: string;
  /** Persistent scratch directory for incremental builds (kernel object tree). */
  work: string;
  /** ccache directory. */
  ccache: string;
  /** Output directory of each upstream stage. */
  upstream: Partial<Record<StageName, string>>;
}

/** User choices that change what a stage builds. */
export interface StageParams {
  /** Kernel source: a tree or a tarball. Default: Debian's linux-source-6.1. */
  kernelSrc: string;
  /** Extra Kconfig fragments merged after kernel/lab.config. */
  kconfig: string[];
}

export const DEFAULT_KERNEL_SRC = LINUX_SOURCES[DEFAULT_KERNEL]!.file;

export const DEFAULT_PARAMS: StageParams = { kernelSrc: DEFAULT_KERNEL_SRC, kconfig: [] };

/** Exactly what runs: argv and the environment it adds, with cwd = the checkout root. */
export interface StageCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface Stage {
  name: StageName;
  description: string;
  /** Upstream stages whose outputs this one reads. */
  needs: StageName[];
  /** Checkout-relative files and folders whose content is part of the cache key. */
  inputs: string[];
  /** Programs and files the command needs, with their Debian packages. */
  requires: Requirement[];
  /** Commands whose first output line names a toolchain version that is part of the cache key. */
  toolchain: string[][];
  /** Files the stage leaves in `out` that are published to out/ and listed in the manifest. */
  artifacts: string[];
  /** Whether the stage keeps a persistent work directory between builds. */
  incremental: boolean;
  /** Lines of the command's output that count as one unit of progress (a compiled file). */
  progress?: RegExp;
  /**
   * Key material from the user's choices (content, not paths). For incremental stages it also picks
   * the work tree, computed without the extra fragments so a config change builds incrementally.
   */
  identity?(params: StageParams, memo: HashMemo): Promise<Record<string, string>>;
  /** Checks the user's choices before anything runs; throws naming the flag and the fix. */
  validate?(params: StageParams): Promise<void>;
  command(paths: StagePaths, params: StageParams, sourceDateEpoch: number): StageCommand;
}

/** `make -C <folder> VAR=value...` with the reproducible timestamp: how every stage runs. */
function make(folder: StageName, vars: Record<string, string>, sde: number, env: Record<string, string> = {}): StageCommand {
  return {
    file: "make",
    args: ["-C", folder, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)],
    env: { SOURCE_DATE_EPOCH: String(sde), ...env },
  };
}

/** Files in stage folders that are build products, not inputs. */
export function isBuildProduct(rel: string): boolean {
  return /(^|\/)(out|\.work)(\/|$)/.test(rel);
}

export const STAGES: readonly Stage[] = [
  {
    name: "kernel",
    description: "guest kernel (bzImage) from tinyconfig + kernel/lab.config, and vmlinux.h from its BTF",
    needs: [],
    inputs: ["kernel"],
    requires: KERNEL_TOOLCHAIN,
    toolchain: [
      ["gcc", "--version"],
      ["ld", "--version"],
      ["make", "--version"],
      ["pahole", "--version"],
      ["bpftool", "version"],
    ],
    artifacts: ["bzImage", "kernel.config", "kernel-config.report", "vmlinux.h"],
    incremental: true,
    progress: /^\s+(CC|AS)\s/,
    validate: checkKernelParams,
    identity: async (params, memo) => {
      const id: Record<string, string> = { source: await kernelSourceIdentity(params.kernelSrc, memo) };
      for (const [i, f] of params.kconfig.entries()) id[`kconfig:${i}`] = sha256(await readFile(f));
      return id;
    },
    command: (p, params, sde) =>
      make("kernel", { KSRC: params.kernelSrc, WORK: p.work, OUT: p.out, EXTRA_CONFIG: params.kconfig.join(" ") }, sde, {
        CCACHE_DIR: p.ccache,
      }),
  },
  {
    name: "kmod",
    description: "xdp_lab_echo.ko: generic netlink echo module, built out of tree against the kernel stage",
    needs: ["kernel"],
    inputs: ["kmod"],
    requires: KERNEL_TOOLCHAIN,
    toolchain: [["gcc", "--version"]],
    artifacts: ["xdp_lab_echo.ko"],
    incremental: false,
    command: (p, _params, sde) => make("kmod", { KDIR: `${p.upstream.kernel}/kbuild`, OUT: p.out, WORK: p.work }, sde),
  },
  {
    name: "bpf",
    description: "BPF programs: one bpf/<name>.bpf.c each, compiled to <name>.bpf.o with BTF; CO-RE ones against the kernel stage's vmlinux.h",
    needs: ["kernel"],
    inputs: ["bpf"],
    requires: BPF_TOOLCHAIN,
    toolchain: [["clang", "--version"]],
    artifacts: bpfPrograms().map((p) => `${p}.bpf.o`),
    incremental: false,
    command: (p, _params, sde) => make("bpf", { OUT: p.out, VMLINUX_H: `${p.upstream.kernel}/vmlinux.h` }, sde),
  },
  {
    name: "app",
    description: "xdp-lab-app: the in-VM loader and event loop, linked statically",
    needs: [],
    // The headers it shares with the programs and the module are inputs too.
    inputs: ["app", "bpf/xdp_lab.h", "kmod/xdp_lab_echo.h"],
    requires: APP_TOOLCHAIN,
    toolchain: [["gcc", "--version"]],
    artifacts: ["xdp-lab-app", "flood-guard.lua"],
    incremental: false,
    command: (p, _params, sde) => make("app", { OUT: p.out }, sde),
  },
  {
    name: "rootfs",
    description: "initramfs (initramfs.img, LZ4 inside): busybox, iproute2 with tc, bpftool, xdp-tools, tcpdump, nft, dropbear, the BPF programs and module",
    needs: ["bpf", "kmod", "app"],
    inputs: ["rootfs"],
    requires: ROOTFS_CONTENT,
    toolchain: [],
    artifacts: ["initramfs.img"],
    incremental: false,
    command: (p, _params, sde) =>
      make("rootfs", { OUT: p.out, BPF: p.upstream.bpf ?? "", KMOD: p.upstream.kmod ?? "", APP: p.upstream.app ?? "" }, sde),
  },
];

/** The BPF programs in bpf/: each <name>.bpf.c is one program, built by the `bpf` stage. */
export function bpfPrograms(dir = join(REPO, "bpf")): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".bpf.c"))
    .map((f) => f.slice(0, -".bpf.c".length))
    .sort();
}

export function stage(name: StageName, table: readonly Stage[] = STAGES): Stage {
  const s = table.find((x) => x.name === name);
  if (!s) throw new Error(`Unknown stage ${name}: choose one of ${STAGE_NAMES.join(", ")}`);
  return s;
}

/** The stages to run for a request, upstream first: each requested stage and all it needs. */
export function plan(requested: readonly StageName[] = STAGE_NAMES, table: readonly Stage[] = STAGES): Stage[] {
  const order: Stage[] = [];
  const visit = (name: StageName, path: StageName[]): void => {
    if (order.some((s) => s.name === name)) return;
    if (path.includes(name)) throw new Error(`Stage cycle: ${[...path, name].join(" -> ")}`);
    const s = stage(name, table);
    for (const dep of s.needs) visit(dep, [...path, name]);
    order.push(s);
  };
  for (const name of requested) visit(name, []);
  return order;
}

async function checkKernelParams(params: StageParams): Promise<void> {
  const st = await stat(params.kernelSrc).catch(() => undefined);
  if (!st) {
    throw new Error(
      `Kernel source ${params.kernelSrc} does not exist. Fix: pass --kernel-src with a kernel tree or tarball` +
        (params.kernelSrc === DEFAULT_KERNEL_SRC ? `, or install it: apt-get install ${LINUX_SOURCES[DEFAULT_KERNEL]!.package}` : ""),
    );
  }
  if (st.isDirectory() && !["Makefile", "Kconfig", "arch/x86"].every((f) => existsSync(join(params.kernelSrc, f)))) {
    throw new Error(
      `Kernel source ${params.kernelSrc} is not a kernel tree (no Makefile, Kconfig or arch/x86). Fix: pass the top directory of a Linux source tree, or a tarball of one, to --kernel-src`,
    );
  }
  for (const f of params.kconfig) {
    if (!existsSync(f)) throw new Error(`Kconfig fragment ${f} does not exist. Fix: pass an existing file to --kconfig`);
  }
}
