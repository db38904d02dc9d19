// The build image of `build --container`: Debian bookworm from Debian's archive (debootstrap) with
// exactly the locked build packages. Tagged by the lock's hash, so it is built once per lock.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aptSpecs, lockDifferences, lockHash, type Lock } from "./lock.ts";
import { debootstrap } from "../tools/debootstrap.ts";
import { tarTree } from "../tools/tar.ts";
import { imageExists, importImage, removeImage, runAndCommit, runOutput, type Engine } from "../tools/podman.ts";

export const SUITE = "bookworm";

/** The minimal bookworm the build image starts from; kept, so a new lock only reinstalls packages. */
export const MINBASE_TAG = `localhost/xdp-lab-minbase:${SUITE}`;

/** The suites the host's packages come from (point releases and security updates, as on the host). */
export const APT_SOURCES = [
  `deb http://deb.debian.org/debian ${SUITE} main`,
  `deb http://deb.debian.org/debian ${SUITE}-updates main`,
  `deb http://deb.debian.org/debian-security ${SUITE}-security main`,
].join("\n");

/** The image of a lock: its tag names the lock's hash, so a changed lock is a new image. */
export function imageTag(lock: Lock): string {
  return `localhost/xdp-lab-build:${lockHash(lock).slice(0, 16)}`;
}

/** The script that installs exactly the locked versions in the minimal image. */
export function installScript(lock: Lock): string {
  return [
    "set -e",
    "export DEBIAN_FRONTEND=noninteractive",
    `printf '%s\\n' '${APT_SOURCES.split("\n").join("' '")}' > /etc/apt/sources.list`,
    "apt-get update -qq",
    `apt-get install -y -qq --no-install-recommends ${aptSpecs(lock).join(" ")}`,
    "apt-get clean",
    "rm -rf /var/lib/apt/lists/*",
  ].join("\n");
}

/**
 * The tag of the lock's image, built when it is not there: debootstrap (once per machine), then
 * apt-get install of the locked versions, then a check that dpkg inside reports exactly them.
 */
export async function ensureImage(engine: Engine, lock: Lock, log: (m: string) => void = () => undefined): Promise<{ tag: string; built: boolean }> {
  const tag = imageTag(lock);
  if (await imageExists(engine, tag)) return { tag, built: false };
  if (!(await imageExists(engine, MINBASE_TAG))) {
    log(`creating ${MINBASE_TAG} with debootstrap (about a minute, once)`);
    const dir = await mkdtemp(join(tmpdir(), "xdp-lab-minbase-"));
    try {
      const root = join(dir, "root");
      await debootstrap(SUITE, root);
      const tarball = join(dir, "root.tar");
      await tarTree(root, tarball);
      await importImage(engine, tarball, MINBASE_TAG);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  log(`creating ${tag}: the ${Object.keys(lock).length} locked build packages`);
  try {
    await runAndCommit(engine, MINBASE_TAG, installScript(lock), tag, { "org.xdp-lab.lock": lockHash(lock) });
  } catch (error) {
    throw new Error(
      `${(error as Error).message}\nFix: if apt cannot find a locked version, Debian's archive has moved on: on an up-to-date bookworm machine run apt-get upgrade, then ./xdp-lab lock`,
      { cause: error },
    );
  }
  const installed = (await runOutput(engine, tag, ["dpkg-query", "-W", "-f=${Package}=${Version}\\n", ...Object.keys(lock)])).split("\n").filter(Boolean);
  const diffs = lockDifferences(lock, installed);
  if (diffs.length) {
    await removeImage(engine, tag);
    throw new Error(`Image ${tag} does not hold the locked versions: ${diffs.map((d) => `${d.package} ${d.installed ?? "-"} (lock ${d.locked})`).join(", ")}`);
  }
  return { tag, built: true };
}
