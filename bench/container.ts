// build --container figures, printed as JSON: a cold container build against a cold host build
// (same machine, back to back, fresh clones and empty caches), the no-op build of each, and a kernel
// entry carried by `cache export` / `cache import` into a fresh cache, then built (a hit, no compiler).
//
//   npm run bench:container             # two cold kernel builds: about 25 minutes on 2 cores
//   npm run bench:container -- --no-host  # skip the cold host build
//
// The locked image (src/build/image.ts) is built first if missing and timed on its own: it is made
// once per lock, not per build.
import { cleanClone, jsonEvents, median, timedXdpLab } from "./run.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { CACHE_VOLUMES } from "../src/build/steps.ts";
import { compareManifests, readManifest } from "../src/build/manifest.ts";
import { findEngine, removeVolumes } from "../src/tools/podman.ts";
import { Cache } from "../src/build/cache.ts";
import { ensureImage } from "../src/build/image.ts";
import { readLock } from "../src/build/lock.ts";
import { report } from "./results.ts";

const withHost = !process.argv.includes("--no-host");
const prefix = `xdp-lab-bench-${process.pid}-`;

const timed = (checkout: string, args: string[]) => timedXdpLab(args, { checkout });
const events = (stdout: string) => jsonEvents<{ event: string; stage?: string; status?: string; seconds?: number; differences?: { status: string }[] }>(stdout);
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-ctr-"));
try {
  const { dir: a } = await cleanClone(join(root, "checkout"));
  const ctr = (cache: string, extra: string[] = []) => timed(a, ["build", "--container", "--json", "--cache-dir", cache, "--volume-prefix", prefix, ...extra]);
  // The image, once (nothing to do when it exists): its creation is not part of a build's time.
  // Made directly, not through a build: any stage would fill the named volumes (bpf needs the
  // kernel) and the "cold" container build below would be a warm one.
  const imageStarted = performance.now();
  const lockPath = join(a, "src/build/packages.lock");
  const made = await ensureImage(await findEngine(), readLock(lockPath), { cache: new Cache(join(root, "cache-ctr")), lockPath, log: (m) => process.stderr.write(`${m}\n`) });
  const image = { ...made, seconds: (performance.now() - imageStarted) / 1000 };

  let host: { seconds: number; stdout: string } | undefined;
  if (withHost) host = await timed(a, ["build", "--json", "--cache-dir", join(root, "cache-host"), "--out", join(root, "out-host")]);
  const cold = await ctr(join(root, "cache-ctr"), ["--out", join(root, "out-ctr")]);
  // Compared here, not with --verify: a difference is a figure to report, not a reason to stop.
  const differences = host
    ? compareManifests(await readManifest(join(root, "out-ctr", "manifest.json")), await readManifest(join(root, "out-host", "manifest.json")))
    : undefined;

  const noopCtr: number[] = [];
  const noopHost: number[] = [];
  for (let i = 0; i < 3; i++) {
    noopCtr.push((await ctr(join(root, "cache-ctr"), ["--out", join(root, "out-ctr")])).seconds);
    if (host) noopHost.push((await timed(a, ["build", "--json", "--cache-dir", join(root, "cache-host"), "--out", join(root, "out-host")])).seconds);
  }

  const archive = join(root, "kernel.tar.gz");
  const exported = await timed(a, ["cache", "export", archive, "kernel", "--cache-dir", join(root, "cache-ctr")]);
  const imported = await timed(a, ["cache", "import", archive, "--cache-dir", join(root, "cache-fresh")]);
  const after = await ctr(join(root, "cache-fresh"), ["kernel", "--out", join(root, "out-fresh")]);
  const ev = events(after.stdout);

  report("container", {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    engine: (await findEngine()).file,
    image: { source: image.source, seconds: round(image.seconds, 1) },
    coldHost: host ? round(host.seconds, 1) : "skipped",
    coldContainer: round(cold.seconds, 1),
    coldContainerKernelStage: events(cold.stdout).find((e) => e.stage === "kernel" && e.status === "done")?.seconds,
    identical: differences ? differences.every((d) => d.status === "same") : "not compared",
    differing: differences?.filter((d) => d.status !== "same").map((d) => d.artifact),
    noopContainer: { median: round(median(noopCtr)), runs: noopCtr.map((x) => round(x)) },
    noopHost: host ? { median: round(median(noopHost)), runs: noopHost.map((x) => round(x)) } : "skipped",
    kernelExport: round(exported.seconds),
    kernelImport: round(imported.seconds),
    buildAfterImport: round(after.seconds),
    importThenBuild: round(imported.seconds + after.seconds),
    compilerRanAfterImport: ev.some((e) => e.event === "progress" || (e.event === "stage" && e.status === "running")),
  });
} finally {
  await removeVolumes(await findEngine(), [CACHE_VOLUMES.ccache, CACHE_VOLUMES.work("kernel")].map((v) => prefix + v));
  await rm(root, { recursive: true, force: true });
}
