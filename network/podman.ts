// The one wrapper around podman for the lab's container hosts (the build's own uses are in
// src/tools/podman.ts): argv builders (pure, unit-tested) and the runners.
import { execa, type Options } from "execa";

/**
 * podman's options on these machines, for the lab's hosts and the build alike (src/tools/podman.ts
 * takes them from here): runc (crun fails on hybrid cgroup hierarchies), cgroupfs (no systemd
 * session needed), a file events log (no journald needed).
 */
export const PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "--events-backend=file"];

/** The limits every container gets, as the build's. */
export const RUN_LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];

/** The label every lab container carries: `down` finds them by it from the lab's name alone. */
export const LAB_LABEL = "org.xdp-lab.lab";

/** podman's argv with the global options these machines need (runc, cgroupfs, a file events log). */
export function podmanArgs(args: string[]): string[] {
  return [...PODMAN_GLOBAL, ...args];
}

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

/** Runs podman; throws naming WHAT and podman's message. */
export async function podman(args: string[], what: string): Promise<string> {
  const r = await execa("podman", podmanArgs(args), { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`Failed to ${what}: ${String(r.stderr || r.stdout).trim()}`, { cause: r.exitCode });
  return String(r.stdout);
}

/** Starts a podman process (exec with streams); a non-zero exit is a result. */
export function podmanProcess<O extends Options>(args: string[], opts?: O) {
  return execa("podman", args, { reject: false, ...opts } as O & { reject: false });
}

export async function imageExists(image: string): Promise<boolean> {
  return (await execa("podman", podmanArgs(["image", "exists", image]), { reject: false, stdin: "ignore" })).exitCode === 0;
}

/** What `status` shows of a container, or undefined when there is none. */
export async function inspect(name: string): Promise<{ id: string; image: string; state: string } | undefined> {
  const r = await execa("podman", podmanArgs(["container", "inspect", name, "--format", "{{.Id}} {{.ImageName}} {{.State.Status}}"]), { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) return undefined;
  const [id, image, state] = String(r.stdout).trim().split(" ");
  return { id: id!.slice(0, 12), image: image!, state: state! };
}

/** Names of the containers of lab LAB, running or not. */
export async function labContainers(lab: string): Promise<string[]> {
  const r = await execa("podman", podmanArgs(["ps", "-a", "--filter", `label=${LAB_LABEL}=${lab}`, "--format", "{{.Names}}"]), { reject: false, stdin: "ignore" });
  return r.exitCode === 0 ? String(r.stdout).split("\n").filter(Boolean) : [];
}

/** The labs that have containers on this machine, running or not, by their label; none without podman. */
export async function containerLabs(): Promise<string[]> {
  const r = await execa("podman", podmanArgs(["ps", "-a", "--filter", `label=${LAB_LABEL}`, "--format", `{{index .Labels "${LAB_LABEL}"}}`]), { reject: false, stdin: "ignore" });
  return r.exitCode === 0 ? [...new Set(String(r.stdout).split("\n").filter(Boolean))] : [];
}

/** Removes containers at once (no stop timeout: their first process ignores SIGTERM). */
export async function removeContainers(names: string[]): Promise<void> {
  if (names.length) await podman(["rm", "-f", "-t", "0", ...names], `remove the containers ${names.join(", ")}`);
}
