// The default image of container hosts: the debootstrap minimal bookworm the build image starts
// from (src/build/image.ts) plus the tools the lab's hosts use. Tagged by what goes into it, so
// it is made once and made again only when that changes.
import { createHash } from "node:crypto";
import { ensureMinbase, MINBASE_TAG, sourcesLine } from "./build/image.ts";
import { imageExists, PODMAN, runAndCommit } from "./tools/podman.ts";

/** ping, curl, iperf3, tcpdump, busybox (its httpd serves the server's files), tcpreplay, and ip to look around. */
export const HOST_IMAGE_PACKAGES = ["iputils-ping", "curl", "iperf3", "tcpdump", "busybox", "tcpreplay", "iproute2"];


/** The script that installs the packages into the minimal image, from the suites the build image uses. */
export function hostImageScript(): string {
  return [
    "set -e",
    "export DEBIAN_FRONTEND=noninteractive",
    sourcesLine(),
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
  if (await imageExists(PODMAN, tag)) return { tag, built: false };
  await ensureMinbase(PODMAN, { log });
  log(`creating ${tag}: ${HOST_IMAGE_PACKAGES.join(", ")} on ${MINBASE_TAG}`);
  await runAndCommit(PODMAN, MINBASE_TAG, hostImageScript(), tag, { "org.xdp-lab.host-image": tag.split(":")[1]! });
  return { tag, built: true };
}
