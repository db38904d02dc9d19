// The Dagger build and `build --container` run, for every stage, the command the host executor
// runs: same argv, same environment, same working directory, with the executor's paths mapped to
// the container's. No Dagger engine: the steps are replayed on a recording container, and the
// podman adapter's command line is read back the same way.
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { build } from "../../src/build/executor.ts";
import { DEFAULT_PARAMS, STAGES, STAGE_NAMES, type Stage, type StageCommand, type StageName, type StagePaths } from "../../src/build/stages.ts";
import { REPO } from "../../src/paths.ts";
import {
  CACHE_VOLUMES,
  CONTAINER,
  applySteps,
  manifestFromListing,
  parseEpochs,
  publishedArtifacts,
  stageSteps,
  type ContainerLike,
} from "../../dagger/src/pipeline.ts";
import { containerRun } from "../../src/build/container.ts";
import { PODMAN_GLOBAL } from "../../src/tools/podman.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("dagger/pipeline");
t.after(cleanup);

type Call = [string, ...unknown[]];

/** A container that records every call, in order. */
class Recorder implements ContainerLike<string, string> {
  constructor(readonly calls: Call[] = []) {}
  private add(c: Call): Recorder {
    return new Recorder([...this.calls, c]);
  }
  withDirectory(path: string, d: string) {
    return this.add(["withDirectory", path, d]);
  }
  withMountedCache(path: string, v: string) {
    return this.add(["withMountedCache", path, v]);
  }
  withWorkdir(path: string) {
    return this.add(["withWorkdir", path]);
  }
  withEnvVariable(name: string, value: string) {
    return this.add(["withEnvVariable", name, value]);
  }
  withExec(args: string[]) {
    return this.add(["withExec", args]);
  }
}

const inputs = {
  source: "dir:source",
  empty: "dir:empty",
  upstream: (s: StageName) => `dir:stage:${s}`,
  cache: (v: string) => `cache:${v}`,
};

interface HostRun {
  cmd: StageCommand;
  paths: StagePaths;
  sde: number;
  cwd: string;
}

/**
 * Runs the real host executor on this checkout with the real stage table, each stage's command
 * recorded (then replaced by one that only creates its artifacts and notes its working directory).
 */
async function hostRuns(): Promise<Record<StageName, HostRun>> {
  const recorded: Partial<Record<StageName, Omit<HostRun, "cwd">>> = {};
  const table: Stage[] = STAGES.map((s) => ({
    ...s,
    requires: [],
    toolchain: [],
    identity: undefined,
    validate: undefined,
    command: (paths, params, sde) => {
      recorded[s.name] = { cmd: s.command(paths, params, sde), paths, sde };
      const files = s.artifacts.map((a) => `${paths.out}/${a}`).join(" ");
      return { file: "sh", args: ["-c", `pwd > ${paths.out}/.cwd; touch ${files}`], env: {} };
    },
  }));
  const dir = await tempDir();
  const result = await build({ repo: REPO, out: join(dir, "out"), cacheDir: join(dir, "cache"), params: DEFAULT_PARAMS, table, install: false });
  // What the host publishes is what the Dagger build assembles (and --verify compares).
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  assert.equal(
    Object.entries(result.manifest.artifacts).map(([name, a]) => ({ name, stage: a.stage })).sort(byName),
    publishedArtifacts().sort(byName),
  );
  const runs = {} as Record<StageName, HostRun>;
  for (const s of STAGES) {
    const r = recorded[s.name]!;
    // The executor moved the stage's out/ into its cache entry; the command ran in the checkout.
    runs[s.name] = { ...r, cwd: REPO };
  }
  return runs;
}

/** The executor's paths in a string, replaced by the container's. */
function toContainer(value: string, p: StagePaths): string {
  let v = value;
  for (const [from, to] of [
    ...Object.entries(p.upstream).map(([s, d]) => [d!, CONTAINER.upstream(s as StageName)]),
    [p.out, CONTAINER.out],
    [p.work, CONTAINER.work],
    [p.ccache, CONTAINER.ccache],
    [p.repo, CONTAINER.src],
  ] as [string, string][]) {
    v = v.split(from).join(to);
  }
  return v;
}

t("every stage: the container runs the host executor's argv and environment, in the checkout", async () => {
  const host = await hostRuns();
  for (const s of STAGES) {
    const h = host[s.name];
    const calls = applySteps(new Recorder(), stageSteps(s, h.sde), inputs).calls;
    const execs = calls.filter((c) => c[0] === "withExec");
    assert.equal(execs, [["withExec", [h.cmd.file, ...h.cmd.args].map((a) => toContainer(a, h.paths))]], s.name);
    const env = Object.fromEntries(calls.filter((c) => c[0] === "withEnvVariable").map((c) => [c[1], c[2]]));
    assert.equal(env, Object.fromEntries(Object.entries(h.cmd.env).map(([k, v]) => [k, toContainer(v, h.paths)])), `${s.name} env`);
    assert.equal(env.SOURCE_DATE_EPOCH, String(h.sde), `${s.name}: the same SOURCE_DATE_EPOCH`);
    assert.equal(calls.filter((c) => c[0] === "withWorkdir"), [["withWorkdir", toContainer(h.cwd, h.paths)]]);
    // The exec comes last: everything it needs is mounted before it.
    assert.is(calls.at(-1)![0], "withExec");
  }
});

/** What a `podman run` command line asks for, read back: mounts, workdir, environment, command. */
function readRun(args: string[], image: string) {
  const run = args.indexOf("run");
  const at = args.indexOf(image, run);
  const opts = args.slice(run + 1, at);
  const pairs = (flag: string) => opts.flatMap((o, i) => (opts[i - 1] === flag ? [o] : []));
  return {
    global: args.slice(0, run),
    mounts: pairs("-v"),
    workdir: pairs("-w"),
    env: Object.fromEntries(pairs("-e").map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
    command: args.slice(at + 1),
    opts,
  };
}

t("every stage: the podman adapter runs the same argv, environment and working directory as the host and the Dagger module", async () => {
  const host = await hostRuns();
  const engine = { file: "podman" as const, global: PODMAN_GLOBAL };
  for (const s of STAGES) {
    const h = host[s.name];
    const upstream = Object.fromEntries(s.needs.map((n) => [n, `/cache/stages/${n}/k`]));
    const c = containerRun(s, { engine, image: "localhost/xdp-lab-build:x", repo: "/checkout", scratch: "/scratch", sourceDateEpoch: h.sde, upstream, volumePrefix: "t-" });
    const r = readRun(c.args, "localhost/xdp-lab-build:x");
    assert.equal(r.global, PODMAN_GLOBAL);
    assert.equal(r.command, [h.cmd.file, ...h.cmd.args].map((a) => toContainer(a, h.paths)), s.name);
    assert.equal(r.env, Object.fromEntries(Object.entries(h.cmd.env).map(([k, v]) => [k, toContainer(v, h.paths)])), `${s.name} env`);
    assert.equal(r.workdir, [toContainer(h.cwd, h.paths)]);
    // The Dagger module's recording of the same steps: the same command and environment.
    const dagger = applySteps(new Recorder(), stageSteps(s, h.sde), inputs).calls;
    assert.equal(dagger.filter((x) => x[0] === "withExec")[0]![1], r.command);
    assert.equal(Object.fromEntries(dagger.filter((x) => x[0] === "withEnvVariable").map((x) => [x[1], x[2]])), r.env);
    // Mounts: the checkout and upstream outputs read-only, empty out/ (and work/) from scratch, named volumes.
    assert.equal(r.mounts.sort(), [
      `/checkout:${CONTAINER.src}:ro`,
      `/scratch/out:${CONTAINER.out}`,
      s.incremental ? `t-${CACHE_VOLUMES.work(s.name)}:${CONTAINER.work}` : `/scratch/work:${CONTAINER.work}`,
      `t-${CACHE_VOLUMES.ccache}:${CONTAINER.ccache}`,
      ...s.needs.map((n) => `/cache/stages/${n}/k:${CONTAINER.upstream(n)}:ro`),
    ].sort(), s.name);
    assert.is(c.out, "/scratch/out");
    assert.ok(r.opts.includes("--rm") && r.opts.join(" ").includes("--network none"), "throwaway, no network");
    assert.ok(r.opts.join(" ").includes("--ulimit nofile=20000:20000"));
  }
});

t("inputs: the checkout, each upstream stage's output, an empty out/, named caches", () => {
  for (const s of STAGES) {
    const calls = applySteps(new Recorder(), stageSteps(s, 0), inputs).calls;
    const dirs = calls.filter((c) => c[0] === "withDirectory").map((c) => `${c[1]}=${c[2]}`);
    assert.equal(dirs.sort(), [
      `${CONTAINER.src}=dir:source`,
      `${CONTAINER.out}=dir:empty`,
      ...(s.incremental ? [] : [`${CONTAINER.work}=dir:empty`]),
      ...s.needs.map((n) => `${CONTAINER.upstream(n)}=dir:stage:${n}`),
    ].sort());
    const caches = calls.filter((c) => c[0] === "withMountedCache").map((c) => `${c[1]}=${c[2]}`);
    assert.equal(caches.sort(), [`${CONTAINER.ccache}=cache:${CACHE_VOLUMES.ccache}`, ...(s.incremental ? [`${CONTAINER.work}=cache:${CACHE_VOLUMES.work(s.name)}`] : [])].sort());
  }
  assert.is(CACHE_VOLUMES.work("kernel"), "xdp-lab-kernel-work");
});

t("--kernel-version 6.12: the kernel stage compiles the image's 6.12 tarball in a work volume of its own; other stages are the same", () => {
  const env = (calls: Call[]) => calls.filter((c) => c[0] === "withExec" || c[0] === "withEnvVariable").map((c) => JSON.stringify(c));
  for (const s of STAGES) {
    const v61 = applySteps(new Recorder(), stageSteps(s, 0), inputs).calls;
    const v612 = applySteps(new Recorder(), stageSteps(s, 0, "6.12"), inputs).calls;
    if (s.name !== "kernel") {
      assert.equal(v612, v61, s.name);
      continue;
    }
    assert.ok(env(v612).some((c) => c.includes("KSRC=/usr/src/linux-source-6.12.tar.xz")), "the 6.12 tarball");
    assert.ok(env(v61).some((c) => c.includes("KSRC=/usr/src/linux-source-6.1.tar.xz")), "6.1 by default");
    assert.ok(v612.some((c) => c[0] === "withMountedCache" && c[2] === "cache:xdp-lab-kernel-6.12-work"));
  }
  assert.throws(() => stageSteps(STAGES[0]!, 0, "5.10"), /kernel 5\.10: not a kernel the build containers hold\. Fix: give 6\.1 or 6\.12/);
});

t("epochs: from `xdp-lab epochs`; bad input names the flag and the fix", () => {
  assert.equal(parseEpochs('{"kernel": 5}'), { kernel: 5, kmod: 0, bpf: 0, app: 0, rootfs: 0 });
  assert.throws(() => parseEpochs("{nope"), /--epochs is not JSON.*Fix: pass --epochs="\$\(\.\/xdp-lab epochs\)"/);
  assert.throws(() => parseEpochs('{"kernal": 1}'), /unknown stage "kernal"/);
  assert.throws(() => parseEpochs('{"kernel": -1}'), /kernel must be a whole number/);
  assert.throws(() => parseEpochs("[1]"), /must be a JSON object/);
});

t("manifest: every stage's artifacts; a missing one is an error", () => {
  const names = publishedArtifacts().map((a) => a.name);
  assert.equal(new Set(publishedArtifacts().map((a) => a.stage)), new Set(STAGE_NAMES));
  const listing = names.map((n, i) => `${String(i).padStart(64, "0")} ${i * 10} ${n}`).join("\n") + "\nstray 1 logs\n";
  const m = manifestFromListing(listing, parseEpochs('{"bpf": 7}'));
  assert.equal(Object.keys(m.artifacts), [...names].sort((a, b) => a.localeCompare(b)));
  assert.is(m.artifacts["bzImage"]!.stage, "kernel");
  assert.is(m.stages["bpf"]!.sourceDateEpoch, 7);
  assert.throws(() => manifestFromListing(listing.split("\n").filter((l) => !l.endsWith(" bzImage")).join("\n"), parseEpochs("{}")), /lacks bzImage/);
});

t.run();
