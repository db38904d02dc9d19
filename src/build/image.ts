// The build image of `build --container`: Debian bookworm from Debian's archive (debootstrap) with
// exactly the locked build packages, named by the lock's hash. Debian's archive keeps only the
// newest version of a package, so a lock can be installed for days, not years: the image itself is
// what travels. It is kept in the build cache by content (an OCI archive and its id, under the
// lock's hash), carried by `cache export/import/push/pull` like a stage's entry, and loaded from
// there before anything is asked of the archive.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cache } from "./cache.ts";
import { aptSpecs, lockDifferences, lockHash, type Lock } from "./lock.ts";
import { CONTAINER_RUNTIME } from "./packages.ts";
import { ensure } from "../tools/ensure.ts";
import { debootstrap } from "../tools/debootstrap.ts";
import { tarTree } from "../tools/tar.ts";
import { EngineError, findEngine, imageExists, imageId, importImage, loadImage, removeImage, runAndCommit, runOutput, saveImage, type Engine } from "../tools/podman.ts";

export const SUITE = "bookworm";

/** The minimal bookworm the build image starts from; kept, so a new lock only reinstalls packages. */
export const MINBASE_TAG = `localhost/xdp-lab-minbase:${SUITE}`;

/** The cache's stage name for build images: `stages/image/<lock hash>/`. */
export const IMAGE_STAGE = "image";
/** The image in its cache entry, as `podman save --format oci-archive` writes it. */
export const IMAGE_FILE = "image.tar";
/** What the entry holds: the tag, the id and the lock it was made from. */
export const IMAGE_RECORD = "image.json";

/**
 * Debian's archive: debootstrap's mirror and the image's apt sources. XDP_LAB_DEBIAN_MIRROR names
 * a local mirror or proxy (a base URL with debian/ and debian-security/ under it).
 */
export function debianMirror(env: NodeJS.ProcessEnv = process.env): string {
  return (env.XDP_LAB_DEBIAN_MIRROR || "http://deb.debian.org").replace(/\/+$/, "");
}

/** The suites the host's packages come from (point releases and security updates, as on the host). */
export function aptSources(mirror = debianMirror()): string {
  return [`deb ${mirror}/debian ${SUITE} main`, `deb ${mirror}/debian ${SUITE}-updates main`, `deb ${mirror}/debian-security ${SUITE}-security main`].join("\n");
}

/** The script line that points apt at the suites of aptSources (what the host's packages come from). */
export function sourcesLine(mirror = debianMirror(), path = "/etc/apt/sources.list"): string {
  return `printf '%s\\n' '${aptSources(mirror).split("\n").join("' '")}' > ${path}`;
}

/** The image of a lock: its tag names the lock's hash, so a changed lock is a new image. */
export function imageTag(lock: Lock): string {
  return `localhost/xdp-lab-build:${lockHash(lock).slice(0, 16)}`;
}

/** What the image's record in the cache says. */
export interface ImageRecord {
  tag: string;
  /** The engine's image id: the sha256 of the image's configuration. */
  id: string;
  lockHash: string;
  lock: Lock;
}

/** The lock's build image, ready in the engine, and where it came from. */
export interface BuildImage {
  tag: string;
  id: string;
  /** engine: it was there; cache: loaded from the build cache; built: made from Debian's archive now. */
  source: "engine" | "cache" | "built";
}

/** The line the install script prints for a locked version the archive no longer has. */
const MOVED_MARK = "xdp-lab-moved";

/** A locked version Debian's archive no longer has, and the archive's version now. */
export interface MovedPackage {
  package: string;
  locked: string;
  /** The archive's candidate now; undefined when the archive has no such package at all. */
  now?: string;
}

/**
 * The script that installs exactly the locked versions in the minimal image. It first checks that
 * the archive still has every one (apt-cache madison lists what it has), and when not, prints a
 * MOVED_MARK line for each missing one and exits 3 before installing anything. ROOT prefixes every
 * path it writes or removes (apt's sources and lists), so a test can run it on a directory of its
 * own instead of the machine's /.
 */
export function installScript(lock: Lock, mirror = debianMirror(), root = ""): string {
  return [
    "set -e",
    "export DEBIAN_FRONTEND=noninteractive",
    sourcesLine(mirror, `${root}/etc/apt/sources.list`),
    "apt-get update -qq",
    "moved=0",
    `for spec in ${aptSpecs(lock).join(" ")}; do`,
    '  p=${spec%%=*} v=${spec#*=}',
    `  if ! apt-cache madison "$p" | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | grep -qxF "$v"; then`,
    `    echo "${MOVED_MARK} $p $v $(apt-cache policy "$p" | awk '/Candidate:/ { print $2 }')"`,
    "    moved=1",
    "  fi",
    "done",
    '[ "$moved" = 0 ] || exit 3',
    `apt-get install -y -qq --no-install-recommends ${aptSpecs(lock).join(" ")}`,
    "apt-get clean",
    `rm -rf ${root}/var/lib/apt/lists/*`,
  ].join("\n");
}

/** The MOVED_MARK lines of the install script's output. */
export function parseMoved(output: string): MovedPackage[] {
  const moved: MovedPackage[] = [];
  for (const line of output.split("\n")) {
    const m = new RegExp(`^${MOVED_MARK} (\\S+) (\\S+)(?: (\\S+))?\\s*$`).exec(line.trim());
    if (m) moved.push({ package: m[1]!, locked: m[2]!, now: m[3] && m[3] !== "(none)" ? m[3] : undefined });
  }
  return moved;
}

/** The error when the archive has moved past the lock and no image is at hand: what moved, and the ways out. */
export function movedError(moved: MovedPackage[], tag: string, lockPath: string): Error {
  const list = moved.map((m) => `${m.package} ${m.locked} (archive now: ${m.now ?? "no such package"})`).join(", ");
  return new Error(
    `Cannot make the build image ${tag}: Debian's archive no longer has ${moved.length} locked version(s) of ${lockPath}: ${list}.\n` +
      `Fix: bring the image that was built from this lock: ./xdp-lab cache import FILE (FILE from ./xdp-lab cache export FILE image on a machine that has it) or ./xdp-lab cache pull REF; ` +
      `or move the lock to today's archive with ./xdp-lab lock --update (artifacts will then differ from this lock's)`,
  );
}

/**
 * An engine for build --container: the container runtime installed first when missing (podman, runc,
 * debootstrap: as build and up install what they need), then the first engine that answers. A
 * machine that cannot install (not root, --no-install) may still have an engine that answers, so
 * that failure is only reported when none does.
 */
export async function containerEngine(o: { install?: boolean; log?: (m: string) => void } = {}): Promise<Engine> {
  const installed = await ensure(CONTAINER_RUNTIME, { install: o.install ?? true, purpose: "build --container", log: o.log }).then(
    () => undefined,
    (error: Error) => error,
  );
  return findEngine().catch((error: Error) => {
    throw new Error(installed ? `${error.message}\n${installed.message}` : error.message, { cause: error });
  });
}

/** The record of the lock's image in the cache, if the cache holds it. */
export async function cachedImage(cache: Cache, lock: Lock): Promise<{ dir: string; record: ImageRecord } | undefined> {
  const dir = await cache.lookup(IMAGE_STAGE, lockHash(lock));
  if (!dir || !existsSync(join(dir, IMAGE_FILE))) return undefined;
  try {
    return { dir, record: JSON.parse(await readFile(join(dir, IMAGE_RECORD), "utf8")) as ImageRecord };
  } catch {
    return undefined;
  }
}

/** Saves the engine's image of LOCK into the cache under the lock's hash, whole or not at all. */
async function keepImage(engine: Engine, cache: Cache, lock: Lock, tag: string, id: string, log: (m: string) => void): Promise<void> {
  const started = Date.now();
  log(`keeping ${tag} (${id.slice(0, 12)}) in the build cache, so it can travel (cache export FILE image)`);
  const scratch = await cache.scratch(IMAGE_STAGE);
  try {
    await saveImage(engine, tag, join(scratch, IMAGE_FILE));
    const record: ImageRecord = { tag, id, lockHash: lockHash(lock), lock };
    await writeFile(join(scratch, IMAGE_RECORD), JSON.stringify(record, null, 2) + "\n");
    await cache.store(scratch, { stage: IMAGE_STAGE, key: lockHash(lock), created: new Date().toISOString(), seconds: (Date.now() - started) / 1000 });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface EnsureImageOptions {
  /** Where the image is kept and looked for. */
  cache: Cache;
  /** The lock file's path, for messages. */
  lockPath: string;
  /** Install debootstrap when the image must be made (as root). Default true. */
  install?: boolean;
  log?: (m: string) => void;
}

/**
 * The lock's image, ready in the engine: the engine's own if it has it; else loaded from the build
 * cache (no archive needed); else made from Debian's archive (debootstrap once per machine, then
 * exactly the locked versions, checked with dpkg inside) and kept in the cache. When the archive no
 * longer has a locked version, the error names each and the ways out; no image is left half-made.
 */
export async function ensureImage(engine: Engine, lock: Lock, o: EnsureImageOptions): Promise<BuildImage> {
  const log = o.log ?? (() => undefined);
  const tag = imageTag(lock);
  const kept = await cachedImage(o.cache, lock);
  if (await imageExists(engine, tag)) {
    const id = await imageId(engine, tag);
    if (kept?.record.id !== id) await keepImage(engine, o.cache, lock, tag, id, log);
    return { tag, id, source: "engine" };
  }
  if (kept) {
    log(`loading ${tag} (${kept.record.id.slice(0, 12)}) from the build cache`);
    const id = await loadImage(engine, join(kept.dir, IMAGE_FILE), tag);
    if (id !== kept.record.id) {
      await removeImage(engine, tag);
      throw new Error(`The build image in ${kept.dir} loaded as ${id.slice(0, 12)}, not the ${kept.record.id.slice(0, 12)} its record names; refused. Fix: import it again (./xdp-lab cache import FILE)`);
    }
    return { tag, id, source: "cache" };
  }
  await makeImage(engine, lock, tag, o, log);
  const id = await imageId(engine, tag);
  await keepImage(engine, o.cache, lock, tag, id, log);
  return { tag, id, source: "built" };
}

/**
 * The minimal bookworm every image here starts from (the build image, the lab's host image):
 * debootstrap once per machine (installed when missing), imported into the engine as MINBASE_TAG.
 */
export async function ensureMinbase(engine: Engine, o: { install?: boolean; log?: (m: string) => void } = {}): Promise<void> {
  if (await imageExists(engine, MINBASE_TAG)) return;
  const log = o.log ?? (() => undefined);
  await ensure(
    CONTAINER_RUNTIME.filter((r) => r.package === "debootstrap"),
    { install: o.install ?? true, purpose: `making ${MINBASE_TAG}`, log },
  );
  log(`creating ${MINBASE_TAG} with debootstrap (about a minute, once)`);
  const dir = await mkdtemp(join(tmpdir(), "xdp-lab-minbase-"));
  try {
    const root = join(dir, "root");
    await debootstrap(SUITE, root, `${debianMirror()}/debian`);
    const tarball = join(dir, "root.tar");
    await tarTree(root, tarball);
    await importImage(engine, tarball, MINBASE_TAG);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Makes the image from Debian's archive: the minimal base (once), then exactly the locked versions. */
async function makeImage(engine: Engine, lock: Lock, tag: string, o: EnsureImageOptions, log: (m: string) => void): Promise<void> {
  const mirror = debianMirror();
  await ensureMinbase(engine, { install: o.install, log });
  log(`creating ${tag}: the ${Object.keys(lock).length} locked build packages`);
  try {
    await runAndCommit(engine, MINBASE_TAG, installScript(lock, mirror), tag, { "org.xdp-lab.lock": lockHash(lock) });
  } catch (error) {
    const moved = error instanceof EngineError ? parseMoved(error.output) : [];
    if (moved.length) throw movedError(moved, tag, o.lockPath);
    throw new Error(`${(error as Error).message}\nFix: check that ${mirror} is reachable (apt-get update works here), then try again`, { cause: error });
  }
  const installed = (await runOutput(engine, tag, ["dpkg-query", "-W", "-f=${Package}=${Version}\\n", ...Object.keys(lock)])).split("\n").filter(Boolean);
  const diffs = lockDifferences(lock, installed);
  if (diffs.length) {
    await removeImage(engine, tag);
    throw new Error(`Image ${tag} does not hold the locked versions: ${diffs.map((d) => `${d.package} ${d.installed ?? "-"} (lock ${d.locked})`).join(", ")}`);
  }
}

/**
 * The id of the lock's image without making it (for cache keys): from the cache's record, else the
 * engine's image; throws saying how to get one.
 */
export async function knownImageId(lock: Lock, cache: Cache, engine: () => Promise<Engine>): Promise<string> {
  const kept = await cachedImage(cache, lock);
  if (kept) return kept.record.id;
  const tag = imageTag(lock);
  const e = await engine().catch(() => undefined);
  if (e && (await imageExists(e, tag))) return imageId(e, tag);
  throw new Error(
    `No build image for this lock (${tag}) here, so the keys of build --container are not known yet. Fix: ./xdp-lab build --container makes it, or ./xdp-lab cache import FILE brings it`,
  );
}
