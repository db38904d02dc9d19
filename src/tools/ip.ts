// The one wrapper around iproute2's `ip`: argv builders (pure, unit-tested) and the runner.
import { execa, type Options } from "execa";

/** `ip` argv for one command, in namespace NS when given. */
export function ipArgs(ns: string | undefined, ...args: string[]): string[] {
  return ns ? ["-n", ns, ...args] : args;
}

/** Runs `ip`; throws an Error that quotes the command and ip's message. */
export async function ip(ns: string | undefined, ...args: string[]): Promise<string> {
  const argv = ipArgs(ns, ...args);
  const r = await execa("ip", argv, { reject: false });
  if (r.exitCode !== 0) throw new Error(`Failed to run ip ${argv.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/**
 * Runs many `ip` commands in one process (`ip -batch -`), in namespace NS: a lab is some forty
 * commands, and one process each would cost more than the rest of `up`.
 */
export async function ipBatch(ns: string | undefined, lines: string[][]): Promise<void> {
  if (lines.length === 0) return;
  const argv = ipArgs(ns, "-batch", "-");
  const input = lines.map((l) => l.join(" ")).join("\n") + "\n";
  const r = await execa("ip", argv, { input, reject: false });
  if (r.exitCode !== 0) throw new Error(`Failed to run ip ${argv.join(" ")}: ${(r.stderr || r.stdout).trim()}\nCommands:\n${input}`);
}

/** Argv that runs a program inside namespace NS (`ip netns exec NS ...`). */
export function netnsExecArgs(ns: string, argv: string[]): string[] {
  return ["netns", "exec", ns, ...argv];
}

/**
 * Starts ARGV inside namespace NS (`ip netns exec`): every program the runner starts in a lab's
 * namespace goes through here. A non-zero exit is a result, not an exception.
 */
export function netnsExec<O extends Options>(ns: string, argv: string[], opts?: O) {
  return execa("ip", netnsExecArgs(ns, argv), { reject: false, ...opts } as O & { reject: false });
}

/** Names of the network namespaces iproute2 knows (/run/netns). */
export async function namespaces(): Promise<string[]> {
  const out = await ip(undefined, "netns", "list");
  return out.split("\n").map((l) => l.split(" ")[0]!).filter(Boolean);
}

/** PIDs of the processes in namespace NS. */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await execa("ip", ["netns", "pids", ns], { reject: false });
  if (r.exitCode !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number);
}

/**
 * Writes sysctls inside namespace NS, in order, in one process (no procps needed: writes to
 * /proc/sys in that namespace; a key the kernel lacks is skipped).
 */
export async function sysctls(ns: string, settings: [key: string, value: string][]): Promise<void> {
  const script = settings.map(([key, value]) => {
    const path = `/proc/sys/${key.replace(/\./g, "/")}`;
    return `{ test ! -e ${path} || echo ${value} > ${path}; } || { echo "${key}=${value}" >&2; exit 1; }`;
  });
  const r = await netnsExec(ns, ["sh", "-c", script.join("\n")]);
  if (r.exitCode !== 0) throw new Error(`Failed to set ${String(r.stderr).trim().split("\n").pop()} in namespace ${ns}: ${String(r.stderr).trim()}`);
}

/** Writes one sysctl inside namespace NS. */
export function sysctl(ns: string, key: string, value: string): Promise<void> {
  return sysctls(ns, [[key, value]]);
}
