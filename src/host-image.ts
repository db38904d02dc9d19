// The default image of container hosts: the debootstrap minimal bookworm the build image starts
// from (src/build/image.ts) plus the tools the lab's hosts use. Tagged by what goes into it, so
// it is made once and made again only when that changes.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MINBASE_TAG, SUITE } from "./build/image.ts";
import { debootstrap } from "./tools/debootstrap.ts";
import { PODMAN_GLOBAL, importImage, runAndCommit, type Engine } from "./tools/podman.ts";
import { tarTree } from "./tools/tar.ts";
import { imageExists } from "../network/podman.ts";

/** ping, curl, iperf3, tcpdump, busybox (its httpd serves the server's files), tcpreplay, and ip to look around. */
export const HOST_IMAGE_PACKAGES = ["iputils-ping", "curl", "iperf3", "tcpdump", "busybox", "tcpreplay", "iproute2"];

const ENGINE: Engine = { file: "podman", global: PODMAN_GLOBAL };

/** Debian's archive for the image's packages: the suites the build image uses (point releases, security updates). */
const APT_SOURCES = [
  `deb http://deb.debian.org/debian ${SUITE} main`,
  `deb http://deb.debian.org/debian ${SUITE}-updates main`,
  `deb http://deb.debian.org/debian-security ${SUITE}-security main`,
].join("\n");

/** The script that installs the packages into the minimal image. */
export function hostImageScript(): string {
  return [
    "set -e",
    "export DEBIAN_FRONTEND=noninteractive",
    `printf '%s\\n' '${APT_SOURCES.split("\n").join("' '")}' > /etc/apt/sources.list`,
    "apt-get update -qq",
    `apt-get install -y -qq --no-install-recommends ${HOST_IMAGE_PACKAGES.join(" ")}`,
    "apt-get clean",
    "rm -rf /var/lib/apt/lists/*",
  ].join("\n");
}

/** The default image's tag: the hash of its base and its script. */
export function hostImageTag(): string {
  const hash = createHash("sha256").update(`${MINBASE_TAG}\n${hostImageScript()}`).digest("hex");
  return `localhost/xdp-lab-host:${hash.slice(0, 16)}`;
}

/** The default image, made when it is not there (debootstrap once per machine, then apt-get). */
export async function ensureHostImage(log: (m: string) => void = () => undefined): Promise<{ tag: string; built: boolean }> {
  const tag = hostImageTag();
  if (await imageExists(tag)) return { tag, built: false };
  if (!(await imageExists(MINBASE_TAG))) {
    log(`creating ${MINBASE_TAG} with debootstrap (about a minute, once)`);
    const dir = await mkdtemp(join(tmpdir(), "xdp-lab-minbase-"));
    try {
      await debootstrap(SUITE, join(dir, "root"));
      await tarTree(join(dir, "root"), join(dir, "root.tar"));
      await importImage(ENGINE, join(dir, "root.tar"), MINBASE_TAG);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  log(`creating ${tag}: ${HOST_IMAGE_PACKAGES.join(", ")} on ${MINBASE_TAG}`);
  await runAndCommit(ENGINE, MINBASE_TAG, hostImageScript(), tag, { "org.xdp-lab.host-image": tag.split(":")[1]! });
  return { tag, built: true };
}
