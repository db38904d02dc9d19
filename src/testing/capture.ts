// Packets at the VM's ports during a test: tcpdump on the port's tap in the lab namespace (the
// bridge side of the port), which sees every frame that reaches the port, XDP_DROP'd ones too, and
// every frame the VM sends out of it. A step's packet expectations count the frames matching a
// filter during the step; the whole test is captured on both ports, headers only, for a failed
// test's artefacts.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { portDevices, tcpdumpArgs } from "../../network/capture.ts";
import { netnsExec } from "../tools/ip.ts";
import type { Judged } from "./flows.ts";
import type { PacketExpect, Port } from "./file-types.ts";

export const PORTS: readonly Port[] = ["lan", "wan"];

/** Bytes of each frame the test-long capture keeps: every header a debugger reads (Ethernet, IPv6, TCP with options), not payloads. */
export const TEST_SNAPLEN = 256;
/** The test-long capture stops after this many frames a port, so a long flood cannot fill the disk (256 B each: about 50 MB). */
export const TEST_MAX_PACKETS = 200_000;

/** tcpdump's argv on a tap: immediate mode, root kept, packet-buffered pcap output to FILE, a snaplen and a count when given, and the filter. */
export function tcpdumpArgv(o: { iface: string; file: string; filter?: string; snaplen?: number; count?: number }): string[] {
  return ["tcpdump", ...tcpdumpArgs({ iface: o.iface }, { file: o.file, immediate: true, snaplen: o.snaplen, count: o.count, filter: o.filter ? [o.filter] : [] })];
}

/** The frames tcpdump says it captured when it stopped ("5 packets captured"). */
export function parseCaptured(stderr: string): number | undefined {
  const m = /(\d+) packets? captured/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** How long to let frames in flight reach the tap before tcpdump stops. */
export const SETTLE_MS = 150;

/** A tcpdump running on a port's tap until stop(). */
export class PortCapture {
  private constructor(
    private readonly child: ReturnType<typeof netnsExec>,
    private readonly info: { text: string },
    readonly port: Port,
    readonly file: string,
  ) {}

  /** Starts tcpdump on PORT's tap in the lab namespace NS; resolves once it listens (a bad filter is tcpdump's error). */
  static async start(ns: string, port: Port, o: { file: string; filter?: string; snaplen?: number; count?: number }): Promise<PortCapture> {
    const child = netnsExec(ns, tcpdumpArgv({ iface: portDevices(port).tap, ...o }), { stdout: "ignore", stderr: "pipe", buffer: false, killSignal: "SIGINT" });
    const info = { text: "" };
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump on the ${port} port did not start in 10 s: ${info.text.trim()}`)), 10_000);
      child.stderr!.on("data", (b: Buffer) => {
        info.text += b.toString();
        if (/listening on/.test(info.text)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void child.then((r) => {
        clearTimeout(timer);
        reject(new Error(`tcpdump on the ${port} port${o.filter ? ` with filter "${o.filter}"` : ""} failed (exit ${r.exitCode}): ${info.text.trim().split("\n").pop() ?? ""}`));
      });
    });
    return new PortCapture(child, info, port, o.file);
  }

  /** Stops tcpdump (after frames in flight reached the tap) and returns how many frames it captured. */
  async stop(): Promise<number> {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    this.child.kill("SIGINT");
    await this.child;
    const n = parseCaptured(this.info.text);
    if (n === undefined) throw new Error(`tcpdump on the ${this.port} port gave no count: ${this.info.text.trim().split("\n").pop() ?? ""}`);
    return n;
  }
}

/** "packets at lan matching 'udp port 5201'". */
export function packetsLabel(p: PacketExpect): string {
  return `packets at ${p.port} matching "${p.filter}"`;
}

/** Exactly N, at least N, or none. */
export function describePackets(p: PacketExpect): string {
  return p.none ? "none" : p.exactly !== undefined ? `exactly ${p.exactly}` : `at least ${p.at_least}`;
}

export function packetsOk(p: PacketExpect, n: number): boolean {
  return p.none ? n === 0 : p.exactly !== undefined ? n === p.exactly : n >= (p.at_least ?? 0);
}

/** Runs STEP with a capture per packet expectation; the step's judgement, then one per expectation. */
export async function withPacketCounts(ns: string, wants: PacketExpect[], step: () => Promise<Judged>): Promise<{ step: Judged; packets: (Judged & { count?: number })[] }> {
  const caps = await Promise.all(wants.map((w) => PortCapture.start(ns, w.port, { file: "/dev/null", filter: w.filter })));
  let judged: Judged;
  try {
    judged = await step();
  } catch (e) {
    await Promise.all(caps.map((c) => c.stop().catch(() => 0)));
    throw e;
  }
  const counts = await Promise.all(caps.map((c) => c.stop()));
  const packets = wants.map((w, i) => {
    const n = counts[i]!;
    return { step: packetsLabel(w), ok: packetsOk(w, n), count: n, measured: { packets: n }, wanted: describePackets(w), got: String(n) };
  });
  return { step: judged, packets };
}

/** The whole test on both ports, headers only, into DIR/lan.pcap and DIR/wan.pcap. */
export class TestCapture {
  private constructor(
    private readonly caps: PortCapture[],
    readonly startedIn: number,
  ) {}

  static async start(ns: string, dir: string): Promise<TestCapture> {
    const t0 = performance.now();
    const caps: PortCapture[] = [];
    try {
      for (const port of PORTS) caps.push(await PortCapture.start(ns, port, { file: `${dir}/${port}.pcap`, snaplen: TEST_SNAPLEN, count: TEST_MAX_PACKETS }));
    } catch (e) {
      for (const c of caps) await c.stop().catch(() => 0);
      throw e;
    }
    return new TestCapture(caps, (performance.now() - t0) / 1000);
  }

  /** Stops both; the frames each port saw. */
  async stop(): Promise<Record<Port, number>> {
    const n = await Promise.all(this.caps.map((c) => c.stop().catch(() => -1)));
    return { lan: n[0]!, wan: n[1]! };
  }

  /** The pcap files, for the artefacts. */
  get files(): string[] {
    return this.caps.map((c) => c.file);
  }

  async remove(): Promise<void> {
    await Promise.all(this.files.map((f) => rm(f, { force: true })));
  }
}

/** A pcap file header with no frames (Ethernet): tcpdump -d compiles a filter against its link type without an interface. */
export const EMPTY_ETHERNET_PCAP = Buffer.from("d4c3b2a1020004000000000000000000ffff000001000000", "hex");

/**
 * What tcpdump says of each filter it cannot compile (index -> its message), checked before a lab is
 * up; none when this machine has no tcpdump yet (the run installs it, and the step reports it then).
 */
export async function badFilters(filters: string[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (filters.length === 0) return out;
  const dir = await mkdtemp(join(tmpdir(), "xdp-lab-filter-"));
  try {
    const file = join(dir, "empty.pcap");
    await writeFile(file, EMPTY_ETHERNET_PCAP);
    for (const [i, f] of filters.entries()) {
      const r = await execa("tcpdump", ["-d", "-r", file, f], { reject: false });
      if ((r as { code?: string }).code === "ENOENT") return new Map();
      if (r.exitCode !== 0) out.set(i, `tcpdump cannot use this filter: ${r.stderr.split("\n").filter((l) => !l.startsWith("reading from")).pop()?.replace(/^tcpdump: /, "") ?? `exit ${r.exitCode}`} (the syntax: man pcap-filter)`);
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
