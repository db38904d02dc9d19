// The lab's qemu as a supervised background process: a shell in the lab namespace runs qemu and
// records how it ended, so `status` can say "killed by signal 9" instead of just "not running".
import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { firstErrorLine } from "./qemu.ts";

/** Where the supervisor writes qemu's stderr and, when qemu ends, its status. */
export interface QemuFiles {
  stderr: string;
  exit: string;
}

/**
 * ARGV (qemu's) wrapped in a shell that keeps qemu's stderr and writes its status when it ends:
 * the exit status, or 128+N for signal N (how POSIX shells report a signalled child).
 */
export function supervisedArgv(argv: string[], f: QemuFiles): string[] {
  return ["sh", "-c", 'err=$1 st=$2; shift 2; "$@" </dev/null >/dev/null 2>"$err"; echo $? >"$st"', "xdp-lab-qemu", f.stderr, f.exit, ...argv];
}

/** A shell status in words: "exited with status 1", "was killed by signal 9 (SIGKILL)". */
export function describeStatus(status: number): string {
  if (status > 128) {
    const sig = status - 128;
    const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0];
    return `was killed by signal ${sig}${name ? ` (${name})` : ""}`;
  }
  return `exited with status ${status}`;
}

/** How qemu ended, from the supervisor's files; undefined while it runs or when nobody recorded it. */
export function qemuEnding(f: QemuFiles): string | undefined {
  let text: string;
  try {
    text = readFileSync(f.exit, "utf8").trim();
  } catch {
    return undefined;
  }
  // The shell creates the file before it writes the status: an empty file is not "status 0".
  const status = Number(text);
  if (text === "" || !Number.isInteger(status)) return undefined;
  const said = firstErrorLine(readOr(f.stderr, ""));
  return `qemu ${describeStatus(status)}${said ? `: ${said}` : ""}`;
}

/**
 * How qemu ended, at the moment it is seen to go: the supervisor writes the status just after qemu
 * exits, so this waits up to MS for it rather than report an ending nobody recorded yet. For a VM
 * that died earlier (status, the refusals) qemuEnding answers at once: waiting would only stall.
 */
export async function awaitQemuEnding(f: QemuFiles, ms = 2_000): Promise<string | undefined> {
  const deadline = performance.now() + ms;
  for (;;) {
    const ended = qemuEnding(f);
    if (ended || performance.now() >= deadline) return ended;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
}
