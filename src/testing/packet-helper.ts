// The one python process of a run that builds and decodes frames with scapy and runs BPF programs on
// them (packet_helper.py): requests and answers as JSON lines over its stdin and stdout, in order.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import type { Requirement } from "../build/packages.ts";

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

export class PacketHelper {
  private readonly proc: ResultPromise;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private next = 1;
  private buffered = "";
  private stderr = "";
  private exited?: string;

  private constructor() {
    this.proc = execa(PYTHON, [HELPER_PATH], { stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false });
    this.proc.stdout!.setEncoding("utf8");
    this.proc.stdout!.on("data", (chunk: string) => this.take(chunk));
    this.proc.stderr!.on("data", (chunk: Buffer) => {
      // The last of it: libbpf's warnings and a refused program's verifier log.
      this.stderr = (this.stderr + chunk.toString()).slice(-20000);
    });
    void this.proc.then((r) => {
      this.exited = `the packet helper (${PYTHON} ${HELPER_PATH}) exited (${r.exitCode ?? r.signal}): ${this.stderr.trim().split("\n").slice(-5).join(" | ")}`;
      for (const w of this.waiting.values()) w.reject(new Error(this.exited));
      this.waiting.clear();
    });
  }

  /** Starts the helper. */
  static start(): PacketHelper {
    return new PacketHelper();
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
      this.proc.stdin!.write(JSON.stringify({ id, op, ...args }) + "\n");
    });
  }

  /** Ends the helper (its loaded objects go with it). */
  async close(): Promise<void> {
    this.proc.stdin!.end();
    await this.proc;
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
