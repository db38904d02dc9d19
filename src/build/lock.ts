// The locked package set: the exact Debian version of every build package. The container image and
// the Dagger toolchain install exactly these; the host build compares its own versions with them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../paths.ts";
import { sha256 } from "./hash.ts";
import { buildPackages } from "./packages.ts";

/** The lock file, beside the package list it locks (dagger.json includes src/build/**). */
export const LOCK_PATH = join(REPO, "src", "build", "packages.lock");

/** Package name to exact Debian version. */
export type Lock = Record<string, string>;

/** Reads `package=version` lines; `#` starts a comment. Throws naming the bad line. */
export function parseLock(text: string, path = LOCK_PATH): Lock {
  const lock: Lock = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    const m = /^([a-z0-9][a-z0-9+.-]*)=(\S+)$/.exec(line);
    if (!m) throw new Error(`${path}:${i + 1}: "${raw}" is not package=version. Fix: regenerate it with ./xdp-lab lock`);
    lock[m[1]!] = m[2]!;
  }
  return lock;
}

/** The lock file's text: a header, then one `package=version` per line, sorted. */
export function formatLock(lock: Lock): string {
  const lines = Object.keys(lock)
    .sort()
    .map((p) => `${p}=${lock[p]}`);
  return (
    `# Exact Debian versions of the build packages (src/build/packages.ts buildPackages()).\n` +
    `# The container image and the Dagger toolchain install exactly these; the host build warns when\n` +
    `# its own differ. Refresh with ./xdp-lab lock on an up-to-date bookworm machine.\n` +
    lines.join("\n") +
    "\n"
  );
}

/** Identity of the locked set (comments left out): part of every container stage's cache key and image tag. */
export function lockHash(lock: Lock): string {
  return sha256(
    Object.keys(lock)
      .sort()
      .map((p) => `${p}=${lock[p]}\n`)
      .join(""),
  );
}

/** The lock from the checkout; throws when it is missing or does not cover exactly buildPackages(). */
export function readLock(path = LOCK_PATH, packages = buildPackages()): Lock {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`Cannot read the package lock ${path}: ${(error as Error).message}. Fix: run ./xdp-lab lock on a machine with the build packages`, {
      cause: error,
    });
  }
  const lock = parseLock(text, path);
  const absent = packages.filter((p) => !(p in lock));
  const extra = Object.keys(lock).filter((p) => !packages.includes(p));
  if (absent.length || extra.length) {
    throw new Error(
      `The package lock ${path} does not match the build packages` +
        (absent.length ? `: it lacks ${absent.join(", ")}` : "") +
        (extra.length ? `${absent.length ? ";" : ":"} it has ${extra.join(", ")} that no stage needs` : "") +
        `. Fix: run ./xdp-lab lock`,
    );
  }
  return lock;
}

/** `package=version` arguments for apt-get install: exactly the locked versions. */
export function aptSpecs(lock: Lock): string[] {
  return Object.keys(lock)
    .sort()
    .map((p) => `${p}=${lock[p]}`);
}

export interface LockDifference {
  package: string;
  locked: string;
  /** Undefined when the package is not installed. */
  installed?: string;
}

/** The packages whose installed version (from dpkg's `package=version` lines) is not the locked one. */
export function lockDifferences(lock: Lock, installed: string[]): LockDifference[] {
  const have = new Map(installed.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  return Object.keys(lock)
    .sort()
    .filter((p) => have.get(p) !== lock[p])
    .map((p) => ({ package: p, locked: lock[p]!, installed: have.get(p) }));
}

/** One short line for the host build: which packages differ, so its artifacts will not match CI's. */
export function describeDifferences(diffs: LockDifference[], max = 4): string {
  const shown = diffs.slice(0, max).map((d) => `${d.package} ${d.installed ?? "(not installed)"} (lock: ${d.locked})`);
  const more = diffs.length > max ? ` and ${diffs.length - max} more` : "";
  return (
    `host packages differ from src/build/packages.lock: ${shown.join(", ")}${more}; ` +
    `artifacts will not match CI's or --container's (build --container, or apt-get install the locked versions)`
  );
}

/** The lock of this machine's installed build packages; throws naming any that is not installed. */
export function lockFromInstalled(installed: string[], packages = buildPackages()): Lock {
  const have = new Map(installed.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  const absent = packages.filter((p) => !have.has(p));
  if (absent.length) {
    throw new Error(`Cannot lock: ${absent.join(", ")} not installed on this machine. Fix: apt-get install ${absent.join(" ")}, then run ./xdp-lab lock again`);
  }
  return Object.fromEntries(packages.map((p) => [p, have.get(p)!]));
}

/** One package whose locked version changes: from undefined is added, to undefined is dropped. */
export interface LockChange {
  package: string;
  from?: string;
  to?: string;
}

/** What changes between two locks, by package name. */
export function diffLocks(before: Lock, after: Lock): LockChange[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort()
    .filter((p) => before[p] !== after[p])
    .map((p) => ({ package: p, from: before[p], to: after[p] }));
}

/** The changes as lines for people: `bpftool  7.1.0+6.1.192-2 -> 7.1.0+6.1.192-3`. */
export function formatChanges(changes: LockChange[]): string {
  const width = Math.max(0, ...changes.map((c) => c.package.length));
  return changes.map((c) => `  ${c.package.padEnd(width)}  ${c.from ?? "(new)"} -> ${c.to ?? "(dropped)"}\n`).join("");
}
