// The executor: runs the stage table with plain processes (or, with `container`, each stage in a
// container of the locked image), caches each stage by content key, and publishes the artifacts to
// out/ only when every stage succeeded.
import { createWriteStream, existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rename, rm, writeFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { execa } from "execa";
import { Cache, lockDir } from "./cache.ts";
import { HashMemo, hashInputs, sha256 } from "./hash.ts";
import { makeManifest, type Manifest, type StageRecord } from "./manifest.ts";
import { ensure } from "../tools/ensure.ts";
import type { Reporter } from "./progress.ts";
import { isBuildProduct, plan, STAGES, type Stage, type StageName, type StageParams, type StagePaths } from "./stages.ts";
import { stageEpoch } from "./epochs.ts";
import { containerRun } from "./container.ts";
import { BUILT_VERSIONS, versionOfSource } from "./kernels.ts";
import { CACHE_VOLUMES } from "./steps.ts";
import { containerEngine, ensureImage, knownImageId } from "./image.ts";
import { describeDifferences, lockDifferences, lockHash, LOCK_PATH, parseLock, readLock } from "./lock.ts";
import { packageVersions } from "../tools/dpkg.ts";
import { findEngine, type Engine } from "../tools/podman.ts";

export interface BuildOptions {
  /** Checkout root. */
  repo: string;
  /** Where artifacts and manifest.json are published. */
  out: string;
  cacheDir: string;
  stages?: StageName[];
  params: StageParams;
  /** The kernel version built (build --kernel 6.12), recorded in the kernel-dependent entries (cache.ts EntryMeta.kernel). */
  variant?: string;
  /**
   * Stages whose output comes from elsewhere, not run: a stock kernel's entry stands for the kernel
   * and kmod stages (build --kernel debian-6.12). KEY is their key downstream; of their artifacts,
   * those DIR has are published and the others removed from out/, so out/ never mixes two kernels.
   */
  provided?: Partial<Record<StageName, { dir: string; key: string; what: string }>>;
  /**
   * Rebuild the requested stages (all when `stages` is unset) even when their key is cached; the
   * stages they need but were not asked for still come from the cache. The results are stored.
   */
  noCache?: boolean;
  /** Install missing Debian packages (as root). */
  install?: boolean;
  report?: Reporter;
  /** The stage table; tests pass their own. */
  table?: readonly Stage[];
  /** The package lock (default src/build/packages.lock); tests pass their own. */
  lockPath?: string;
  /**
   * Run every stage in a container of the locked image (src/build/image.ts) instead of on this
   * machine, replaying the steps the Dagger module replays.
   */
  container?: ContainerOptions;
}

export interface ContainerOptions {
  /** Default: the first engine that answers, podman then docker. */
  engine?: Engine;
  /** Prefix of the named cache volumes (kernel work tree, ccache); tests use their own. Default: none. */
  volumePrefix?: string;
}

/** How a stage's command runs: on this machine, or in the container of the locked image. */
type Executor = { kind: "host" } | { kind: "container"; engine: Engine; image: string; identity: ContainerIdentity; volumePrefix: string; kernel: string };

/** What stands for the toolchain, the packages and the kernel source of a container stage: its image. */
export interface ContainerIdentity {
  /** The image's id (its content), which built the artifacts. */
  imageId: string;
  /** The hash of the lock the image was made from. */
  lockHash: string;
}

export interface StageResult {
  stage: StageName;
  key: string;
  cached: boolean;
  seconds: number;
  dir: string;
}

export interface BuildResult {
  stages: StageResult[];
  manifest: Manifest;
  manifestPath: string;
}

/** Makes sure out/ exists and a file can be created in it, before anything is built. */
export async function checkWritable(out: string): Promise<void> {
  const probe = join(out, `.xdp-lab-probe-${process.pid}`);
  try {
    await mkdir(out, { recursive: true });
    await writeFile(probe, "");
    await unlink(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new Error(`Output directory ${out} is not writable (${code}). Fix: pass --out DIR with a writable directory, or fix its permissions`, {
      cause: error,
    });
  }
}

/** The cache key of a stage and the record of what went into it. */
export async function stageKey(
  s: Stage,
  opts: {
    repo: string;
    params: StageParams;
    upstreamKeys: Partial<Record<StageName, string>>;
    memo: HashMemo;
    /** In a container the toolchain, the packages and the kernel source are the image's: its id stands for them. */
    container?: ContainerIdentity;
  },
): Promise<StageRecord> {
  const sde = await stageEpoch(opts.repo, s);
  const inputs = await hashInputs(opts.repo, s.inputs, isBuildProduct);
  const identity: Record<string, string> = {};
  if (opts.container !== undefined) {
    identity.executor = "container";
    identity.image = opts.container.imageId;
    identity.lock = opts.container.lockHash;
    // Which of the image's kernel sources (6.1, 6.12) the stage compiles.
    if (s.identity) identity.kernelSource = opts.params.kernelSrc;
  } else {
    // The version commands at once: every build, a no-op one too, waits for them.
    const versions = await Promise.all(s.toolchain.map(([file, ...args]) => execa(file!, args, { reject: false })));
    s.toolchain.forEach(([file], i) => (identity[`tool:${file}`] = (versions[i]!.stdout.split("\n")[0] ?? "").trim()));
    identity.packages = (await packageVersions([...new Set(s.requires.map((r) => r.package))])).join(" ");
    if (s.identity) Object.assign(identity, await s.identity(opts.params, opts.memo));
  }
  for (const dep of s.needs) identity[`upstream:${dep}`] = opts.upstreamKeys[dep] ?? "";
  // Paths differ between machines and checkouts; the command's shape, with placeholders, is what counts.
  const placeholders: StagePaths = {
    repo: "$REPO",
    out: "$OUT",
    work: "$WORK",
    ccache: "$CCACHE",
    upstream: Object.fromEntries(s.needs.map((d) => [d, `$UPSTREAM_${d}`])),
  };
  const params: StageParams = { kernelSrc: "$KSRC", kconfig: opts.params.kconfig.map((_, i) => `$KCONFIG_${i}`) };
  identity.command = JSON.stringify(s.command(placeholders, params, sde));
  const key = sha256(JSON.stringify({ stage: s.name, inputs: inputs.digest, identity, sde }));
  return { key, sourceDateEpoch: sde, inputs: inputs.files, identity };
}

interface Run {
  /** What runs: the stage's command, or the engine running it in a container. */
  run: { file: string; args: string[]; env: Record<string, string>; cwd: string };
  /** Where the stage's outputs land. */
  out: string;
  /** Releases the stage's work tree. */
  unlock: () => Promise<void>;
}

/**
 * The process that runs a stage, and where it writes: on the host, the stage's command with its
 * work tree (incremental stages) locked; in a container, the engine's `run` of the stage's steps.
 */
async function prepareRun(job: StageJob, scratch: string): Promise<Run> {
  const { s, rec, o, cache, upstream, memo, executor } = job;
  const none = async (): Promise<void> => undefined;
  if (executor.kind === "container") {
    const c = containerRun(s, { ...executor, repo: o.repo, scratch, sourceDateEpoch: rec.sourceDateEpoch, upstream });
    for (const d of c.emptyDirs) await mkdir(d, { recursive: true });
    let unlock = none;
    // The work tree is a named volume: two builds must not share it at once either.
    if (s.incremental) {
      await mkdir(join(cache.root, "work"), { recursive: true });
      unlock = await lockDir(join(cache.root, "work", `${executor.volumePrefix}${CACHE_VOLUMES.work(s.name, executor.kernel)}`));
    }
    return { run: { file: c.file, args: c.args, env: {}, cwd: o.repo }, out: c.out, unlock };
  }
  const out = join(scratch, "out");
  await mkdir(out);
  let work = join(scratch, "work");
  let unlock = none;
  if (s.incremental) {
    const id = s.identity ? sha256(JSON.stringify(await s.identity({ ...o.params, kconfig: [] }, memo))) : s.name;
    work = cache.workDir(s.name, id);
    await mkdir(work, { recursive: true });
    unlock = await lockDir(work);
  }
  const cmd = s.command({ repo: o.repo, out, work, ccache: cache.ccache, upstream }, o.params, rec.sourceDateEpoch);
  return { run: { file: cmd.file, args: cmd.args, env: cmd.env, cwd: o.repo }, out, unlock };
}

/** One stage to run: the stage, its key record, the build's options and where its inputs are. */
interface StageJob {
  s: Stage;
  rec: StageRecord;
  o: BuildOptions;
  cache: Cache;
  /** Output directory of each upstream stage. */
  upstream: Partial<Record<StageName, string>>;
  memo: HashMemo;
  executor: Executor;
  /** Whether the stage is the kernel or builds on it (its entry is then per kernel version). */
  kernelDependent: boolean;
}

/** Runs a stage's command into a scratch directory; returns the stored cache entry. */
async function runStage(job: StageJob): Promise<{ dir: string; seconds: number }> {
  const { s, rec, o, cache } = job;
  const report = o.report ?? (() => undefined);
  const scratch = await cache.scratch(s.name);
  const { run, out, unlock } = await prepareRun(job, scratch);
  const logPath = join(o.out, "logs", `${s.name}.log`);
  await mkdir(join(o.out, "logs"), { recursive: true });
  const log = createWriteStream(logPath);
  const kernel = job.kernelDependent ? o.variant : undefined;
  const total = s.progress ? await cache.lastProgressUnits(s.name, kernel) : undefined;
  const started = Date.now();
  report({ event: "stage", stage: s.name, status: "running", key: rec.key });
  log.write(`$ ${Object.entries(run.env).map(([k, v]) => `${k}=${v} `).join("")}${run.file} ${run.args.join(" ")}\n`);
  let units = 0;
  try {
    const child = execa(run.file, run.args, {
      cwd: run.cwd,
      env: run.env,
      all: true,
      buffer: false,
      stdin: "ignore",
      reject: false,
    });
    let lastShown = 0;
    for await (const line of createInterface({ input: child.all! })) {
      log.write(line + "\n");
      if (s.progress?.test(line)) {
        units++;
        if (Date.now() - lastShown > 500) {
          lastShown = Date.now();
          report({ event: "progress", stage: s.name, units, total });
        }
      }
    }
    if (units > 0) report({ event: "progress", stage: s.name, units, total });
    const r = await child;
    await new Promise((res) => log.end(res));
    const seconds = (Date.now() - started) / 1000;
    if (r.exitCode !== 0 || r.signal) {
      report({ event: "stage", stage: s.name, status: "failed", seconds, log: logPath });
      const tail = (await readFile(logPath, "utf8")).trimEnd().split("\n").slice(-25).join("\n");
      throw new Error(
        `Stage ${s.name} failed (${r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`}). Last lines of its log:\n${tail}\n` +
          `Full log: ${logPath}`,
      );
    }
    for (const a of s.artifacts) {
      if (!existsSync(join(out, a))) throw new Error(`Stage ${s.name} finished but did not produce ${a}; see ${logPath}`);
    }
    const dir = await cache.store(out, {
      stage: s.name,
      key: rec.key,
      created: new Date().toISOString(),
      seconds,
      ...(s.progress ? { progressUnits: units } : {}),
      ...(kernel ? { kernel } : {}),
    });
    report({ event: "stage", stage: s.name, status: "done", key: rec.key, seconds });
    return { dir, seconds };
  } finally {
    log.end();
    await unlock();
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Builds the requested stages (and what they need), then publishes artifacts and manifest.json to out/. */
export async function build(o: BuildOptions): Promise<BuildResult> {
  const report = o.report ?? (() => undefined);
  const started = Date.now();
  const table = o.table ?? STAGES;
  const requested = o.stages ?? table.map((s) => s.name);
  const stages = plan(requested, table);
  report({ event: "plan", stages: stages.map((s) => s.name) });
  await checkWritable(o.out);
  if (o.container && o.provided) throw new Error("build --container builds the lab's own kernel only: a stock kernel (--kernel debian-*) is not done in containers. Fix: build on the host");
  const built = stages.filter((s) => !o.provided?.[s.name]);
  const executor = o.container ? await prepareContainer(o, o.container, report) : await prepareHost(o, built, report);
  const cache = new Cache(o.cacheDir);
  const memo = new HashMemo(join(o.cacheDir, "hashes.json"));
  await memo.load();
  const results: StageResult[] = [];
  const records: Record<string, StageRecord> = {};
  const dirs: Partial<Record<StageName, string>> = {};
  const keys: Partial<Record<StageName, string>> = {};
  for (const s of stages) {
    const given = o.provided?.[s.name];
    if (given) {
      records[s.name] = { key: given.key, sourceDateEpoch: 0, inputs: {}, identity: { provided: given.what } };
      keys[s.name] = given.key;
      dirs[s.name] = given.dir;
      report({ event: "stage", stage: s.name, status: "cached", key: given.key });
      results.push({ stage: s.name, key: given.key, cached: true, seconds: 0, dir: given.dir });
      continue;
    }
    const rec = await stageKey(s, {
      repo: o.repo,
      params: o.params,
      upstreamKeys: keys,
      memo,
      container: executor.kind === "container" ? executor.identity : undefined,
    });
    records[s.name] = rec;
    keys[s.name] = rec.key;
    const hit = o.noCache && requested.includes(s.name) ? undefined : await cache.lookup(s.name, rec.key);
    if (hit) {
      report({ event: "stage", stage: s.name, status: "cached", key: rec.key });
      results.push({ stage: s.name, key: rec.key, cached: true, seconds: 0, dir: hit });
      dirs[s.name] = hit;
      continue;
    }
    const kernelDependent = dependsOnKernel(s, table);
    const { dir, seconds } = await runStage({ s, rec, o, cache, upstream: dirs, memo, executor, kernelDependent });
    results.push({ stage: s.name, key: rec.key, cached: false, seconds, dir });
    dirs[s.name] = dir;
  }
  await memo.save();
  const manifest = await publish(o.out, stages, dirs, records);
  const manifestPath = join(o.out, "manifest.json");
  report({ event: "published", out: o.out, manifest: manifestPath, seconds: (Date.now() - started) / 1000 });
  return { stages: results, manifest, manifestPath };
}

/** Whether stage S is the kernel stage or needs it, directly or through another stage. */
export function dependsOnKernel(s: Stage, table: readonly Stage[] = STAGES): boolean {
  return s.name === "kernel" || s.needs.some((n) => dependsOnKernel(table.find((t) => t.name === n)!, table));
}

/** The host's packages installed and the stages' choices checked; warns once when the packages are not the locked ones. */
async function prepareHost(o: BuildOptions, stages: Stage[], report: Reporter): Promise<Executor> {
  const lock = parseLock(await readFile(o.lockPath ?? LOCK_PATH, "utf8"), o.lockPath);
  await ensure(
    stages.flatMap((s) => s.requires),
    { install: o.install ?? true, purpose: `building ${stages.map((s) => s.name).join(", ")}`, log: (m) => report({ event: "info", message: m }), versions: lock },
  );
  for (const s of stages) await s.validate?.(o.params);
  const needed = [...new Set(stages.flatMap((s) => s.requires.map((r) => r.package)))];
  if (needed.length) {
    const locked = Object.fromEntries(needed.filter((p) => p in lock).map((p) => [p, lock[p]!]));
    const diffs = lockDifferences(locked, await packageVersions(Object.keys(locked)));
    if (diffs.length) report({ event: "warning", message: describeDifferences(diffs) });
  }
  return { kind: "host" };
}

/**
 * The container runtime installed when missing (podman, runc, debootstrap), an engine that answers
 * found, and the lock's image made ready: from the engine, the build cache, or Debian's archive.
 */
async function prepareContainer(o: BuildOptions, c: ContainerOptions, report: Reporter): Promise<Executor> {
  const kernel = versionOfSource(o.params.kernelSrc);
  if (!kernel || o.params.kconfig.length) {
    throw new Error(
      `--kernel PATH, --kernel-src and --kconfig do not apply to build --container: it builds the locked Debian sources its image holds (--kernel ${BUILT_VERSIONS.join(" or ")}). Fix: give one of those, or build your own tree on the host (./xdp-lab build --kernel PATH)`,
    );
  }
  const log = (m: string) => report({ event: "info", message: m });
  const engine = c.engine ?? (await containerEngine({ install: o.install, log }));
  const lockPath = o.lockPath ?? LOCK_PATH;
  const lock = readLock(lockPath);
  const image = await ensureImage(engine, lock, { cache: new Cache(o.cacheDir), lockPath, install: o.install, log });
  report({ event: "image", tag: image.tag, id: image.id, source: image.source });
  return { kind: "container", engine, image: image.tag, identity: { imageId: image.id, lockHash: lockHash(lock) }, volumePrefix: c.volumePrefix ?? "", kernel };
}

/** Copies artifacts next to out/, then renames them in, then writes the manifest: out/ never holds a half-written file. */
async function publish(
  out: string,
  stages: Stage[],
  dirs: Partial<Record<StageName, string>>,
  records: Record<string, StageRecord>,
): Promise<Manifest> {
  const staging = join(out, `.publish-${process.pid}`);
  await mkdir(staging, { recursive: true });
  try {
    // A provided stage's dir may lack some of the stage's artifacts (a stock kernel has no bzImage): those go from out/.
    const all = stages.flatMap((s) => s.artifacts.map((name) => ({ name, stage: s.name })));
    const artifacts = all.filter((a) => existsSync(join(dirs[a.stage as StageName]!, a.name)));
    for (const a of artifacts) await copyFile(join(dirs[a.stage as StageName]!, a.name), join(staging, a.name));
    for (const a of artifacts) await rename(join(staging, a.name), join(out, a.name));
    for (const a of all.filter((x) => !artifacts.includes(x))) await rm(join(out, a.name), { force: true });
    const manifest = await makeManifest(out, artifacts, records);
    // Merge with stages built earlier into the same out/ (a partial `build rootfs` keeps the kernel's entry).
    const previous = await readFile(join(out, "manifest.json"), "utf8").then((t) => JSON.parse(t) as Manifest).catch(() => undefined);
    if (previous?.schema === 1) {
      for (const [name, a] of Object.entries(previous.artifacts)) {
        if (!manifest.artifacts[name] && existsSync(join(out, name))) manifest.artifacts[name] = a;
      }
      for (const [name, r] of Object.entries(previous.stages)) if (!manifest.stages[name]) manifest.stages[name] = r;
    }
    // Sorted keys: the same build gives the same bytes, whatever out/ held before.
    manifest.artifacts = Object.fromEntries(Object.entries(manifest.artifacts).sort(([a], [b]) => a.localeCompare(b)));
    manifest.stages = Object.fromEntries(Object.entries(manifest.stages).sort(([a], [b]) => a.localeCompare(b)));
    await writeFile(join(staging, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    await rename(join(staging, "manifest.json"), join(out, "manifest.json"));
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * The cache key of each requested stage and of what it needs, without building: what CI caches the
 * kernel entry under (`xdp-lab cache key kernel`). With `container`, the keys `build --container` uses.
 */
export async function planKeys(o: {
  repo: string;
  cacheDir: string;
  params: StageParams;
  stages: StageName[];
  container?: boolean;
  table?: readonly Stage[];
  /** The lock of build --container (default src/build/packages.lock). */
  lockPath?: string;
  /** The engine asked for the image's id when the cache has no record of it. */
  engine?: Engine;
}): Promise<Partial<Record<StageName, string>>> {
  const memo = new HashMemo(join(o.cacheDir, "hashes.json"));
  await memo.load();
  const keys: Partial<Record<StageName, string>> = {};
  let container: ContainerIdentity | undefined;
  if (o.container) {
    const lock = readLock(o.lockPath ?? LOCK_PATH);
    const engine = o.engine;
    container = { imageId: await knownImageId(lock, new Cache(o.cacheDir), engine ? async () => engine : () => findEngine()), lockHash: lockHash(lock) };
  }
  for (const s of plan(o.stages, o.table ?? STAGES)) {
    keys[s.name] = (await stageKey(s, { repo: o.repo, params: o.params, upstreamKeys: keys, memo, container })).key;
  }
  await memo.save();
  return keys;
}
