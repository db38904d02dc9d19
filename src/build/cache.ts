// The build cache: stage outputs stored under their content key, persistent work trees, ccache.
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile, utimes } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

/** $XDG_CACHE_HOME/xdp-lab, else ~/.cache/xdp-lab. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "xdp-lab");
}

export interface EntryMeta {
  stage: string;
  key: string;
  created: string;
  /** Seconds the stage took when it was built. */
  seconds: number;
  /** Units of progress the build printed (compiled files), to show a percentage next time. */
  progressUnits?: number;
  /**
   * The kernel version a kernel-dependent entry (kernel, kmod, bpf, rootfs) was built for, by
   * build --kernel VERSION: prune keeps each version's entries apart, so one kernel's builds never
   * push out another's.
   */
  kernel?: string;
}

export interface Entry extends EntryMeta {
  dir: string;
  lastUsed: Date;
}

/** The file in every cache entry that describes it (stage, key, when); the rest is the stage's output. */
export const ENTRY_META = "xdp-lab-entry.json";

export class Cache {
  constructor(readonly root: string) {}

  get ccache(): string {
    return join(this.root, "ccache");
  }

  entryDir(stage: string, key: string): string {
    return join(this.root, "stages", stage, key);
  }

  /** Persistent work tree for an incremental stage, one per source identity. */
  workDir(stage: string, id: string): string {
    return join(this.root, "work", stage, id.slice(0, 16));
  }

  /** A fresh directory for a stage to build into, on the cache's file system so publishing is a rename. */
  async scratch(stage: string): Promise<string> {
    const dir = join(this.root, "tmp", `${stage}-${process.pid}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** The complete entry for stage/key, or undefined. Marks it used (for prune). */
  async lookup(stage: string, key: string): Promise<string | undefined> {
    const dir = this.entryDir(stage, key);
    if (!existsSync(join(dir, ENTRY_META))) return undefined;
    const now = new Date();
    await utimes(join(dir, ENTRY_META), now, now).catch(() => undefined);
    return dir;
  }

  /** Moves a finished scratch directory into the cache under its key; the entry appears whole or not at all. */
  async store(scratch: string, meta: EntryMeta): Promise<string> {
    await writeFile(join(scratch, ENTRY_META), JSON.stringify(meta, null, 2) + "\n");
    const dir = this.entryDir(meta.stage, meta.key);
    await mkdir(join(this.root, "stages", meta.stage), { recursive: true });
    if (existsSync(dir)) await rm(dir, { recursive: true, force: true });
    await rename(scratch, dir);
    return dir;
  }

  /**
   * The progress units to expect from a stage's build: the most any cached build of it (for that
   * kernel) printed. An incremental build prints fewer, so the most recent one would understate a
   * build after a config change (seen: "200/11 files").
   */
  async lastProgressUnits(stage: string, kernel?: string): Promise<number | undefined> {
    const units = (await this.entries()).filter((e) => e.stage === stage && e.progressUnits && e.kernel === kernel).map((e) => e.progressUnits!);
    return units.length ? Math.max(...units) : undefined;
  }

  /** Complete entries with their sizes on disk, for `cache ls`; walking them costs, so only it asks. */
  async list(): Promise<(Entry & { bytes: number })[]> {
    return Promise.all((await this.entries()).map(async (e) => ({ ...e, bytes: await duBytes(e.dir) })));
  }

  /** Complete entries by stage, most recently used first. */
  async entries(): Promise<Entry[]> {
    const entries: Entry[] = [];
    const stagesDir = join(this.root, "stages");
    for (const stage of await readdir(stagesDir).catch(() => [] as string[])) {
      for (const key of await readdir(join(stagesDir, stage)).catch(() => [] as string[])) {
        const dir = join(stagesDir, stage, key);
        try {
          const meta = JSON.parse(await readFile(join(dir, ENTRY_META), "utf8")) as EntryMeta;
          const st = await stat(join(dir, ENTRY_META));
          entries.push({ ...meta, dir, lastUsed: st.mtime });
        } catch {
          // incomplete entry: ignored here, removed by prune
        }
      }
    }
    return entries.sort((a, b) => a.stage.localeCompare(b.stage) || b.lastUsed.getTime() - a.lastUsed.getTime());
  }

  /**
   * Removes all but the `keep` most recently used entries of each stage, leftovers of interrupted
   * builds, and with `all` everything (work trees and ccache too). Returns what was removed.
   */
  async prune(opts: { keep: number; all: boolean }): Promise<string[]> {
    const removed: string[] = [];
    const drop = async (dir: string): Promise<void> => {
      await rm(dir, { recursive: true, force: true });
      removed.push(dir);
    };
    if (opts.all) {
      for (const name of await readdir(this.root).catch(() => [] as string[])) await drop(join(this.root, name));
      return removed;
    }
    for (const name of await readdir(join(this.root, "tmp")).catch(() => [] as string[])) {
      const pid = Number.parseInt(name.split("-")[1] ?? "", 10);
      if (!isAlive(pid)) await drop(join(this.root, "tmp", name));
    }
    const entries = await this.entries();
    const complete = new Set(entries.map((e) => e.dir));
    // Per stage and kernel version: keep 1 keeps the newest 6.1 kernel and the newest 6.12 one.
    const byStage = new Map<string, Entry[]>();
    for (const e of entries) {
      const group = `${e.stage}\0${e.kernel ?? ""}`;
      byStage.set(group, [...(byStage.get(group) ?? []), e]);
    }
    for (const list of byStage.values()) for (const e of list.slice(opts.keep)) await drop(e.dir);
    const stagesDir = join(this.root, "stages");
    for (const stage of await readdir(stagesDir).catch(() => [] as string[])) {
      for (const key of await readdir(join(stagesDir, stage)).catch(() => [] as string[])) {
        const dir = join(stagesDir, stage, key);
        if (!complete.has(dir) && !removed.includes(dir)) await drop(dir);
      }
    }
    return removed;
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isFinite(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function duBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) total += await duBytes(full);
    else if (e.isFile()) total += (await stat(full)).size;
  }
  return total;
}

/**
 * A lock on a directory (a work tree two builds must not share at once), taken by creating
 * `<dir>.lock` with our pid; a lock whose process is gone is taken over.
 */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const lock = `${dir}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lock, String(process.pid), { flag: "wx" });
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number.parseInt(await readFile(lock, "utf8").catch(() => ""), 10);
      // An empty lock file is one being written right now, unless it is old.
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? 0);
      if (Number.isFinite(pid) ? !isAlive(pid) : age > 10_000) {
        await rm(lock, { force: true });
        continue;
      }
      if (attempt === 0) process.stderr.write(`waiting for another build (pid ${pid}) using ${dir}\n`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}
