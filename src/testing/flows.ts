// The traffic steps beyond ping and command: a TCP connect (bash's /dev/tcp), an HTTP GET (curl), a
// UDP flood and a throughput run (iperf3, its server started on the target and stopped after), and a
// pcap replayed (tcpreplay). Each name resolves to the address of the family the step says, never
// through the resolver. Argv builders, output parsers and judges are pure, for the unit tests; the
// run functions drive the lab's hosts.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ADDR, ADDR6, type HostName } from "../../network/plan.ts";
import type { Host } from "../../network/hosts/index.ts";
import { shellQuote } from "../../network/shell.ts";
import { BIT_RATE_UNITS, formatBitRate, parseBitRate, parseRate, payloadBits, RATE_UNITS } from "./units.ts";
import type { Family, FlowStep, HttpStep, Iperf3Step, StepExtras, TcpStep, TcpreplayStep, UdpFloodStep } from "./file-types.ts";
export type { Family, PacketExpect, StepExtras, TcpStep, HttpStep, UdpFloodStep, Iperf3Step, TcpreplayStep, FlowStep, Reach } from "./file-types.ts";


/** The step kinds this file runs, as their YAML keys. */
export const FLOW_KINDS = ["tcp", "http", "udp_flood", "iperf3", "tcpreplay"] as const;

export function isFlow(s: object): s is FlowStep {
  return FLOW_KINDS.some((k) => k in s);
}

/** Every lab name a hosts file knows, with its two addresses and the lab host that holds them. */
const NAMES: Record<string, { v4: string; v6: string; host?: HostName }> = {
  client: { v4: ADDR.lan.client, v6: ADDR6.lan.client, host: "client" },
  vm: { v4: ADDR.lan.vm, v6: ADDR6.lan.vm, host: "vm" },
  xdp: { v4: ADDR.lan.vm, v6: ADDR6.lan.vm, host: "vm" },
  "xdp-wan": { v4: ADDR.wan.vm, v6: ADDR6.wan.vm, host: "vm" },
  edge: { v4: ADDR.wan.edge, v6: ADDR6.wan.edge },
  server: { v4: ADDR.wan.server, v6: ADDR6.wan.server, host: "server" },
  internet: { v4: ADDR.internet.host, v6: ADDR6.internet.host, host: "internet" },
};

const V4 = /^\d{1,3}(\.\d{1,3}){3}$/;
const V6 = /^[0-9a-fA-F:]*:[0-9a-fA-F:.]*$/;

/** TO as an address of FAMILY (a lab name looked up in the lab's table, an address as it is) and the lab host it is on, if any. */
export function resolveTarget(to: string, family: Family): { address: string; host?: HostName } {
  const named = NAMES[to];
  if (named) return { address: family === 4 ? named.v4 : named.v6, host: named.host };
  const isV4 = V4.test(to);
  const isV6 = !isV4 && V6.test(to);
  if (!isV4 && !isV6) throw new Error(`"${to}" is neither a lab name (${Object.keys(NAMES).join(", ")}) nor an IP address`);
  if ((family === 4) !== isV4) throw new Error(`${to} is an IPv${isV4 ? 4 : 6} address but family is ${family}`);
  const host = Object.values(NAMES).find((n) => n.v4 === to || n.v6 === to)?.host;
  return { address: to, host };
}

/** ADDRESS:PORT for URLs and messages ([v6]:port). */
export function hostPort(address: string, port: number): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}

/** A problem with a step, found before any lab is up: the field under the step and the message. */
export interface StepProblem {
  field: string;
  message: string;
}

/** What a step's values say that the schema cannot: names and families, units, hosts that lack the tool. */
export function flowProblems(s: FlowStep): StepProblem[] {
  const out: StepProblem[] = [];
  const kind = FLOW_KINDS.find((k) => k in s)!;
  const f = (s as unknown as Record<string, { from: HostName; to?: string; family?: Family }>)[kind]!;
  // The VM has bash (tcp) but none of curl, iperf3 and tcpreplay.
  if (kind !== "tcp" && f.from === "vm") out.push({ field: `${kind}.from`, message: `the VM has no ${kind === "http" ? "curl" : kind === "tcpreplay" ? "tcpreplay" : "iperf3"}: send from client, server or internet` });
  if (f.to !== undefined && f.family !== undefined) {
    try {
      const t = resolveTarget(f.to, f.family);
      if ((kind === "iperf3" || kind === "udp_flood") && (!t.host || t.host === "vm")) {
        out.push({ field: `${kind}.to`, message: `${f.to}: iperf3's server runs on the target, which must be client, server or internet (the VM has no iperf3)` });
      }
    } catch (e) {
      out.push({ field: `${kind}.to`, message: (e as Error).message });
    }
  }
  if ("udp_flood" in s && parseRate(s.udp_flood.rate) === undefined) out.push({ field: "udp_flood.rate", message: `"${s.udp_flood.rate}" is not a rate: write a number and ${RATE_UNITS}, e.g. "1000 pps" or "10 Mbit/s"` });
  if ("iperf3" in s) {
    if (s.iperf3.rate !== undefined && s.iperf3.protocol !== "udp") out.push({ field: "iperf3.rate", message: "rate paces a UDP run only (TCP goes as fast as it can): add protocol: udp or leave rate out" });
    if (s.iperf3.rate !== undefined && parseBitRate(s.iperf3.rate) === undefined) out.push({ field: "iperf3.rate", message: `"${s.iperf3.rate}" is not a bit rate: write a number and ${BIT_RATE_UNITS}, e.g. "100 Mbit/s"` });
    if (s.throughput && parseBitRate(s.throughput.at_least) === undefined) out.push({ field: "throughput.at_least", message: `"${s.throughput.at_least}" is not a throughput: write a number and ${BIT_RATE_UNITS}, e.g. "50 Mbit/s"` });
  }
  if ("tcpreplay" in s && s.tcpreplay.pps !== undefined && s.tcpreplay.mbps !== undefined) out.push({ field: "tcpreplay.pps", message: "give pps or mbps, not both" });
  return out;
}

/**
 * Checks a test's steps before a lab is up and makes tcpreplay's files absolute (relative to DIR,
 * the test file's folder). Each problem's field is a path under the step.
 */
export function prepareSteps(steps: object[], dir: string): { step: number; field: string; message: string }[] {
  const out: { step: number; field: string; message: string }[] = [];
  steps.forEach((s, j) => {
    const e = s as StepExtras;
    (e.packets ?? []).forEach((p, k) => {
      const given = (["exactly", "at_least", "none"] as const).filter((w) => p[w] !== undefined);
      if (given.length !== 1) out.push({ step: j, field: `packets.${k}`, message: `say exactly one of exactly: N, at_least: N or none: true${given.length ? ` (it has ${given.join(" and ")})` : ""}` });
    });
    if (!isFlow(s)) return;
    for (const p of flowProblems(s)) out.push({ step: j, ...p });
    if ("tcpreplay" in s) {
      s.tcpreplay.file = resolve(dir, s.tcpreplay.file);
      const f = s.tcpreplay.file;
      if (!existsSync(f)) out.push({ step: j, field: "tcpreplay.file", message: `no such file: ${f} (paths are relative to the test file)` });
      else if (pcapPackets(readFileSync(f)) === undefined) out.push({ step: j, field: "tcpreplay.file", message: `${f} is not a pcap file (a pcapng? convert it: editcap -F pcap IN OUT, or tcpdump -r IN -w OUT)` });
    }
  });
  return out;
}

/** What a step's host answered. */
export interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** A step's outcome before its time is added (traffic.ts adds it). */
export interface Judged {
  step: string;
  ok: boolean;
  measured: Record<string, number | string>;
  wanted?: string;
  got?: string;
}

function lastLine(a: Answer): string {
  return (a.stderr || a.stdout).trim().split("\n").pop()?.trim() ?? "";
}

// --- tcp ---------------------------------------------------------------------------------------

/** bash opens the connection itself (every lab host has bash, the VM and the host image too); timeout bounds an unanswered SYN. */
export function tcpArgv(t: TcpStep["tcp"]): string[] {
  const { address } = resolveTarget(t.to, t.family);
  return [`timeout ${t.timeout} bash -c ${shellQuote(`exec 3<>/dev/tcp/${address}/${t.port}`)}`];
}

/** connected (exit 0), refused (bash's "Connection refused"), timeout (124), or error. */
export function tcpOutcome(a: Answer): "connected" | "refused" | "timeout" | "error" {
  if (a.code === 0) return "connected";
  if (a.code === 124) return "timeout";
  if (/refused/i.test(a.stderr)) return "refused";
  return "error";
}

/** reachable: the connection opened; unreachable: it did not (no answer, or refused). */
export function judgeTcp(s: TcpStep, a: Answer): Judged {
  const outcome = tcpOutcome(a);
  const step = flowLabel(s);
  const measured = { exit: a.code, outcome };
  if (outcome === "error") return { step, ok: false, measured, wanted: s.expect, got: `bash could not try the connection (exit ${a.code}): ${lastLine(a)}` };
  const ok = s.expect === "reachable" ? outcome === "connected" : outcome !== "connected";
  const got = outcome === "connected" ? "connected" : outcome === "refused" ? "refused (RST)" : `no answer in ${s.tcp.timeout} s`;
  return { step, ok, measured, wanted: s.expect === "reachable" ? "reachable (connected)" : "unreachable (no connection)", got };
}

// --- http --------------------------------------------------------------------------------------

/** The marker before curl's write-out on stderr. */
const WRITE_OUT = "@@xdp-lab-curl";

/** curl with the family said (-4/-6), the body on stdout and the status, size and time on stderr. */
export function httpArgv(h: HttpStep["http"]): string[] {
  const { address } = resolveTarget(h.to, h.family);
  const url = `http://${hostPort(address, h.port)}${h.path}`;
  return [
    "curl",
    `-${h.family}`,
    "-sS",
    "-g",
    "--connect-timeout",
    String(h.timeout),
    "--max-time",
    String(h.timeout * 2),
    "-w",
    `%{stderr}${WRITE_OUT} %{http_code} %{size_download} %{time_total}\\n`,
    url,
  ];
}

export function parseCurl(stderr: string): { status: number; bytes: number; seconds: number } | undefined {
  const m = new RegExp(`${WRITE_OUT} (\\d+) (\\d+) ([\\d.]+)`).exec(stderr);
  return m ? { status: Number(m[1]), bytes: Number(m[2]), seconds: Number(m[3]) } : undefined;
}

/** reachable: the status wanted and the body matching; unreachable: no HTTP answer (curl 7, couldn't connect; 28, timed out). */
export function judgeHttp(s: HttpStep, a: Answer): Judged {
  const h = s.http;
  const step = flowLabel(s);
  const c = parseCurl(a.stderr);
  const measured: Record<string, number | string> = { exit: a.code, status: c?.status ?? 0, bytes: c?.bytes ?? 0, seconds: c?.seconds ?? 0 };
  const curlSays = a.stderr.split("\n").filter((l) => l && !l.startsWith(WRITE_OUT)).pop() ?? "";
  if (s.expect === "unreachable") {
    const ok = a.code === 7 || a.code === 28;
    return { step, ok, measured, wanted: "unreachable (no HTTP answer)", got: ok ? `curl exit ${a.code}: ${curlSays}` : c?.status ? `HTTP ${c.status}` : `curl exit ${a.code}: ${curlSays}` };
  }
  const wanted = `HTTP ${h.status}${h.body !== undefined ? ` with a body matching /${h.body}/` : ""}`;
  if (a.code !== 0) return { step, ok: false, measured, wanted, got: `curl exit ${a.code}: ${curlSays}` };
  if (c?.status !== h.status) return { step, ok: false, measured, wanted, got: `HTTP ${c?.status ?? "?"}` };
  if (h.body !== undefined && !new RegExp(h.body, "m").test(a.stdout)) {
    return { step, ok: false, measured, wanted, got: `HTTP ${c.status}, body ${JSON.stringify(a.stdout.trim().slice(0, 200))}` };
  }
  return { step, ok: true, measured, wanted, got: `HTTP ${c.status}` };
}

// --- iperf3 (udp_flood and iperf3) ------------------------------------------------------------------

/**
 * The server's side, one shell line: its pid first (to stop it by), then iperf3 itself in the
 * foreground (no -D: a daemon's parent returns before its child listens, and returns 0 even when the
 * child cannot), one client (-1), each line flushed (--forceflush) so that "Server listening on
 * PORT" is read as soon as it listens.
 */
export function iperf3ServerLine(port: number): string[] {
  return [`echo "pid $$"; exec iperf3 -s -1 -p ${port} --forceflush`];
}

/** What a server started by iperf3ServerLine has said so far: its pid, and whether it listens on PORT. */
export function iperf3ServerSays(stdout: string, port: number): { pid?: number; listening: boolean } {
  const pid = /^pid (\d+)$/m.exec(stdout)?.[1];
  return { pid: pid === undefined ? undefined : Number(pid), listening: new RegExp(`^Server listening on ${port}\\b`, "m").test(stdout) };
}

/** iperf3's client, JSON out, the family said; UDP with its payload rate and datagram size. */
export function iperf3ClientArgv(o: { address: string; family: Family; port: number; duration: number; udp?: { bitsPerSecond: number; size?: number } }): string[] {
  return [
    "iperf3",
    "-c",
    o.address,
    `-${o.family}`,
    "-p",
    String(o.port),
    "-t",
    String(o.duration),
    "-J",
    "--connect-timeout",
    "3000",
    ...(o.udp ? ["-u", "-b", String(Math.max(1, Math.round(o.udp.bitsPerSecond))), ...(o.udp.size !== undefined ? ["-l", String(o.udp.size)] : [])] : []),
  ];
}

export interface Iperf3Result {
  /** Bytes the client sent and the server received. */
  sentBytes: number;
  receivedBytes: number;
  /** The receiver's rate, bit/s. */
  bitsPerSecond: number;
  seconds: number;
  /** UDP only: datagrams sent, received, lost, and the loss in percent. */
  sentPackets?: number;
  receivedPackets?: number;
  lostPackets?: number;
  lossPercent?: number;
  /** TCP only: the sender's retransmits. */
  retransmits?: number;
}

interface Iperf3Sum {
  bytes: number;
  bits_per_second: number;
  seconds: number;
  packets?: number;
  lost_packets?: number;
  lost_percent?: number;
  retransmits?: number;
}

/** iperf3 -J's answer, or its error ("unable to connect to server: ..."). */
export function parseIperf3(stdout: string): Iperf3Result | { error: string } {
  let j: { error?: string; end?: { sum_sent?: Iperf3Sum; sum_received?: Iperf3Sum } };
  try {
    j = JSON.parse(stdout) as typeof j;
  } catch {
    return { error: `no JSON from iperf3: ${stdout.trim().slice(0, 200) || "no output"}` };
  }
  if (j.error) return { error: j.error };
  const sent = j.end?.sum_sent;
  const recv = j.end?.sum_received;
  if (!sent || !recv) return { error: "iperf3's JSON has no end.sum_sent/sum_received" };
  const r: Iperf3Result = { sentBytes: sent.bytes, receivedBytes: recv.bytes, bitsPerSecond: recv.bits_per_second, seconds: recv.seconds };
  if (recv.packets !== undefined) {
    // For UDP the receiver's "packets" are those it expected (by sequence number); lost ones are among them.
    r.sentPackets = sent.packets;
    r.lostPackets = recv.lost_packets ?? 0;
    r.receivedPackets = recv.packets - r.lostPackets;
    r.lossPercent = recv.lost_percent ?? 0;
  }
  if (sent.retransmits !== undefined) r.retransmits = sent.retransmits;
  return r;
}

function iperf3Measured(r: Iperf3Result): Record<string, number> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, number>;
}

/** A flood: what was sent and what arrived; reachable wants some datagrams through, unreachable none. */
export function judgeUdpFlood(s: UdpFloodStep, a: Answer): Judged {
  const step = flowLabel(s);
  const r = parseIperf3(a.stdout);
  if ("error" in r) return { step, ok: false, measured: { exit: a.code }, wanted: s.expect ?? "a flood measured", got: `iperf3: ${r.error}${/connect/.test(r.error) ? ` (iperf3 opens a TCP control connection to port ${s.udp_flood.port} first)` : ""}` };
  const measured = { exit: a.code, ...iperf3Measured(r) };
  const got = `${r.receivedPackets}/${r.sentPackets} datagrams arrived (${r.lossPercent?.toFixed(1)}% lost)`;
  if (!s.expect) return { step, ok: true, measured, got };
  const ok = s.expect === "reachable" ? (r.receivedPackets ?? 0) > 0 : r.receivedPackets === 0;
  return { step, ok, measured, wanted: s.expect === "reachable" ? "reachable (datagrams arrived)" : "unreachable (no datagram arrived)", got };
}

/** A throughput run: the receiver's rate against throughput.at_least. */
export function judgeIperf3(s: Iperf3Step, a: Answer): Judged {
  const step = flowLabel(s);
  const r = parseIperf3(a.stdout);
  const want = s.throughput ? parseBitRate(s.throughput.at_least) : undefined;
  const wanted = s.throughput ? `throughput at least ${s.throughput.at_least}` : "a throughput measured";
  if ("error" in r) return { step, ok: false, measured: { exit: a.code }, wanted, got: `iperf3: ${r.error}` };
  const measured = { exit: a.code, ...iperf3Measured(r) };
  const got = `${formatBitRate(r.bitsPerSecond)}${r.lossPercent !== undefined ? ` (${r.lossPercent.toFixed(1)}% lost)` : ""}`;
  return { step, ok: want === undefined || r.bitsPerSecond >= want, measured, wanted, got };
}

// --- tcpreplay ---------------------------------------------------------------------------------

/** tcpreplay out of the host's lab interface: at a packet rate, a bit rate, or as recorded. */
export function tcpreplayArgv(t: TcpreplayStep["tcpreplay"], iface: string, file: string): string[] {
  return [
    "tcpreplay",
    "-i",
    iface,
    ...(t.pps !== undefined ? ["--pps", String(t.pps)] : t.mbps !== undefined ? ["--mbps", String(t.mbps)] : []),
    ...(t.loop !== 1 ? ["--loop", String(t.loop)] : []),
    file,
  ];
}

/** "Actual: 5 packets (490 bytes) sent in 0.40 seconds" and "Failed packets: 0". */
export function parseTcpreplay(stdout: string): { packets: number; bytes: number; seconds: number; failed: number } | undefined {
  const m = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(stdout);
  if (!m) return undefined;
  return { packets: Number(m[1]), bytes: Number(m[2]), seconds: Number(m[3]), failed: Number(/Failed packets:\s+(\d+)/.exec(stdout)?.[1] ?? 0) };
}

/** A replay: every packet of the file sent (what the VM did with them, maps and captures say). */
export function judgeTcpreplay(s: TcpreplayStep, a: Answer, inFile: number | undefined): Judged {
  const step = flowLabel(s);
  const r = parseTcpreplay(a.stdout);
  if (a.code !== 0 || !r) return { step, ok: false, measured: { exit: a.code }, wanted: "the pcap replayed", got: `tcpreplay exit ${a.code}: ${lastLine(a)}` };
  const measured = { exit: a.code, ...r };
  const all = inFile === undefined ? undefined : inFile * s.tcpreplay.loop;
  const ok = r.failed === 0 && (all === undefined || r.packets === all);
  return { step, ok, measured, wanted: `every packet sent${all !== undefined ? ` (${all})` : ""}`, got: `${r.packets} sent, ${r.failed} failed` };
}

/** Packets in a classic pcap file (tcpreplay replays no pcapng: it says so itself). */
export function pcapPackets(buf: Buffer): number | undefined {
  if (buf.length < 24) return undefined;
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const be = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  if (!le && !be) return undefined;
  let n = 0;
  for (let off = 24; off + 16 <= buf.length; n++) off += 16 + (le ? buf.readUInt32LE(off + 8) : buf.readUInt32BE(off + 8));
  return n;
}

// --- labels and running -------------------------------------------------------------------------

/** "tcp -4 client -> server:80". */
export function flowLabel(s: FlowStep): string {
  if ("tcp" in s) return `tcp -${s.tcp.family} ${s.tcp.from} -> ${s.tcp.to}:${s.tcp.port}`;
  if ("http" in s) return `http -${s.http.family} ${s.http.from} -> ${s.http.to}:${s.http.port}${s.http.path}`;
  if ("udp_flood" in s) return `udp_flood -${s.udp_flood.family} ${s.udp_flood.from} -> ${s.udp_flood.to}:${s.udp_flood.port} (${s.udp_flood.rate}, ${s.udp_flood.duration} s)`;
  if ("iperf3" in s) return `iperf3 ${s.iperf3.protocol} -${s.iperf3.family} ${s.iperf3.from} -> ${s.iperf3.to} (${s.iperf3.duration} s)`;
  return `tcpreplay ${s.tcpreplay.file} from ${s.tcpreplay.from}`;
}

let serial = 0;

/** How long a server has to end once told to (SIGTERM), before it is killed (SIGKILL). */
const SERVER_STOP_MS = 5000;

/**
 * Runs CLIENT against an iperf3 server of its own on the target host, each in turn on an event,
 * never on a delay: the client starts once the server said it listens on PORT, and this returns
 * once the server has ended (stopped if the client's end did not end it), so the next run on PORT
 * never meets it. A server shared between runs is what failed: iperf3's client exits as soon as it
 * has sent IPERF_DONE, and the next client then met the server before it had read it (`the server
 * is busy running a test`) or while it closed its listener to open another (`unable to receive
 * control message: Connection reset by peer`, the connection reset in the closed listener's queue).
 */
export async function withIperf3Server(server: Host, port: number, client: () => Promise<Answer>): Promise<Answer> {
  let stdout = "";
  let listening = (): void => undefined;
  const ready = new Promise<void>((res) => (listening = res));
  const onStdout = (b: Buffer): void => {
    stdout += b.toString();
    if (iperf3ServerSays(stdout, port).listening) listening();
  };
  let over = false;
  const ended: Promise<Answer> = server.exec(iperf3ServerLine(port), { onStdout }).then(
    (a) => a,
    (e: unknown) => ({ code: -1, stdout, stderr: (e as Error).message }),
  );
  void ended.then(() => (over = true));
  const early = await Promise.race([ready.then(() => undefined), ended]);
  if (early) {
    const hint = early.code === 127 ? " (the host has no iperf3: apt-get install iperf3)" : "";
    // iperf3 ends its errors with "iperf3: exiting": the line before says why.
    const said = (early.stderr || early.stdout).trim().split("\n").filter((l) => l.trim() && !/^iperf3: exiting$/.test(l.trim())).pop() ?? "it said nothing";
    throw new Error(`iperf3's server on ${server.name} ended before it listened on TCP port ${port} (exit ${early.code}): ${said.trim()}${hint}`);
  }
  try {
    return await client();
  } finally {
    const { pid } = iperf3ServerSays(stdout, port);
    if (!over && pid !== undefined) {
      await server.exec([`kill ${pid} 2>/dev/null; true`]);
      const timer = new Promise<"late">((res) => setTimeout(() => res("late"), SERVER_STOP_MS).unref());
      if ((await Promise.race([ended, timer])) === "late") await server.exec([`kill -9 ${pid} 2>/dev/null; true`]);
    }
    await ended;
  }
}

/** The interface a lab host's traffic leaves by (every client, server and internet has one). */
export const HOST_IFACE = "eth0";

/** Runs a flow step on the lab's hosts. */
export async function runFlow(s: FlowStep, host: (name: HostName) => Host | Promise<Host>): Promise<Judged> {
  if ("tcp" in s) return judgeTcp(s, await (await host(s.tcp.from)).exec(tcpArgv(s.tcp)));
  if ("http" in s) return judgeHttp(s, await (await host(s.http.from)).exec(httpArgv(s.http)));
  if ("udp_flood" in s) {
    const u = s.udp_flood;
    const t = resolveTarget(u.to, u.family);
    const bits = payloadBits(parseRate(u.rate)!, u.size);
    const from = await host(u.from);
    const a = await withIperf3Server(await host(t.host!), u.port, () => from.exec(iperf3ClientArgv({ address: t.address, family: u.family, port: u.port, duration: u.duration, udp: { bitsPerSecond: bits, size: u.size } })));
    return judgeUdpFlood(s, a);
  }
  if ("iperf3" in s) {
    const p = s.iperf3;
    const t = resolveTarget(p.to, p.family);
    const from = await host(p.from);
    const udp = p.protocol === "udp" ? { bitsPerSecond: p.rate ? parseBitRate(p.rate)! : 1e6 } : undefined;
    return judgeIperf3(s, await withIperf3Server(await host(t.host!), p.port, () => from.exec(iperf3ClientArgv({ address: t.address, family: p.family, port: p.port, duration: p.duration, udp }))));
  }
  const r = s.tcpreplay;
  const from = await host(r.from);
  const { readFile } = await import("node:fs/promises");
  const inFile = pcapPackets(await readFile(r.file));
  // A namespace host shares this machine's files; a container gets a copy.
  let path = r.file;
  if (from.kind !== "netns") {
    path = `/tmp/xdp-lab-test-replay.${process.pid}.${++serial}.pcap`;
    await from.copyIn(r.file, path);
  }
  try {
    const a = await from.exec(tcpreplayArgv(r, HOST_IFACE, path));
    if (a.code === 127) return { step: flowLabel(s), ok: false, measured: { exit: a.code }, wanted: "the pcap replayed", got: `${from.name} has no tcpreplay (apt-get install tcpreplay)` };
    return judgeTcpreplay(s, a, inFile);
  } finally {
    if (path !== r.file) await from.exec([`rm -f ${path}`]);
  }
}
