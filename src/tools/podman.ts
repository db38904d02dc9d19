// Wraps the container engine (podman, or docker when no podman answers): the only place that runs
// it, for the build, the images and the lab's container hosts (network/containers.ts) alike.
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type Options } from "execa";
import { which } from "./ensure.ts";
import { tarCreate } from "./tar.ts";

export interface Engine {
  file: "podman" | "docker";
  /** Options before the subcommand, on every call. */
  global: string[];
}

/**
 * podman's options on these machines, for the lab's hosts and the build alike (src/tools/podman.ts
 * takes them from here): runc (crun fails on hybrid cgroup hierarchies), cgroupfs (no systemd
 * session needed), a file events log (no journald needed).
 */
export const PODMAN_GLOBAL = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "--events-backend=file"];

/** The limits every container gets, as the build's. */
export const RUN_LIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=20000:20000"];

/** podman's argv with the global options these machines need (runc, cgroupfs, a file events log). */
/** podman with these machines' options, for the lab's hosts and whatever else runs containers here. */
export const PODMAN: Engine = { file: "podman", global: PODMAN_GLOBAL };

export function podmanArgs(args: string[]): string[] {
  return [...PODMAN_GLOBAL, ...args];
}

/** Runs podman; throws naming WHAT and podman's message. */
export async function podman(args: string[], what: string): Promise<string> {
  const r = await execa("podman", podmanArgs(args), { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) throw new Error(`Failed to ${what}: ${String(r.stderr || r.stdout).trim()}`, { cause: r.exitCode });
  return String(r.stdout);
}

/** podman's output lines, or none when it fails or is not installed (a query, not an action). */
export async function podmanLines(args: string[]): Promise<string[]> {
  const r = await execa("podman", podmanArgs(args), { reject: false, stdin: "ignore" });
  return r.exitCode === 0 ? String(r.stdout).split("\n").filter(Boolean) : [];
}

/** Starts a podman process (exec with streams); a non-zero exit is a result. */
export function podmanProcess<O extends Options>(args: string[], opts?: O) {
  return execa("podman", args, { reject: false, ...opts } as O & { reject: false });
}

/** What `status` shows of a container, or undefined when there is none. */
export async function inspect(name: string): Promise<{ id: string; image: string; state: string } | undefined> {
  const r = await execa("podman", podmanArgs(["container", "inspect", name, "--format", "{{.Id}} {{.ImageName}} {{.State.Status}}"]), { reject: false, stdin: "ignore" });
  if (r.exitCode !== 0) return undefined;
  const [id, image, state] = String(r.stdout).trim().split(" ");
  return { id: id!.slice(0, 12), image: image!, state: state! };
}


/** What probing an engine found: it answers, or why not. */
export interface EngineProbe {
  engine: Engine;
  ok: boolean;
  /** Why it does not answer: not installed, or the first line of its complaint. */
  reason?: string;
}

/** The engines to try, podman first (no daemon to be running), with their global options. */
export function engineCandidates(): Engine[] {
  return [
    PODMAN,
    { file: "docker", global: [] },
  ];
}

/**
 * Asks ENGINE whether it can run containers: `info` talks to the engine itself, not only the client
 * (a docker client with no daemon fails it with "Cannot connect to the Docker daemon").
 */
export async function probeEngine(engine: Engine, path = process.env.PATH ?? ""): Promise<EngineProbe> {
  if (!which(engine.file, path)) return { engine, ok: false, reason: "not installed" };
  const r = await execa(engine.file, engineArgs(engine, ["info", "--format", "{{json .}}"]), { reject: false, stdin: "ignore", timeout: 30_000, env: { PATH: path } });
  if (r.exitCode === 0) return { engine, ok: true };
  // The complaint is on stderr; stdout may hold the client's half of the JSON.
  const said = [String(r.stderr ?? ""), String(r.stdout ?? "")].join("\n").split("\n").find((l) => l.trim()) ?? "";
  return { engine, ok: false, reason: r.timedOut ? "`info` did not answer within 30 s" : `\`${engine.file} info\` failed (exit ${r.exitCode}): ${said.slice(0, 300)}` };
}

/** The error when no engine answers: each engine tried and why it failed, and what to do. */
export function noEngineError(probes: EngineProbe[]): Error {
  return new Error(
    `No container engine answers for build --container: ${probes.map((p) => `${p.engine.file}: ${p.reason}`).join("; ")}.\n` +
      `Fix: apt-get install podman runc (run as root and xdp-lab installs them), or start the docker engine`,
  );
}

/** The engine found for each PATH, asked once per process. */
const found = new Map<string, Promise<Engine>>();

/**
 * The first engine that answers (podman, then docker); throws naming each one tried and why it
 * failed. A client without a running engine is never chosen.
 */
export function findEngine(path = process.env.PATH ?? ""): Promise<Engine> {
  let p = found.get(path);
  if (!p) {
    p = (async () => {
      const probes: EngineProbe[] = [];
      for (const e of engineCandidates()) {
        const probe = await probeEngine(e, path);
        if (probe.ok) return e;
        probes.push(probe);
      }
      throw noEngineError(probes);
    })();
    found.set(path, p);
    // A failure is not remembered: the caller may install an engine and ask again.
    p.catch(() => found.delete(path));
  }
  return p;
}

/** argv of the engine with its global options. */
export function engineArgs(engine: Engine, args: string[]): string[] {
  return [...engine.global, ...args];
}

/** A failed engine call: the message quotes its last lines; `output` keeps all of it. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly output: string,
    readonly exitCode: number | undefined,
  ) {
    super(message);
  }
}

async function run(engine: Engine, args: string[], what: string): Promise<string> {
  const r = await execa(engine.file, engineArgs(engine, args), { reject: false, all: true, stdin: "ignore" });
  if (r.exitCode !== 0) {
    const all = String(r.all ?? "");
    const tail = all.trimEnd().split("\n").slice(-15).join("\n");
    throw new EngineError(`Failed to ${what} with ${engine.file} (exit ${r.exitCode}):\n${tail}`, all, r.exitCode);
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

/** The image's id (the sha256 of its configuration): what the image is, whatever it is called. */
export async function imageId(engine: Engine, tag: string): Promise<string> {
  return (await run(engine, ["image", "inspect", "--format", "{{.Id}}", tag], `inspect ${tag}`)).trim().replace(/^sha256:/, "");
}

/** Writes TAG to FILE as an OCI archive (docker: its own archive format), which `loadImage` reads back. */
export async function saveImage(engine: Engine, tag: string, file: string): Promise<void> {
  const format = engine.file === "podman" ? ["--format", "oci-archive"] : [];
  await run(engine, ["save", ...format, "-o", file, tag], `save ${tag} to ${file}`);
}

/** Loads an archive written by `saveImage` and names it TAG; returns the loaded image's id. */
export async function loadImage(engine: Engine, file: string, tag: string): Promise<string> {
  const said = await run(engine, ["load", "-i", file], `load ${file}`);
  // podman prints "Loaded image: NAME" (or "Loaded image(s): ..."), docker "Loaded image: NAME" or "Loaded image ID: sha256:...".
  const loaded = /Loaded image(?:\(s\))?(?: ID)?: *(\S+)/.exec(said)?.[1]?.split(",")[0];
  if (!loaded) throw new Error(`Failed to load ${file} with ${engine.file}: it did not say which image it loaded:\n${said.trim()}`);
  const id = await imageId(engine, loaded);
  await run(engine, ["tag", id, tag], `tag ${id.slice(0, 12)} as ${tag}`);
  return id;
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
