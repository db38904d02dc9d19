// Content hashes for cache keys and manifests: files, trees of files, and kernel source identities.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat, lstat, readlink, writeFile, mkdir, rename } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Every regular file and symlink below root (or root itself if it is a file), sorted, as relative paths. */
export async function listTree(root: string, ignore: (rel: string) => boolean = () => false): Promise<string[]> {
  const st = await lstat(root);
  if (!st.isDirectory()) return [""];
  const out: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const full = join(dir, e.name);
      const rel = relative(root, full).split(sep).join("/");
      if (ignore(rel)) continue;
      if (e.isDirectory()) await walk(full);
      else out.push(rel);
    }
  }
  await walk(root);
  return out.sort();
}

/**
 * Hash of a set of files and directories: each file's path, executable bit and content, so a renamed,
 * chmod'ed or edited input changes it. Returns the per-file hashes too, for the manifest.
 */
export async function hashInputs(
  base: string,
  paths: string[],
  ignore: (rel: string) => boolean = () => false,
): Promise<{ digest: string; files: Record<string, string> }> {
  const files: Record<string, string> = {};
  for (const p of paths) {
    const root = join(base, p);
    for (const rel of await listTree(root, (r) => ignore(p + "/" + r))) {
      const full = rel ? join(root, rel) : root;
      const name = rel ? `${p}/${rel}` : p;
      const st = await lstat(full);
      const mode = st.isSymbolicLink() ? "l" : st.mode & 0o111 ? "x" : "f";
      const content = st.isSymbolicLink() ? sha256(await readlink(full)) : await sha256File(full);
      files[name] = `${mode}:${content}`;
    }
  }
  const lines = Object.keys(files)
    .sort()
    .map((k) => `${k} ${files[k]}`);
  return { digest: sha256(lines.join("\n")), files };
}

/**
 * Remembers file hashes by (path, size, mtime, inode) so that a 130 MB source tarball is hashed once,
 * not on every build.
 */
export class HashMemo {
  private entries: Record<string, { stamp: string; sha: string }> = {};
  private dirty = false;
  constructor(private readonly file: string) {}

  async load(): Promise<void> {
    try {
      this.entries = JSON.parse(await readFile(this.file, "utf8"));
    } catch {
      this.entries = {};
    }
  }

  async fileSha(path: string): Promise<string> {
    const st = await stat(path);
    const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
    const known = this.entries[path];
    if (known && known.stamp === stamp) return known.sha;
    const sha = await sha256File(path);
    this.entries[path] = { stamp, sha };
    this.dirty = true;
    return sha;
  }

  /**
   * COMPUTE's answer for KEY, kept while STAMP (what the answer depends on: a file's size, mtime and
   * inode) is unchanged: the toolchain's versions and dpkg's answers, asked at every build.
   */
  async remember(key: string, stamp: string, compute: () => Promise<string>): Promise<string> {
    const known = this.entries[key];
    if (known && known.stamp === stamp) return known.sha;
    const value = await compute();
    this.entries[key] = { stamp, sha: value };
    this.dirty = true;
    return value;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}`;
    await writeFile(tmp, JSON.stringify(this.entries));
    await rename(tmp, this.file);
    this.dirty = false;
  }
}

/** A file's stamp for HashMemo.remember: size, mtime and inode of what PATH resolves to; "absent" when there is none. */
export async function fileStamp(path: string): Promise<string> {
  try {
    const st = await stat(path);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return "absent";
  }
}

/**
 * What identifies a kernel source: a tarball by content; a git tree by HEAD plus its uncommitted
 * diff; any other tree by every file's path, size and mtime.
 */
export async function kernelSourceIdentity(src: string, memo: HashMemo): Promise<string> {
  const st = await stat(src);
  if (st.isFile()) return `tarball:${await memo.fileSha(src)}`;
  // Loaded here, not at the top: the stage table (which imports this file) must load with node's
  // own modules only, because the Dagger module imports it where no npm package is installed.
  const { git } = await import("../tools/git.ts");
  const head = await git(src, ["rev-parse", "HEAD"]).catch(() => undefined);
  if (head !== undefined) {
    const diff = await git(src, ["diff", "HEAD", "--no-ext-diff", "--binary"]);
    const untracked = await git(src, ["ls-files", "--others", "--exclude-standard"]);
    return `git:${head.trim()}:${sha256(diff + "\0" + untracked)}`;
  }
  const lines: string[] = [];
  for (const rel of await listTree(src)) {
    const s = await lstat(join(src, rel));
    lines.push(`${rel} ${s.size} ${s.mtimeMs}`);
  }
  return `tree:${sha256(lines.join("\n"))}`;
}
