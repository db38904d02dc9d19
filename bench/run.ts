// What the benchmarks share: the CLI run as a user runs it, timed, and its --json event lines.
import { execa } from "execa";
import { join } from "node:path";
import { REPO } from "../src/paths.ts";

/** Runs CHECKOUT's ./xdp-lab with ARGS (and ENV on top of ours); throws with its stderr's tail when it fails. */
export async function timedXdpLab(args: string[], o: { checkout?: string; env?: Record<string, string> } = {}): Promise<{ seconds: number; stdout: string }> {
  const checkout = o.checkout ?? REPO;
  const started = performance.now();
  const r = await execa(join(checkout, "xdp-lab"), args, { cwd: checkout, env: o.env, reject: false, stdin: "ignore" });
  const seconds = (performance.now() - started) / 1000;
  if (r.exitCode !== 0) throw new Error(`xdp-lab ${args.join(" ")} failed (exit ${r.exitCode}):\n${r.stderr.slice(-3000)}`);
  return { seconds, stdout: r.stdout };
}

/**
 * A fresh clone of HEAD into DIR (its ./xdp-lab installs its own node_modules on first use, as a
 * user's would), with the commit it holds and whether this checkout has changes the clone lacks.
 */
export async function cleanClone(dir: string): Promise<{ dir: string; commit: string; uncommittedChangesNotMeasured: boolean }> {
  await execa("git", ["clone", "--quiet", "--no-hardlinks", REPO, dir]);
  const commit = (await execa("git", ["-C", dir, "rev-parse", "HEAD"])).stdout;
  const dirty = (await execa("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"])).stdout.trim();
  return { dir, commit, uncommittedChangesNotMeasured: dirty !== "" };
}

/** The middle of XS (of an even count, the upper of the two middle ones). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The JSON event lines of a `--json` run. */
export function jsonEvents<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as T);
}
