// The results of a run as the reports write them: each test's verdict, failures, maps, ns per packet,
// the app's log and packet cases. Read by report.ts and written by the parts that judge.
import type { Hook, Port } from "./file-types.ts";
import type { StepResult } from "./traffic.ts";

export type Verdict = "pass" | "fail" | "skip";

/** One expectation that was not met: what, what was wanted and what was got. */
export interface Failure {
  what: string;
  wanted: string;
  got: string;
}

export interface MapResult {
  map: string;
  key: number | string;
  field?: string;
  port?: string;
  /** The map's id in the VM. */
  id?: number;
  before?: string;
  after?: string;
  delta?: string;
  wanted: string;
  ok: boolean;
}

export interface TestResult {
  file: string;
  name: string;
  verdict: Verdict;
  seconds: number;
  failures: Failure[];
  /** Set when the test could not be carried out (a program refused, the VM gone): the runner's error. */
  error?: string;
  /** Why it was skipped. */
  skipped?: string;
  steps: StepResult[];
  maps: MapResult[];
  /** New dmesg lines during the test, and the ones that are splats. */
  dmesg?: { lines: number; splats: string[] };
  /** Frames the test-long capture saw at each port (capture.ts), and the seconds its start took. */
  captured?: { lan: number; wan: number; startSeconds: number };
  /** ns_per_packet and app_log as measured (expect-vm.ts). */
  nsPerPacket?: NsPerPacketResult[];
  appLog?: AppLogResult;
  /** Packet cases as run, one per frame (packets.ts), and the programs that ran them. */
  packets?: PacketResult[];
  programs?: ProgramResult[];
  /** Where its artefacts were kept (failed tests only). */
  artefacts?: string;
  /** The attach mode --mode forced on its programs (the name says it too: "NAME [generic]"). */
  mode?: string;
  /** The kernel its lab booted (--kernel). */
  kernel?: string;
  /** The lab it ran in (with --jobs, one of several), and when it started there. */
  lab?: string;
  startedAt?: string;
}

export interface RunResult {
  /** The (first) lab of the run. */
  lab: string;
  /** Every lab of the run: one, or --jobs of them. */
  labs?: string[];
  /** The kernels the labs booted, in order (--kernel). */
  kernels?: string[];
  startedAt: string;
  seconds: number;
  tests: TestResult[];
  summary: { passed: number; failed: number; skipped: number };
}

/** One ns-per-packet expectation as measured. */
export interface NsPerPacketResult {
  port: Port;
  hook: Hook;
  program?: string;
  id?: number;
  runs?: number;
  runTimeNs?: number;
  nsPerPacket?: number;
  wanted: string;
  ok: boolean;
}

/** The app log expectations as measured: the lines written during the test, and each pattern's first match. */
export interface AppLogResult {
  lines: number;
  patterns: { pattern: string; match?: string; ok: boolean }[];
}

/** A program as loaded for a test: what the reports carry about it. */
export interface ProgramResult {
  object: string;
  name: string;
  section: string;
  port: Port;
  hook: string;
  /** Its id on this machine while the test ran. */
  id: number;
  verified_insns?: number;
  jited_bytes?: number;
  xlated_bytes?: number;
}

/** One frame of one case, as run. */
export interface PacketResult {
  case: number;
  /** The frame's number in its pcap. */
  frame?: number;
  name: string;
  ok: boolean;
  verdict: string;
  wanted_verdict?: string;
  input: string;
  output: string;
  failures: Failure[];
  /** ns per run over `repeat` runs, and the verdict of the last of them. */
  repeat?: { runs: number; ns: number; at_most?: number; verdict: string };
  /** Both frames decoded and as hex (failed cases only). */
  detail?: string;
}
