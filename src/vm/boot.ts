// Boots a guest in qemu, waits for its ready marker, runs its command and returns the command's status.
import { createWriteStream, existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { execa } from "execa";
import { qemuArgs, type VmConfig } from "./qemu.ts";

/** Lines rootfs/init prints; kept in one place so the guest and the host agree. */
export const MARKERS = {
  ready: /XDP-LAB-READY uptime=([\d.]+)/,
  begin: "XDP-LAB-CMD-BEGIN",
  end: /XDP-LAB-CMD-END rc=(\d+)/,
  panic: /Kernel panic - not syncing/,
};

export interface BootOptions {
  vm: VmConfig;
  /** Full console log, kept after the run. */
  log: string;
  /** Seconds to wait for the ready marker. */
  readyTimeout: number;
  /** qemu binary. Default qemu-system-x86_64 from PATH. */
  qemu?: string;
  /** Each line the guest command prints (command mode). */
  onOutput?: (line: string) => void;
  /** Interactive mode: the console is wired to this terminal. */
  interactive?: boolean;
  onReady?: (r: { seconds: number; uptime: number }) => void;
}

export interface BootResult {
  /** Wall time from qemu start to the ready marker. */
  readySeconds: number;
  /** Guest uptime the marker carried. */
  guestUptime: number;
  /** Exit status of the guest command (0 for an interactive session). */
  exitCode: number;
  log: string;
}

const TAIL = 25;

export async function boot(o: BootOptions): Promise<BootResult> {
  await mkdir(dirname(o.log), { recursive: true });
  const log = createWriteStream(o.log);
  const args = qemuArgs(o.vm);
  log.write(`# ${o.qemu ?? "qemu-system-x86_64"} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
  const started = performance.now();
  const child = execa(o.qemu ?? "qemu-system-x86_64", args, {
    stdin: o.interactive ? "inherit" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
  });

  // After a kill, stop reading too: a helper process qemu spawned may hold the pipe open.
  const kill = (): void => {
    child.kill("SIGKILL");
    child.stdout?.destroy();
    child.stderr?.destroy();
  };

  const tail: string[] = [];
  let stderr = "";
  let readyAt: number | undefined;
  let uptime = 0;
  let inCommand = false;
  let rc: number | undefined;
  let panicked = false;
  let timedOut = false;
  let pending = "";

  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL) tail.shift();
    if (MARKERS.panic.test(line)) panicked = true;
    const ready = MARKERS.ready.exec(line);
    if (ready && readyAt === undefined) {
      readyAt = performance.now();
      uptime = Number(ready[1]);
      o.onReady?.({ seconds: (readyAt - started) / 1000, uptime });
      return;
    }
    if (line.endsWith(MARKERS.begin)) {
      inCommand = true;
      return;
    }
    const end = MARKERS.end.exec(line);
    if (end && inCommand) {
      inCommand = false;
      rc = Number(end[1]);
      // The guest powers off next; do not let a stuck power-off hold the caller.
      setTimeout(kill, 10_000).unref();
      return;
    }
    if (inCommand) o.onOutput?.(line);
  };

  child.stdout!.on("data", (chunk: Buffer) => {
    log.write(chunk);
    if (o.interactive) process.stdout.write(chunk);
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const l of lines) onLine(l.replace(/\r$/, ""));
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
    log.write(chunk);
  });

  const timer = setTimeout(() => {
    if (readyAt === undefined) {
      timedOut = true;
      kill();
    }
  }, o.readyTimeout * 1000);
  const stop = (): void => void child.kill("SIGTERM");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let result;
  try {
    result = await child;
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    if (pending) onLine(pending);
    await new Promise((res) => log.end(res));
  }

  const fail = (what: string): Error =>
    new Error(`Guest ${what}. Last console lines:\n${tail.map((l) => `  | ${l}`).join("\n")}\nFull console log: ${o.log}`);
  if (result.failed && result.exitCode === undefined && !result.isTerminated) {
    throw new Error(`Failed to start qemu: ${result.message}. Fix: install qemu-system-x86 (apt-get install qemu-system-x86)`);
  }
  if (panicked) throw fail("kernel panicked");
  if (timedOut) throw fail(`did not print its ready marker within ${o.readyTimeout} s`);
  if (readyAt === undefined) {
    const why = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" / ")}` : "";
    throw fail(`stopped before it was ready (qemu exit ${result.exitCode ?? result.signal}${why})`);
  }
  if (!o.interactive && o.vm.command !== undefined && rc === undefined) {
    throw fail(`stopped before its command finished (qemu exit ${result.exitCode ?? result.signal})`);
  }
  return { readySeconds: (readyAt - started) / 1000, guestUptime: uptime, exitCode: rc ?? 0, log: o.log };
}
