// The steps a container takes to run one stage of the stage table: its inputs mounted, then exactly
// the command the host executor runs. Pure data, shared by the two container adapters: the Dagger
// module (dagger/src/index.ts) and `xdp-lab build --container` (src/build/container.ts, podman).
import { DEFAULT_KERNEL, LINUX_SOURCES } from "./packages.ts";
import { DEFAULT_PARAMS, type Stage, type StageName, type StagePaths } from "./stages.ts";

/** Where things live inside the build containers (the host executor's paths, mapped). */
export const CONTAINER = {
  /** The checkout: every stage command runs here, as on the host. */
  src: "/src",
  /** The stage's (empty) output directory. */
  out: "/out",
  /** Persistent work tree (incremental stages) or an empty scratch directory. */
  work: "/work",
  ccache: "/ccache",
  upstream: (s: StageName): string => `/in/${s}`,
} as const;

/** Named cache volumes: the kernel object tree (one per kernel version) and ccache survive between runs. */
export const CACHE_VOLUMES = {
  ccache: "xdp-lab-ccache",
  work: (s: StageName, kernel = DEFAULT_KERNEL): string => (kernel === DEFAULT_KERNEL ? `xdp-lab-${s}-work` : `xdp-lab-${s}-${kernel}-work`),
  aptArchives: "xdp-lab-apt-archives",
  aptLists: "xdp-lab-apt-lists",
} as const;

/** The host executor's paths, as the containers see them. */
export function containerPaths(stage: Stage): StagePaths {
  return {
    repo: CONTAINER.src,
    out: CONTAINER.out,
    work: CONTAINER.work,
    ccache: CONTAINER.ccache,
    upstream: Object.fromEntries(stage.needs.map((n) => [n, CONTAINER.upstream(n)])),
  };
}

export type Step =
  | { op: "directory"; path: string; from: "source" | "empty" | StageName }
  | { op: "cache"; path: string; volume: string }
  | { op: "workdir"; path: string }
  | { op: "env"; name: string; value: string }
  | { op: "exec"; args: string[] };

/**
 * The steps that run STAGE in a toolchain container: its inputs mounted, then its command (argv and
 * environment) exactly as the stage table gives it to the host executor. KERNEL is the version
 * built (packages.ts LINUX_SOURCES): its locked linux-source tarball is in the image, and its
 * kernel object tree has a volume of its own.
 */
export function stageSteps(stage: Stage, sourceDateEpoch: number, kernel = DEFAULT_KERNEL): Step[] {
  const source = LINUX_SOURCES[kernel];
  if (!source) throw new Error(`kernel ${kernel}: not a kernel the build containers hold. Fix: give ${Object.keys(LINUX_SOURCES).join(" or ")}`);
  const cmd = stage.command(containerPaths(stage), { ...DEFAULT_PARAMS, kernelSrc: source.file }, sourceDateEpoch);
  return [
    { op: "directory", path: CONTAINER.src, from: "source" },
    ...stage.needs.map((n): Step => ({ op: "directory", path: CONTAINER.upstream(n), from: n })),
    { op: "directory", path: CONTAINER.out, from: "empty" },
    stage.incremental ? { op: "cache", path: CONTAINER.work, volume: CACHE_VOLUMES.work(stage.name, kernel) } : { op: "directory", path: CONTAINER.work, from: "empty" },
    { op: "cache", path: CONTAINER.ccache, volume: CACHE_VOLUMES.ccache },
    { op: "workdir", path: CONTAINER.src },
    ...Object.entries(cmd.env).map(([name, value]): Step => ({ op: "env", name, value })),
    { op: "exec", args: [cmd.file, ...cmd.args] },
  ];
}

/** What applySteps needs of a container: the few methods of dagger's Container it calls. */
export interface ContainerLike<D, V> {
  withDirectory(path: string, directory: D): ContainerLike<D, V>;
  withMountedCache(path: string, cache: V): ContainerLike<D, V>;
  withWorkdir(path: string): ContainerLike<D, V>;
  withEnvVariable(name: string, value: string): ContainerLike<D, V>;
  withExec(args: string[]): ContainerLike<D, V>;
}

/** Where the steps' directories and caches come from. */
export interface StepInputs<D, V> {
  source: D;
  empty: D;
  upstream(stage: StageName): D;
  cache(volume: string): V;
}

/** Replays the steps on a container (dagger's, or a recording fake in the tests). */
export function applySteps<D, V, C extends ContainerLike<D, V>>(container: C, steps: Step[], inputs: StepInputs<D, V>): C {
  let c: ContainerLike<D, V> = container;
  for (const s of steps) {
    switch (s.op) {
      case "directory":
        c = c.withDirectory(s.path, s.from === "source" ? inputs.source : s.from === "empty" ? inputs.empty : inputs.upstream(s.from));
        break;
      case "cache":
        c = c.withMountedCache(s.path, inputs.cache(s.volume));
        break;
      case "workdir":
        c = c.withWorkdir(s.path);
        break;
      case "env":
        c = c.withEnvVariable(s.name, s.value);
        break;
      case "exec":
        c = c.withExec(s.args);
        break;
    }
  }
  return c as C;
}
