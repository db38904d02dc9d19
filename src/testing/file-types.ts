// The types of a test file as read: its tests, their setup, traffic steps, packet cases and
// expectations. A leaf: it imports nothing of the runner, so every part of it imports this.
import type { HostName } from "../../network/plan.ts";

/** What a step expects of a destination. */
export type Reach = "reachable" | "unreachable";

export type Port = "lan" | "wan";

export type Hook = "xdp" | "tc-ingress" | "tc-egress";

export interface ProgramSetup {
  /** Absolute once loaded (the file gives it relative to itself). */
  object: string;
  port: Port;
  mode: "native" | "generic";
  /** Default xdp (setup.ts attaches tc hooks). */
  hook: Hook;
  /** The program by its name or section; default the first XDP program (tc: the first program). */
  program?: string;
  /** const volatile globals set before load (xdp only). */
  tunables?: Record<string, number>;
}

/** The app's setup (setup.ts). */
export interface AppSetup {
  /** Absolute once loaded, like object. */
  lua?: string;
  lua_budget_ms?: number;
  block?: string[];
}

/** A link's impairment as the file gives it: numbers in the unit, or strings with one ("50ms"). */
export type LinkImpairmentSpec = Partial<Record<"delay" | "jitter" | "loss" | "rate" | "duplicate" | "reorder" | "corrupt", number | string>>;

export interface CommandSetup {
  host: HostName;
  run: string;
}

export interface PingStep extends StepExtras {
  ping: { from: HostName; to: string; family: 4 | 6; count: number; interval: number; size: number };
  expect: "reachable" | "unreachable";
}

export interface CommandStep extends StepExtras {
  command: { host: HostName; run: string; exit: number; output?: string };
}

export type Step = PingStep | CommandStep | FlowStep;

export interface Delta {
  exactly?: number;
  at_least?: number;
  at_most?: number;
}

export interface MapExpect {
  map: string;
  port?: Port;
  /** A number, or bytes as bpftool takes them. */
  key: number | string;
  field?: string;
  delta: Delta;
}

/** A program's average run time over the traffic, from the kernel's run_time_ns / run_cnt (expect-vm.ts). */
export interface NsPerPacketExpect {
  port: Port;
  hook: Hook;
  at_most: number;
}

export interface TestCase {
  name: string;
  description?: string;
  setup?: { programs?: ProgramSetup[]; app?: AppSetup; impair?: Partial<Record<"lan" | "wan" | "uplink", LinkImpairmentSpec>>; commands?: CommandSetup[] };
  /** Empty for a test of packet cases only (the file may leave it out then). */
  traffic: Step[];
  /** Packet cases (packet-spec.ts): without traffic, run on this machine's kernel (packets.ts). */
  packets?: PacketCase[];
  expect?: { maps?: MapExpect[]; dmesg?: "clean"; ns_per_packet?: NsPerPacketExpect[]; app_log?: string[]; verified_insns?: { at_most: number } };
}

export interface TestFile {
  /** As the user named it (relative paths stay relative, for messages and result folders). */
  path: string;
  tests: TestCase[];
  /** The line each test starts on. */
  lines: number[];
  /** Each test's packet frames, built (loadTestFile), by the test's index. */
  frames?: Record<number, PreparedFrame[]>;
}

/** One problem in a test file: where and what. */
export interface FileProblem {
  file: string;
  line: number;
  column: number;
  /** The field, as a path: tests[0].traffic[1].ping.family. */
  field: string;
  message: string;
}

export type Family = 4 | 6;

/** A packet count a capture at a VM port must see during a step (capture.ts). */
export interface PacketExpect {
  port: "lan" | "wan";
  /** A tcpdump filter expression (pcap-filter(7)). */
  filter: string;
  exactly?: number;
  at_least?: number;
  none?: true;
}

/** What every step may add to its own judgement. */
export interface StepExtras {
  packets?: PacketExpect[];
}

export interface TcpStep extends StepExtras {
  tcp: { from: HostName; to: string; family: Family; port: number; timeout: number };
  expect: Reach;
}

export interface HttpStep extends StepExtras {
  http: { from: HostName; to: string; family: Family; port: number; path: string; status: number; body?: string; timeout: number };
  expect: Reach;
}

export interface UdpFloodStep extends StepExtras {
  udp_flood: { from: HostName; to: string; family: Family; rate: string; duration: number; size: number; port: number };
  expect?: Reach;
}

export interface Iperf3Step extends StepExtras {
  iperf3: { from: HostName; to: string; family: Family; protocol: "tcp" | "udp"; duration: number; rate?: string; port: number };
  throughput?: { at_least: string };
}

export interface TcpreplayStep extends StepExtras {
  tcpreplay: { from: HostName; file: string; pps?: number; mbps?: number; loop: number };
}

export type FlowStep = TcpStep | HttpStep | UdpFloodStep | Iperf3Step | TcpreplayStep;

/** A map entry a case sets before it runs: fields not given are 0. */
export interface MapSet {
  map: string;
  key: number | string;
  /** A whole number (a value of at most 8 bytes), or fields by their BTF names. */
  value: number | Record<string, number>;
}

/** A map value after a case: absolute, a delta over the case, or both. */
export interface CaseMapExpect {
  map: string;
  key: number | string;
  field?: string;
  value?: number;
  delta?: Delta;
}

export interface PacketExpectation {
  verdict?: string;
  /** Scapy notation, matched on the fields it sets. */
  frame?: string;
  /** The program wrote nothing: the output frame is the input frame. */
  unchanged?: true;
  maps?: CaseMapExpect[];
}

/** A case as the test file gives it: one of frame, hex or pcap. */
export interface PacketCase {
  name?: string;
  frame?: string;
  hex?: string;
  /** Relative to the test file; absolute once loaded. */
  pcap?: string;
  /** The port the frame arrives on; default the first program's. */
  port?: Port;
  /** Which program of that port: default the first on it. */
  hook?: Hook;
  rx_queue?: number;
  set?: MapSet[];
  expect: PacketExpectation;
  /** Runs timed separately from the judged run: ns per run, with an optional bound. */
  repeat?: number | { runs: number; at_most?: number };
}

/** One frame to run: a case's own, or one of its pcap's. */
export interface PreparedFrame {
  /** Index of the case in the test's packets. */
  index: number;
  /** The frame's number within its pcap (from 1), for pcap cases. */
  frame?: number;
  hex: string;
  summary: string;
}
