// Link impairment: delay, jitter, loss, rate, duplication, reordering and corruption on a lab's
// links, by the impairment relay (relay.ts: netem's model in user space, so it works on kernels
// without sch_netem, these machines' among them), applied in the lab namespace only: the VM and
// the hosts stay untouched, so XDP runs exactly as without it.
//
// Each link is impaired once per direction, on the lab namespace's two devices the link's traffic
// leaves by (plan.ts's LinkPlan: toward the VM, a tap; toward the host, a veth; the uplink's edge
// side, which has no device of its own, where it arrives on the uplink's veth).
// How each value splits between the two directions:
// - delay, jitter, rate and reorder apply in full in each direction: a link is that slow both
//   ways, so `--delay 50` raises ping's round trip by 100 ms;
// - loss, duplicate and corrupt are per round trip, what ping reports: each direction gets
//   1 - sqrt(1 - p), so `--loss 10` loses 10% of pings (5.13% of the packets each way).
// Setting a link replaces all of its impairment at once (as containerlab's `tools netem set`).
// This file is pure (parsing, checks, each direction's values); links.ts applies it.
import { LINKS, nameFlag, type LinkName, type LinkPlan } from "./plan.ts";
import type { RelayDirection, RelayValues } from "./relay.ts";

/** Each parameter: its unit, its range, and how it splits between the two directions. */
export const IMPAIR_PARAMS = {
  delay: { unit: "ms", min: 0, max: 60_000, perRoundTrip: false, describe: "added delay in ms, in each direction (ping's RTT rises by twice this)" },
  jitter: { unit: "ms", min: 0, max: 60_000, perRoundTrip: false, describe: "delay variation in ms (+/- this), in each direction; needs --delay" },
  loss: { unit: "%", min: 0, max: 100, perRoundTrip: true, describe: "percent of round trips lost (split between the two directions)" },
  rate: { unit: "kbit", min: 8, max: 100_000_000, perRoundTrip: false, describe: "bandwidth cap in kbit/s, in each direction" },
  duplicate: { unit: "%", min: 0, max: 100, perRoundTrip: true, describe: "percent of round trips with a packet duplicated (split between the directions)" },
  reorder: { unit: "%", min: 0, max: 100, perRoundTrip: false, describe: "percent of packets sent at once, ahead of the delayed ones, in each direction; needs --delay" },
  corrupt: { unit: "%", min: 0, max: 100, perRoundTrip: true, describe: "percent of round trips with a bit flipped (split between the directions)" },
} as const;
export type ImpairParam = keyof typeof IMPAIR_PARAMS;
export const IMPAIR_PARAM_NAMES = Object.keys(IMPAIR_PARAMS) as ImpairParam[];

/** What a link is told to do, in the units above; an empty one is an unimpaired link. */
export type Impairment = Partial<Record<ImpairParam, number>>;

/** Throws unless NAME is a link, naming the links. */
export function linkName(name: string): LinkName {
  if (!(LINKS as readonly string[]).includes(name)) throw new Error(`Unknown link "${name}". Fix: use one of ${LINKS.join(", ")}`);
  return name as LinkName;
}

const UNITS: Record<string, Partial<Record<string, number>>> = {
  ms: { ms: 1, s: 1000, "": 1 },
  "%": { "%": 1, "": 1 },
  kbit: { kbit: 1, mbit: 1000, gbit: 1_000_000, "": 1 },
};

/**
 * What is wrong with an impairment, as data: the parameter it is about, so that each front end
 * words it in its own terms (the command line's flags, a test file's fields).
 */
export type ImpairProblem = { kind: "range"; param: ImpairParam; value: string } | { kind: "needs-delay"; param: "jitter" | "reorder" };

/** An impairment that cannot be applied; its message is worded for the command line (impairFlagMessage). */
export class ImpairmentError extends Error {
  constructor(readonly problem: ImpairProblem) {
    super(impairFlagMessage(problem));
  }
}

/** PROBLEM worded for the command line: `link`'s and `up`'s flags. LABEL names where the value came from (default `--PARAM VALUE`). */
export function impairFlagMessage(problem: ImpairProblem, label?: string): string {
  const p = IMPAIR_PARAMS[problem.param];
  if (problem.kind === "needs-delay") return `--${problem.param} needs a delay to act on. Fix: add --delay MS (e.g. --delay 50 --${problem.param} ${EXAMPLES[problem.param]})`;
  const at = label ?? `--${problem.param} ${problem.value}`;
  return `${at}: must be from ${p.min} to ${p.max} ${p.unit}. Fix: e.g. ${label === undefined ? `--${problem.param} ` : `${problem.param}=`}${EXAMPLES[problem.param]}`;
}

/** PROBLEM worded for a test file, whose fields are the parameters' names (the caller gives the field's place). */
export function impairFieldMessage(problem: ImpairProblem): string {
  const p = IMPAIR_PARAMS[problem.param];
  if (problem.kind === "needs-delay") return `${problem.param} needs a delay to act on. Fix: add delay: MS (e.g. delay: 50, ${problem.param}: ${EXAMPLES[problem.param]})`;
  return `${JSON.stringify(problem.value)}: must be from ${p.min} to ${p.max} ${p.unit} (a number, or a string with a unit such as "50ms", "10mbit", "1%")`;
}

/** Reads one value of PARAM (`50`, `50ms`, `1s`, `1%`, `10mbit`), checked against its range; throws an ImpairmentError. */
export function parseValue(param: ImpairParam, text: string | number): number {
  const p = IMPAIR_PARAMS[param];
  const m = /^\s*(-?[0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-z%]*)\s*$/i.exec(String(text));
  const factor = m ? UNITS[p.unit]![m[2]!.toLowerCase()] : undefined;
  const value = m && factor !== undefined ? Number(m[1]) * factor : NaN;
  if (!Number.isFinite(value) || value < p.min || value > p.max) throw new ImpairmentError({ kind: "range", param, value: typeof text === "string" ? text : String(text) });
  return value;
}

const EXAMPLES: Record<ImpairParam, string> = { delay: "50", jitter: "5", loss: "1", rate: "10000", duplicate: "1", reorder: "25", corrupt: "0.1" };

/** Throws an ImpairmentError unless the parameters make sense together (netem ignores jitter and reorder without a delay). */
export function checkImpairment(imp: Impairment): Impairment {
  for (const [k, v] of Object.entries(imp)) parseValue(k as ImpairParam, v);
  for (const needs of ["jitter", "reorder"] as const) {
    if (imp[needs] && !imp.delay) throw new ImpairmentError({ kind: "needs-delay", param: needs });
  }
  return imp;
}

/**
 * Reads `up --impair LINK:KEY=VALUE,...` (e.g. `lan:delay=10ms,loss=1%`); several links come in
 * several --impair flags.
 */
export function parseImpairSpec(spec: string): { link: LinkName; impairment: Impairment } {
  const m = /^([a-z]+):(.+)$/.exec(spec);
  if (!m) throw new Error(`--impair ${spec}: expected LINK:KEY=VALUE[,KEY=VALUE...]. Fix: e.g. --impair lan:delay=10ms,loss=1%`);
  const link = linkName(m[1]!);
  const impairment: Impairment = {};
  for (const pair of m[2]!.split(",")) {
    const [key, value, ...rest] = pair.split("=");
    if (!(IMPAIR_PARAM_NAMES as string[]).includes(key!) || value === undefined || rest.length) {
      throw new Error(`--impair ${spec}: "${pair}" is not KEY=VALUE with KEY one of ${IMPAIR_PARAM_NAMES.join(", ")}. Fix: e.g. --impair lan:delay=10ms,loss=1%`);
    }
    try {
      impairment[key as ImpairParam] = parseValue(key as ImpairParam, value);
    } catch (e) {
      if (e instanceof ImpairmentError) throw new Error(impairFlagMessage(e.problem, `--impair ${spec}: ${pair}`));
      throw e;
    }
  }
  return { link, impairment: checkImpairment(impairment) };
}

/** A per-round-trip percentage as each of the two directions gets it: 1 - sqrt(1 - p). */
export function perDirection(pct: number): number {
  return Number((100 * (1 - Math.sqrt(1 - pct / 100))).toFixed(4));
}

/** One direction's values in the relay's units: loss, duplicate and corrupt split per round trip. */
export function relayValues(imp: Impairment): RelayValues {
  const ppm = (k: "loss" | "duplicate" | "corrupt" | "reorder") => {
    const v = imp[k] ?? 0;
    return Math.round((IMPAIR_PARAMS[k].perRoundTrip ? perDirection(v) : v) * 10_000);
  };
  return {
    delayUs: Math.round((imp.delay ?? 0) * 1000),
    jitterUs: Math.round((imp.jitter ?? 0) * 1000),
    lossPpm: ppm("loss"),
    duplicatePpm: ppm("duplicate"),
    corruptPpm: ppm("corrupt"),
    reorderPpm: ppm("reorder"),
    rateBps: Math.round((imp.rate ?? 0) * 1000),
    limit: 1000,
  };
}

/** The devices a link's traffic leaves the lab namespace by: toward the VM (or edge), and toward the host. */
export function linkDevices(link: LinkPlan): { inward: string; outward: string } {
  return { inward: link.inward, outward: link.outward };
}

/** A link's two directions for the relay, each with IMP's values (the same both ways). */
export function linkDirections(link: LinkPlan, imp: Impairment): RelayDirection[] {
  const values = relayValues(imp);
  return [
    { name: "inward", dev: link.inward, hook: link.inwardAtIngress ? "ingress" : "egress", values },
    { name: "outward", dev: link.outward, hook: "egress", values },
  ];
}

/** True when IMP asks for nothing. */
export function unimpaired(imp: Impairment | undefined): boolean {
  return !imp || Object.values(imp).every((v) => !v);
}

/** One line for a link's impairment: `delay 50 ms, loss 10 %`, or `none`. */
export function describeImpairment(imp: Impairment | undefined): string {
  if (unimpaired(imp)) return "none";
  return IMPAIR_PARAM_NAMES.filter((k) => imp![k]).map((k) => `${k} ${imp![k]} ${IMPAIR_PARAMS[k].unit}`).join(", ");
}

/** The fix line for a lab that is not up. */
export function notUpError(lab: string): Error {
  return new Error(`Lab "${lab}" is not up. Fix: ./xdp-lab up${nameFlag(lab)}`);
}
