// Wraps apt-get: the only place that installs Debian packages.
import { execa } from "execa";

/** argv of the install step, non-interactive and without recommends to keep installs small. */
export function aptInstallArgs(packages: string[]): string[] {
  return ["install", "-y", "--no-install-recommends", ...packages];
}

/**
 * Upgrades installed packages to this machine's candidates, never installing others in their place
 * or removing any (--no-remove: apt refuses instead). Used to bring a host to the lock's archive.
 */
export function aptUpgrade(packages: string[]): Promise<void> {
  return aptGet(["install", "-y", "--only-upgrade", "--no-remove", ...packages], `upgrade ${packages.join(" ")}`, "upgrade them by hand (apt-get install --only-upgrade ...)");
}

/**
 * Installs exactly SPECS (`package=version`), moving an installed package up or down to that
 * version, but never removing another package for it (--no-remove: apt refuses instead).
 */
export function aptInstallExact(specs: string[]): Promise<void> {
  return aptGet(["install", "-y", "--no-install-recommends", "--allow-downgrades", "--no-remove", ...specs], `install ${specs.join(" ")}`, `apt-get install ${specs.join(" ")}`);
}

/** Runs `apt-get update` once, then installs the packages. */
export function aptInstall(packages: string[]): Promise<void> {
  return aptGet(aptInstallArgs(packages), `install ${packages.join(" ")}`, `check the machine's apt sources, then run: apt-get install ${packages.join(" ")}`);
}

/**
 * Where xdp-lab's apt calls wait for each other: apt refuses a second install at once ("Could not
 * get lock"), and a build, a test and a lab may each install what they lack at the same time.
 */
export const APT_LOCK = "/run/lock/xdp-lab-apt.lock";

/** argv of `apt-get ARGS` under APT_LOCK (flock, util-linux), waiting up to half an hour for it. */
export function aptGetArgv(args: string[]): [string, string[]] {
  return ["flock", ["-w", "1800", APT_LOCK, "apt-get", ...args]];
}

/** `apt-get update`, then `apt-get ARGS` (none: the update alone); a failure quotes apt's last lines, WHAT it was doing and the FIX. */
async function aptGet(args: string[], what: string, fix: string): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  try {
    await execa(...aptGetArgv(["update"]), { env, all: true });
    if (args.length) await execa(...aptGetArgv(args), { env, all: true });
  } catch (error) {
    const out = (error as { all?: string }).all ?? "";
    throw new Error(`Failed to ${what} with apt-get:\n${out.split("\n").slice(-10).join("\n")}\nFix: ${fix}`, { cause: error });
  }
}

/** `apt-get update`: this machine's view of the archive, as of now. */
export function aptUpdate(): Promise<void> {
  return aptGet([], "update apt's package lists", "check the machine's apt sources and network, then run apt-get update");
}

/** `package=version` of what `apt-get install` would install now from this machine's sources (apt-cache policy's candidates). */
export async function candidateVersions(packages: string[]): Promise<string[]> {
  const r = await execa("apt-cache", ["policy", ...packages], { reject: false });
  return parseCandidates(String(r.stdout));
}

/** The `Candidate:` of each package in apt-cache policy's output; packages without one are left out. */
export function parseCandidates(policy: string): string[] {
  const out: string[] = [];
  let pkg: string | undefined;
  for (const line of policy.split("\n")) {
    const head = /^(\S+):$/.exec(line);
    if (head) pkg = head[1]!.replace(/:amd64$/, "");
    const cand = /^\s+Candidate:\s+(\S+)/.exec(line);
    if (cand && pkg && cand[1] !== "(none)") out.push(`${pkg}=${cand[1]}`);
  }
  return out.sort();
}
