// The Dagger build, as data: for each stage of the stage table (src/build/stages.ts), the steps a
// container takes to run exactly that stage's command. Pure, with no import of the Dagger SDK, so
// the tests record these steps and compare them with the host executor's command, and one small
// adapter (applySteps) replays them on a real dagger Container.
import { STAGES, DEFAULT_PARAMS, type Stage, type StageName, type StagePaths } from "../../src/build/stages.ts";
import type { Manifest } from "../../src/build/manifest.ts";

/**
 * Debian bookworm pinned by digest. The digest is the one pinned for `debian:bookworm` in public
 * Dockerfiles found with this project's code search (2026-11-23); no container engine runs on this
 * project's machines, so it was not pulled here. Refresh it with
 * `docker buildx imagetools inspect debian:bookworm` and keep the tag for readers.
 */
export const BASE_IMAGE = "debian:bookworm@sha256:8a8cd02c5912770b4980228a54d4aff9e4f986f1eb2525d2d371dec5232cefcc";

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

/** Named cache volumes: the kernel object tree and ccache survive between runs. */
export const CACHE_VOLUMES = {
  ccache: "xdp-lab-ccache",
  work: (s: StageName): string => `xdp-lab-${s}-work`,
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
 * environment) exactly as the stage table gives it to the host executor.
 */
export function stageSteps(stage: Stage, sourceDateEpoch: number): Step[] {
  const cmd = stage.command(containerPaths(stage), DEFAULT_PARAMS, sourceDateEpoch);
  return [
    { op: "directory", path: CONTAINER.src, from: "source" },
    ...stage.needs.map((n): Step => ({ op: "directory", path: CONTAINER.upstream(n), from: n })),
    { op: "directory", path: CONTAINER.out, from: "empty" },
    stage.incremental ? { op: "cache", path: CONTAINER.work, volume: CACHE_VOLUMES.work(stage.name) } : { op: "directory", path: CONTAINER.work, from: "empty" },
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

/** Each stage's SOURCE_DATE_EPOCH from `xdp-lab epochs` (JSON); a stage not named gets 0. */
export function parseEpochs(json: string): Record<StageName, number> {
  let given: unknown;
  try {
    given = JSON.parse(json || "{}");
  } catch (error) {
    throw new Error(`--epochs is not JSON (${(error as Error).message}). Fix: pass --epochs="$(./xdp-lab epochs)"`, { cause: error });
  }
  if (typeof given !== "object" || given === null || Array.isArray(given)) throw new Error('--epochs must be a JSON object like {"kernel": 1700000000}. Fix: pass --epochs="$(./xdp-lab epochs)"');
  const epochs = Object.fromEntries(STAGES.map((s) => [s.name, 0])) as Record<StageName, number>;
  for (const [k, v] of Object.entries(given)) {
    if (!(k in epochs)) throw new Error(`--epochs names an unknown stage "${k}". Fix: use the stages of ./xdp-lab epochs: ${STAGES.map((s) => s.name).join(", ")}`);
    if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`--epochs: ${k} must be a whole number of seconds, not ${JSON.stringify(v)}`);
    epochs[k as StageName] = v as number;
  }
  return epochs;
}

/** The artifacts `build` publishes, in out/'s layout: each stage's, as the host executor publishes them. */
export function publishedArtifacts(): { name: string; stage: StageName }[] {
  return STAGES.flatMap((s) => s.artifacts.map((name) => ({ name, stage: s.name })));
}

/** Prints "sha256 bytes name" for each file of the current directory; parsed by manifestFromListing. */
export const LISTING_SCRIPT = 'for f in *; do printf "%s %s %s\\n" "$(sha256sum <"$f" | cut -d" " -f1)" "$(stat -c %s "$f")" "$f"; done';

/**
 * out/manifest.json of a Dagger build: the artifacts as the host executor lists them (what
 * `xdp-lab build --verify` compares); stage records say which executor and image built them.
 */
export function manifestFromListing(listing: string, epochs: Record<StageName, number>): Manifest {
  const stageOf = new Map(publishedArtifacts().map((a) => [a.name, a.stage]));
  const artifacts: Manifest["artifacts"] = {};
  const rows = listing.split("\n").filter(Boolean).map((l) => l.split(" "));
  for (const [sha256, bytes, name] of rows.sort((a, b) => a[2]!.localeCompare(b[2]!))) {
    const stage = stageOf.get(name!);
    if (!stage) continue;
    artifacts[name!] = { sha256: sha256!, bytes: Number(bytes), stage };
  }
  const missing = [...stageOf.keys()].filter((n) => !(n in artifacts));
  if (missing.length) throw new Error(`The Dagger build lacks ${missing.join(", ")}`);
  const stages: Manifest["stages"] = {};
  for (const s of STAGES) {
    stages[s.name] = { key: `dagger:${s.name}`, sourceDateEpoch: epochs[s.name], inputs: {}, identity: { executor: "dagger", image: BASE_IMAGE } };
  }
  return { schema: 1, artifacts, stages };
}
