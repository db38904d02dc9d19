// The lab's container hosts as podman sees them: the label that finds a lab's containers, the
// `run` and `exec` argv of a host (pure, unit-tested), and the queries `down` and `status` make.
// podman itself is run by src/tools/podman.ts.
import { podman, podmanArgs, podmanLines, RUN_LIMITS } from "../src/tools/podman.ts";

/** The label every lab container carries: `down` finds them by it from the lab's name alone. */
export const LAB_LABEL = "org.xdp-lab.lab";

/** What a lab host's container is made of. */
export interface HostContainer {
  /** The container's name (plan.ts: xl-LAB-HOST). */
  name: string;
  lab: string;
  image: string;
  hostname: string;
  /** The host's namespace, made by `up`: the container joins it, so addresses, neighbours and counters are the lab's. */
  ns: string;
  /** Host paths mounted at the same path (the hosts file read-only, the server's files). */
  mounts: { host: string; guest: string; readOnly: boolean }[];
  /** Capabilities beyond podman's defaults (NET_ADMIN for a host that changes its own network). */
  caps: string[];
}

/**
 * `podman run` for a host: detached, in the host's namespace, with a shell that waits forever as
 * its first process (any image with a shell works; its own command would end at once in most).
 */
export function runArgs(c: HostContainer): string[] {
  return podmanArgs([
    "run",
    "-d",
    "--name",
    c.name,
    "--label",
    `${LAB_LABEL}=${c.lab}`,
    "--network",
    `ns:/run/netns/${c.ns}`,
    "--hostname",
    c.hostname,
    ...RUN_LIMITS,
    ...c.caps.flatMap((cap) => ["--cap-add", cap]),
    ...c.mounts.flatMap((m) => ["-v", `${m.host}:${m.guest}${m.readOnly ? ":ro" : ""}`]),
    "--entrypoint",
    "sh",
    c.image,
    "-c",
    // A shell as PID 1 ignores SIGTERM: `down` removes with -t 0, at once.
    "exec sleep 2147483647",
  ]);
}

/** `podman exec` of ARGV in container NAME; -i when it gets input, -t for a terminal. */
export function execArgs(name: string, argv: string[], o: { stdin?: boolean; tty?: boolean } = {}): string[] {
  return podmanArgs(["exec", ...(o.stdin ? ["-i"] : []), ...(o.tty ? ["-t"] : []), name, ...argv]);
}

/** Names of the containers of lab LAB, running or not. */
export async function labContainers(lab: string): Promise<string[]> {
  return podmanLines(["ps", "-a", "--filter", `label=${LAB_LABEL}=${lab}`, "--format", "{{.Names}}"]);
}

/** The labs that have containers on this machine, running or not, by their label; none without podman. */
export async function containerLabs(): Promise<string[]> {
  return [...new Set(await podmanLines(["ps", "-a", "--filter", `label=${LAB_LABEL}`, "--format", `{{index .Labels "${LAB_LABEL}"}}`]))];
}

/** Removes containers at once (no stop timeout: their first process ignores SIGTERM). */
export async function removeContainers(names: string[]): Promise<void> {
  if (names.length) await podman(["rm", "-f", "-t", "0", ...names], `remove the containers ${names.join(", ")}`);
}
