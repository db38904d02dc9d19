// The one python process of a run that builds and decodes frames with scapy and runs BPF programs on
// them (packet_helper.py): requests and answers as JSON lines over its stdin and stdout, in order.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PassThrough, type Readable } from "node:stream";
import { execa, type ResultPromise } from "execa";
import type { Requirement } from "../tools/requirement.ts";

/** Debian's python3 (not a pyenv or venv one on PATH: python3-scapy is installed for this one). */
export const PYTHON = "/usr/bin/python3";

/** What packet cases need on this machine: Debian's python3 and its scapy. */
export const PACKET_TOOLS: Requirement[] = [
  { package: "python3", file: PYTHON },
  { package: "python3-scapy", file: "/usr/lib/python3/dist-packages/scapy/__init__.py" },
];

/** The helper's script: src/testing/packet_helper.py of the checkout (this file is there, or in dist/src/testing). */
export const HELPER_PATH = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const p = join(dir, "src", "testing", "packet_helper.py");
    if (existsSync(p)) return p;
  }
  throw new Error("src/testing/packet_helper.py is missing from the checkout. Fix: git checkout -- src/testing/packet_helper.py");
})();

/** One answer line: a result, or the helper's error for that request. */
type Answer = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/** How requests reach a helper and its answers come back: a local process, or one in the lab's VM. */
export interface HelperTransport {
  /** Writes one request line. */
  write(line: string): void;
  /** Ends its stdin (the helper exits at EOF). */
  end(): void;
  /** Settles when the helper has exited, with its exit status. */
  done: Promise<number | string | undefined>;
}

export class PacketHelper {
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 1;
  private buffered = "";
  private stderr = "";
  private exited?: string;
  private readonly transport: HelperTransport;

  /** WHERE names the helper in messages; START opens its transport, given where its output goes. */
  private constructor(where: string, start: (out: (chunk: string) => void, err: (chunk: string) => void) => HelperTransport) {
    this.transport = start(
      (chunk) => this.take(chunk),
      (chunk) => {
        // The last of it: libbpf's warnings and a refused program's verifier log.
        this.stderr = (this.stderr + chunk).slice(-20000);
      },
    );
    void this.transport.done.then((status) => {
      this.exited = `the packet helper (${where}) exited (${status ?? "?"}): ${this.stderr.trim().split("\n").slice(-5).join(" | ")}`;
      for (const w of this.waiting.values()) w.reject(new Error(this.exited));
      this.waiting.clear();
    });
  }

  /** Starts the helper on this machine. */
  static start(): PacketHelper {
    return new PacketHelper(`${PYTHON} ${HELPER_PATH}`, (out, err) => {
      const proc: ResultPromise = execa(PYTHON, [HELPER_PATH], { stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false });
      proc.stdout!.setEncoding("utf8");
      proc.stdout!.on("data", out);
      proc.stderr!.on("data", (b: Buffer) => err(b.toString()));
      return { write: (line) => void proc.stdin!.write(line), end: () => void proc.stdin!.end(), done: proc.then((r) => r.exitCode ?? r.signal) };
    });
  }

  /**
   * Starts the helper in a lab's VM through EXEC (the VM host's exec, stdin streamed): the guest must
   * have this checkout at its path, Debian's python3, scapy and libbpf, as --guest-root host gives it.
   */
  static startIn(where: string, exec: (argv: string[], o: { stdin: Readable; onStdout: (b: Buffer) => void; onStderr: (b: Buffer) => void }) => Promise<{ code: number }>): PacketHelper {
    return new PacketHelper(`${where}: ${PYTHON} ${HELPER_PATH}`, (out, err) => {
      const stdin = new PassThrough();
      const done = exec([PYTHON, HELPER_PATH], { stdin, onStdout: (b) => out(b.toString()), onStderr: (b) => err(b.toString()) }).then(
        (r) => r.code,
        (e: Error) => e.message,
      );
      return { write: (line) => void stdin.write(line), end: () => void stdin.end(), done };
    });
  }

  private take(chunk: string): void {
    this.buffered += chunk;
    for (let nl = this.buffered.indexOf("\n"); nl >= 0; nl = this.buffered.indexOf("\n")) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const a = JSON.parse(line) as Answer;
      const w = this.waiting.get(a.id);
      this.waiting.delete(a.id);
      if (a.ok) w?.resolve(a.result);
      else w?.reject(new Error(a.error));
    }
  }

  /** The stderr's last lines since the last call of this (a load's verifier log). */
  takeStderr(): string {
    const s = this.stderr;
    this.stderr = "";
    return s;
  }

  /** Sends one request; its answer's result, or the helper's error thrown. */
  call<T>(op: string, args: Record<string, unknown>): Promise<T> {
    if (this.exited) return Promise.reject(new Error(this.exited));
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.transport.write(JSON.stringify({ id, op, ...args }) + "\n");
    });
  }

  /** Ends the helper (its loaded objects go with it). */
  async close(): Promise<void> {
    this.transport.end();
    await this.transport.done;
  }
}

let shared: PacketHelper | undefined;

/** The run's helper, started on first use. */
export function packetHelper(): PacketHelper {
  shared ??= PacketHelper.start();
  return shared;
}

/** Ends the run's helper, if one was started. */
export async function closePacketHelper(): Promise<void> {
  const h = shared;
  shared = undefined;
  await h?.close();
}
