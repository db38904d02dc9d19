// Boots a guest in qemu, waits for its ready marker, runs its command and returns the command's status.
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { MARKERS } from "../contract.ts";
import { ConsoleWatch, lineSplitter } from "./console.ts";
import { qemuArgs, qemuBinary, type VmConfig } from "./qemu.ts";


export interface BootOptions {
  vm: VmConfig;
  /** Full console log, kept after the run. */
  log: string;
  /** Seconds to wait for the ready marker. */
  readyTimeout: number;
  /** qemu binary. Default: qemuBinary(), XDP_LAB_QEMU or qemu-system-x86_64 from PATH. */
  qemu?: string;
  /** Each line the guest command prints (command mode). */
  onOutput?: (line: string) => void;
  /** Interactive mode: the console is wired to this terminal. */
  interactive?: boolean;
  onReady?: (r: { seconds: number; uptime: number }) => void;
  /**
   * Starts the wait for the ready marker: calls EXPIRE when it is over, returns its cancel. Default:
   * readyTimeout seconds of wall time. Tests end it on an event instead of a clock.
   */
  readyTimer?: (expire: () => void) => () => void;
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


/** Why a boot failed, for callers that decide what to do next (the KVM probe). */
export type BootFailure = "start" | "panic" | "timeout" | "exit" | "command";

/** A failed boot: the message quotes the console tail and names the log; the fields say what happened. */
/**
 * Whether a boot that failed with MESSAGE is tried once more: a kernel panic before ready, under
 * TCG, on the first attempt. QEMU 7.2's TCG has panicked Debian's 6.12 at boot now and then, with
 * RIP in the middle of an instruction the kernel was patching (a 5-byte nop); the next boot of the
 * same files came up. A panic that repeats is the kernel's, and is reported.
 */
export function retryPanic(message: string, accel: string, attempt: number): boolean {
  return attempt === 1 && accel === "tcg" && /kernel panicked/.test(message);
}

export class BootError extends Error {
  constructor(
    message: string,
    readonly failure: BootFailure,
    /** What qemu wrote on stderr. */
    readonly stderr: string,
    /** The console's last lines. */
    readonly tail: string[],
    /** Whether the guest had printed its ready marker (a panic after it is the command's). */
    readonly ready = false,
  ) {
    super(message);
    this.name = "BootError";
  }
}


/** Connects to the Unix socket qemu listens on, retrying until it exists or `alive` says qemu is gone. */
async function connectWhenListening(path: string, alive: () => boolean): Promise<Socket | undefined> {
  while (alive()) {
    if (existsSync(path)) {
      const sock = await new Promise<Socket | undefined>((res) => {
        const s = connect(path);
        s.once("connect", () => res(s));
        s.once("error", () => res(undefined));
      });
      if (sock) return sock;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

export async function boot(o: BootOptions): Promise<BootResult> {
  await mkdir(dirname(o.log), { recursive: true });
  const commandMode = !o.interactive && o.vm.command !== undefined;
  const sockDir = commandMode ? await mkdtemp(join(tmpdir(), "xdp-lab-vm-")) : undefined;
  const vm: VmConfig = sockDir ? { ...o.vm, commandSocket: join(sockDir, "cmd.sock") } : o.vm;
  const log = createWriteStream(o.log);
  const args = qemuArgs(vm);
  const qemu = o.qemu ?? qemuBinary();
  log.write(`# ${qemu} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
  const started = performance.now();
  const child = execa(qemu, args, {
    stdin: o.interactive ? "inherit" : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
  });
  let exited = false;
  let channel: Socket | undefined;
  // After a kill, stop reading too: a helper process qemu spawned may hold a pipe open.
  const kill = (): void => {
    child.kill("SIGKILL");
    child.stdout?.destroy();
    child.stderr?.destroy();
    channel?.destroy();
  };

  let stderr = "";
  let readyAt: number | undefined;
  let inCommand = false;
  let rc: number | undefined;
  let timedOut = false;

  const watch = new ConsoleWatch((uptime) => {
    readyAt = performance.now();
    o.onReady?.({ seconds: (readyAt - started) / 1000, uptime });
  });
  const outputLines = lineSplitter((line) => {
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
  });

  child.stdout!.on("data", (chunk: Buffer) => {
    log.write(chunk);
    if (o.interactive) process.stdout.write(chunk);
    watch.push(chunk);
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
    log.write(chunk);
  });
  const connected = vm.commandSocket
    ? connectWhenListening(vm.commandSocket, () => !exited).then((s) => {
        channel = s;
        s?.on("data", (chunk: Buffer) => outputLines.push(chunk));
        s?.on("error", () => undefined);
      })
    : Promise.resolve();

  const expire = (): void => {
    if (readyAt === undefined) {
      timedOut = true;
      kill();
    }
  };
  const cancelTimer =
    o.readyTimer?.(expire) ??
    ((t) => () => clearTimeout(t))(setTimeout(expire, o.readyTimeout * 1000));
  const stop = (): void => void child.kill("SIGTERM");
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let result;
  try {
    result = await child;
  } finally {
    exited = true;
    cancelTimer();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await connected;
    // Output still in flight on the channel arrives before its close.
    if (channel && !channel.destroyed) await new Promise((r) => channel!.once("close", r));
    watch.flush();
    outputLines.flush();
    await new Promise((res) => log.end(res));
    if (sockDir) await rm(sockDir, { recursive: true, force: true });
  }

  const fail = (what: string, failure: BootFailure): BootError =>
    new BootError(`Guest ${what}. Last console lines:\n${watch.quote()}\nFull console log: ${o.log}`, failure, stderr, watch.tail(), readyAt !== undefined);
  if (result.failed && result.exitCode === undefined && !result.isTerminated) {
    throw new BootError(`Failed to start qemu: ${result.message}. Fix: install qemu-system-x86 (apt-get install qemu-system-x86)`, "start", stderr, watch.tail());
  }
  if (watch.panicked) throw fail("kernel panicked", "panic");
  if (timedOut) throw fail(`did not print its ready marker within ${o.readyTimeout} s`, "timeout");
  if (readyAt === undefined) {
    const why = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" / ")}` : "";
    throw fail(`stopped before it was ready (qemu exit ${result.exitCode ?? result.signal}${why})`, "exit");
  }
  if (commandMode && rc === undefined) {
    throw fail(`stopped before its command finished (qemu exit ${result.exitCode ?? result.signal})`, "command");
  }
  return { readySeconds: (readyAt - started) / 1000, guestUptime: watch.uptime ?? 0, exitCode: rc ?? 0, log: o.log };
}
