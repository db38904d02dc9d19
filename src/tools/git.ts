// Wraps git: read-only queries for source identity and reproducible timestamps.
import { execa } from "execa";

/** Runs git in dir and returns stdout; rejects when dir is not a checkout or git fails. */
export async function git(dir: string, args: string[]): Promise<string> {
  const { stdout } = await execa("git", ["-C", dir, ...args], { stripFinalNewline: false });
  return stdout;
}

/**
 * SOURCE_DATE_EPOCH for a set of inputs: the commit time of the last commit that touched them, so the
 * timestamp only moves when they do. 0 outside a git checkout or for never-committed inputs.
 */
export async function lastCommitTime(repo: string, paths: string[]): Promise<number> {
  try {
    const out = await git(repo, ["log", "-1", "--format=%ct", "--", ...paths]);
    const t = Number.parseInt(out.trim(), 10);
    return Number.isFinite(t) ? t : 0;
  } catch {
    return 0;
  }
}
