// The container adapter of `build --container`: replays a stage's steps (src/build/steps.ts, the
// ones the Dagger module replays) as one `podman run` (or `docker run`) command line.
import { join } from "node:path";
import { applySteps, CONTAINER, stageSteps, type ContainerLike, type StepInputs } from "./steps.ts";
import type { Stage, StageName } from "./stages.ts";
import { engineArgs, RUN_LIMITS, type Engine } from "../tools/podman.ts";

/** A directory for the container: a host path, bound read-only or not, or a fresh empty one. */
export type HostDir = { host: string; readOnly: boolean } | { empty: true };

/** Records the steps as `run` options: bind mounts, named volumes, working directory, environment, command. */
export class RunArgs implements ContainerLike<HostDir, string> {
  constructor(
    /** Where the empty directories a step asks for are made: `<scratch>/<basename>`. */
    private readonly scratch: string,
    readonly options: string[] = [],
    readonly command: string[] = [],
  ) {}
  private with(options: string[], command = this.command): RunArgs {
    return new RunArgs(this.scratch, [...this.options, ...options], command);
  }
  /** The host directory an empty container directory is bound to. */
  emptyDir(path: string): string {
    return join(this.scratch, path.split("/").filter(Boolean).join("-"));
  }
  withDirectory(path: string, d: HostDir): RunArgs {
    if ("empty" in d) return this.with(["-v", `${this.emptyDir(path)}:${path}`]);
    return this.with(["-v", `${d.host}:${path}${d.readOnly ? ":ro" : ""}`]);
  }
  withMountedCache(path: string, volume: string): RunArgs {
    return this.with(["-v", `${volume}:${path}`]);
  }
  withWorkdir(path: string): RunArgs {
    return this.with(["-w", path]);
  }
  withEnvVariable(name: string, value: string): RunArgs {
    return this.with(["-e", `${name}=${value}`]);
  }
  withExec(args: string[]): RunArgs {
    return this.with([], args);
  }
  /** `run` with the recorded options: removed afterwards, no network (a stage downloads nothing), the build limits. */
  argv(image: string): string[] {
    return ["run", "--rm", "--network", "none", ...RUN_LIMITS, ...this.options, image, ...this.command];
  }
}

export interface ContainerRun {
  /** The engine's full argv. */
  file: string;
  args: string[];
  /** Host directories bound to the container's empty directories, to create first (out/ among them). */
  emptyDirs: string[];
  /** The host directory the stage's /out is bound to. */
  out: string;
}

/**
 * The engine command that runs STAGE: its steps replayed on RunArgs, the checkout and upstream
 * outputs bound read-only, empty directories under SCRATCH, cache volumes named `<prefix><name>`,
 * KERNEL the version built (default 6.1).
 */
export function containerRun(
  stage: Stage,
  o: { engine: Engine; image: string; repo: string; scratch: string; sourceDateEpoch: number; upstream: Partial<Record<StageName, string>>; volumePrefix?: string; kernel?: string },
): ContainerRun {
  const inputs: StepInputs<HostDir, string> = {
    source: { host: o.repo, readOnly: true },
    empty: { empty: true },
    upstream: (n) => ({ host: o.upstream[n]!, readOnly: true }),
    cache: (volume) => `${o.volumePrefix ?? ""}${volume}`,
  };
  const steps = stageSteps(stage, o.sourceDateEpoch, o.kernel);
  const run = applySteps(new RunArgs(o.scratch), steps, inputs);
  const emptyDirs = steps.flatMap((s) => (s.op === "directory" && s.from === "empty" ? [run.emptyDir(s.path)] : []));
  return { file: o.engine.file, args: engineArgs(o.engine, run.argv(o.image)), emptyDirs, out: run.emptyDir(CONTAINER.out) };
}
