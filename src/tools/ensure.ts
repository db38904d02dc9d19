// Finds which required programs and files are missing, and installs their Debian packages when allowed.
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { aptInstall } from "./apt.ts";
import type { Requirement } from "./requirement.ts";
export type { Requirement } from "./requirement.ts";


/** Looks a program up on PATH the way a shell would; returns its path or undefined. */
export function which(bin: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, bin);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The requirements that are not satisfied on this machine. */
export function missing(reqs: Requirement[], path = process.env.PATH ?? ""): Requirement[] {
  return reqs.filter((r) => (r.bin ? !which(r.bin, path) : false) || (r.file ? !existsSync(r.file) : false));
}

function describe(r: Requirement): string {
  return `${r.bin ?? r.file} (Debian package ${r.package})`;
}

export interface EnsureOptions {
  /** Install missing packages with apt-get; only possible as root. */
  install: boolean;
  /** What needs them, for the error message. */
  purpose: string;
  path?: string;
  log?: (line: string) => void;
  /**
   * Versions to install where the archive still has them (the package lock), so a fresh machine's
   * host build starts from the locked set; when apt cannot find one, today's versions are installed.
   */
  versions?: Record<string, string>;
}

/** The apt arguments for PACKAGES, each at its version from VERSIONS when there is one. */
export function pinnedSpecs(packages: string[], versions: Record<string, string> = {}): string[] {
  return packages.map((p) => (versions[p] ? `${p}=${versions[p]}` : p));
}

/**
 * Makes sure every requirement is met: installs the missing packages when allowed and possible,
 * otherwise throws an error that names each missing program and its package.
 */
export async function ensure(reqs: Requirement[], opts: EnsureOptions): Promise<void> {
  let absent = missing(reqs, opts.path);
  if (absent.length === 0) return;
  const packages = [...new Set(absent.map((r) => r.package))].sort();
  const canInstall = opts.install && process.getuid?.() === 0 && which("apt-get", opts.path) !== undefined;
  if (canInstall) {
    opts.log?.(`installing ${packages.join(" ")} for ${opts.purpose}`);
    const pinned = pinnedSpecs(packages, opts.versions);
    if (pinned.some((p, i) => p !== packages[i])) {
      // Debian's archive replaces versions within days: a lock it moved past is not a reason to stop.
      await aptInstall(pinned).catch((error: Error) => {
        opts.log?.(`the archive no longer has every locked version (${error.message.split("\n").find((l) => /^E: /.test(l)) ?? "apt-get failed"}); installing today's versions`);
        return aptInstall(packages);
      });
    } else {
      await aptInstall(packages);
    }
    absent = missing(reqs, opts.path);
    if (absent.length === 0) return;
  }
  const hint = opts.install
    ? "run as root so they can be installed, or install them"
    : "install them (or drop --no-install)";
  throw new Error(
    `Missing for ${opts.purpose}: ${absent.map(describe).join(", ")}.\n` +
      `Fix: ${hint}: apt-get install ${[...new Set(absent.map((r) => r.package))].sort().join(" ")}`,
  );
}
