// Which kind runs each host of a lab, decided here only: every caller gets its hosts from labHost.
import { HOSTS, labPlan, type HostName, type LabPlan } from "../plan.ts";
import type { CopyResult, Host } from "./host.ts";
import { NetnsHost } from "./netns.ts";
import { PodmanHost } from "./podman.ts";
import { readState, type LabState } from "../state.ts";
import { VmHost } from "./vm.ts";

export type { CopyResult, ExecOptions, Host, HostStatus } from "./host.ts";

/** The host NAME of lab PLAN (or of the lab so named), as the kind `up` ran it as (its state), else its plan's. */
export async function labHost(plan: LabPlan | string, name: HostName, state?: LabState): Promise<Host> {
  const p = typeof plan === "string" ? labPlan(plan) : plan;
  return hostOf(p, name, state ?? (await readState(p)));
}

/** The same, from a state already read. */
export function hostOf(plan: LabPlan, name: HostName, state: LabState | undefined): Host {
  if (name === "vm") return new VmHost(plan, name);
  const chosen = state?.hosts?.[name];
  if (chosen?.kind === "podman") return new PodmanHost(plan, name, chosen.image, chosen.netAdmin);
  return new NetnsHost(plan, name);
}

/**
 * Removes what every kind may have left of lab LAB beyond its namespaces (the containers), from the
 * name alone; `down` calls it first. Returns what it removed.
 */
export async function sweepHosts(lab: string): Promise<string[]> {
  return PodmanHost.sweep(lab);
}

/** One end of a copy: a path on this machine, or `HOST:PATH` on a lab host. */
export interface CopyEnd {
  host?: HostName;
  path: string;
}

/** Reads `HOST:PATH` (HOST one of HOSTS; PATH absolute: a host has no working directory) or a path on this machine. */
export function parseEnd(arg: string): CopyEnd {
  const m = /^([a-z]+):(.*)$/s.exec(arg);
  if (!m || !(HOSTS as readonly string[]).includes(m[1]!)) return { path: arg };
  const [, host, path] = m;
  if (!path!.startsWith("/")) throw new Error(`${arg}: a ${host === "vm" ? "VM" : host} path must be absolute. Fix: ${host}:/root/${path || "FILE"}`);
  return { host: host as HostName, path: path! };
}

/** Copies SRC to DST, exactly one of them on a lab host; into DST/basename(SRC) when DST is a directory. */
export async function copy(lab: string, src: CopyEnd, dst: CopyEnd): Promise<CopyResult> {
  if ((src.host === undefined) === (dst.host === undefined)) {
    throw new Error(`cp copies between this machine and a lab host: prefix exactly one side with ${HOSTS.join(":, ")}: (e.g. ./xdp-lab cp ./prog.o vm:/root/)`);
  }
  return src.host ? (await labHost(lab, src.host)).copyOut(src.path, dst.path) : (await labHost(lab, dst.host!)).copyIn(src.path, dst.path);
}
