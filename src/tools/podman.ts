// Wraps the container engine (podman, or docker when podman is absent): the only place that runs it.
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { which } from "../build/requirements.ts";
import { tarCreate } from "./tar.ts";

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

/** The one file a cache image holds, at its root. */
export const CACHE_IMAGE_FILE = "xdp-lab-cache.tar.gz";

/**
 * Pushes FILE to a registry as a one-layer image holding it (the engine does the transport, so any
 * registry the engine can log in to works). `insecure` allows plain HTTP, for a registry on localhost.
 */
export async function pushFile(engine: Engine, file: string, ref: string, insecure: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "xdp-lab-push-"));
  try {
    await copyFile(file, join(dir, CACHE_IMAGE_FILE));
    const layer = join(dir, "layer.tar");
    await tarCreate(layer, [[dir, CACHE_IMAGE_FILE]], false);
    await run(engine, ["import", "--change", "LABEL org.xdp-lab.cache=1", layer, ref], `wrap ${file} as ${ref}`);
    await run(engine, ["push", ...(insecure && engine.file === "podman" ? ["--tls-verify=false"] : []), ref], `push ${ref}`);
  } finally {
    await removeImage(engine, ref);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Pulls REF (pushed by pushFile) and copies its file to DEST. */
export async function pullFile(engine: Engine, ref: string, dest: string, insecure: boolean): Promise<void> {
  const name = `xdp-lab-pull-${process.pid}-${Date.now()}`;
  try {
    await run(engine, ["pull", ...(insecure && engine.file === "podman" ? ["--tls-verify=false"] : []), ref], `pull ${ref}`);
    await run(engine, ["create", "--name", name, ref, "true"], `open ${ref}`);
    await run(engine, ["cp", `${name}:/${CACHE_IMAGE_FILE}`, dest], `copy the cache archive out of ${ref} (is it an xdp-lab cache image?)`);
  } finally {
    await execa(engine.file, engineArgs(engine, ["rm", "-f", name]), { reject: false, stdin: "ignore" });
    await removeImage(engine, ref);
  }
}
