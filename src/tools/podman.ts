// Wraps the container engine (podman, or docker when podman is absent): the only place that runs it.
import { execa } from "execa";
import { which } from "../build/requirements.ts";

export interface Engine {
  file: "podman" | "docker";
  /** Options before the subcommand, on every call. */
  global: string[];
}

/**
 * podman's options for Debian bookworm hosts: runc (crun fails on hybrid cgroup hierarchies), cgroupfs
 * (no systemd session needed) and a file events log (no journald needed).
 */
export const PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "--events-backend=file"];

/** Limits every build container gets: the kernel build opens many files at once. */
export const RUN_LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];

/** podman if it is on PATH, else docker; throws with the install hint when neither is. */
export function detectEngine(path = process.env.PATH ?? ""): Engine {
  if (which("podman", path)) return { file: "podman", global: PODMAN_GLOBAL };
  if (which("docker", path)) return { file: "docker", global: [] };
  throw new Error("build --container needs podman or docker. Fix: apt-get install podman runc");
}

/** argv of the engine with its global options. */
export function engineArgs(engine: Engine, args: string[]): string[] {
  return [...engine.global, ...args];
}

async function run(engine: Engine, args: string[], what: string): Promise<string> {
  const r = await execa(engine.file, engineArgs(engine, args), { reject: false, all: true, stdin: "ignore" });
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? "").trimEnd().split("\n").slice(-15).join("\n");
    throw new Error(`Failed to ${what} with ${engine.file} (exit ${r.exitCode}):\n${tail}`);
  }
  return String(r.stdout);
}

export async function imageExists(engine: Engine, tag: string): Promise<boolean> {
  const args = engine.file === "podman" ? ["image", "exists", tag] : ["image", "inspect", tag];
  const r = await execa(engine.file, engineArgs(engine, args), { reject: false, stdin: "ignore" });
  return r.exitCode === 0;
}

/** Imports a root file system tarball as an image. */
export async function importImage(engine: Engine, tarball: string, tag: string): Promise<void> {
  await run(engine, ["import", tarball, tag], `import ${tarball} as ${tag}`);
}

/** Runs a throwaway container on the host's network (for apt), then commits it as TAG. */
export async function runAndCommit(engine: Engine, image: string, script: string, tag: string, labels: Record<string, string>): Promise<void> {
  const name = `xdp-lab-image-${process.pid}-${Date.now()}`;
  try {
    await run(engine, ["run", "--name", name, "--network", "host", ...RUN_LIMITS, image, "sh", "-c", script], `prepare ${tag}`);
    const changes = Object.entries(labels).flatMap(([k, v]) => ["--change", `LABEL ${k}=${v}`]);
    await run(engine, ["commit", ...changes, name, tag], `commit ${tag}`);
  } finally {
    await execa(engine.file, engineArgs(engine, ["rm", "-f", name]), { reject: false, stdin: "ignore" });
  }
}

/** A command's stdout in a throwaway container of IMAGE, without network. */
export async function runOutput(engine: Engine, image: string, argv: string[]): Promise<string> {
  return run(engine, ["run", "--rm", "--network", "none", ...RUN_LIMITS, image, ...argv], `run ${argv[0]} in ${image}`);
}

/** Removes named volumes; ones that do not exist are fine. */
export async function removeVolumes(engine: Engine, names: string[]): Promise<void> {
  for (const n of names) await execa(engine.file, engineArgs(engine, ["volume", "rm", "-f", n]), { reject: false, stdin: "ignore" });
}

export async function removeImage(engine: Engine, tag: string): Promise<void> {
  await execa(engine.file, engineArgs(engine, ["rmi", "-f", tag]), { reject: false, stdin: "ignore" });
}
