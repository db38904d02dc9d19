// Wraps tar: cache archives (tar.gz, readable anywhere) and the image's root file system.
import { execa } from "execa";

/** argv that writes ARCHIVE with each [dir, member] pair, member relative to dir. */
export function tarCreateArgs(archive: string, members: [dir: string, member: string][], gzip = true): string[] {
  return [gzip ? "-czf" : "-cf", archive, "--sort=name", ...members.flatMap(([dir, m]) => ["-C", dir, m])];
}

export async function tarCreate(archive: string, members: [dir: string, member: string][], gzip = true): Promise<void> {
  const r = await execa("tar", tarCreateArgs(archive, members, gzip), { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`Failed to write ${archive} with tar: ${String(r.all).trim()}`);
}

/** An uncompressed tar of everything in DIR, owners and modes kept (a root file system for `podman import`). */
export async function tarTree(dir: string, archive: string): Promise<void> {
  const r = await execa("tar", ["-C", dir, "-cf", archive, "."], { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`Failed to write ${archive} from ${dir} with tar: ${String(r.all).trim()}`);
}

/** Extracts ARCHIVE into DIR (owned by whoever extracts it); throws with tar's complaint. */
export async function tarExtract(archive: string, dir: string): Promise<void> {
  const r = await execa("tar", ["-xzf", archive, "-C", dir, "--no-same-owner", "--no-same-permissions"], { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`${archive} is not a readable cache archive (tar: ${String(r.all).trim().split("\n").slice(-2).join(" ")})`);
}
