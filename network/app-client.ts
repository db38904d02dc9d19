// The host's client of xdp-lab-app in the VM: commands through its control socket (over ssh), with
// answers typed by the contract; `load` copies an object in and attaches it. A command that fails
// because the lab went down meanwhile (`down` in another shell) is told as such.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Client } from "ssh2";
import { GUEST_CONTROL, GUEST_APP_LOG, parseAnswer, type AppAnswer, type AppCommand, type AppOk, type AppResults } from "./contract.ts";
import { checkBpfObject } from "./bpf-object.ts";
import { vmEnding } from "./guest.ts";
import { labPlan, nameFlag } from "./plan.ts";
import { exec as sshExec } from "../src/tools/ssh.ts";
import { shellQuote } from "./shell.ts";
import { openVm, requireVm, useVm } from "./session.ts";
import { readState } from "./state.ts";

/** A command in the VM that did not do its job and gave no answer. */
export interface VmFailure {
  /** What did not happen, as the start of a sentence: `The app in the VM did not answer "stats"`. */
  failed: string;
  /** Its exit status in the VM; 255 is ssh's own, for a session that ended without one. */
  code?: number;
  /** What it said (stderr, else stdout), or the error that stopped it; may be empty. */
  said: string;
  /** Where to look when the lab is still up. */
  see?: string;
}

/** The lab, looked at again right after a failure. */
export type LabAfter = { up: true } | { up: false; how: string; stateGone: boolean };

/**
 * The message for a failed command in the VM: that the lab went down meanwhile, and what to do,
 * when it did; else the command's own words, or, when it said nothing, what its silence means.
 * Never an empty reason.
 */
export function failureMessage(f: VmFailure, lab?: { name: string; after: LabAfter }): string {
  const exit = f.code === undefined ? "" : ` (exit ${f.code})`;
  if (lab && !lab.after.up) {
    const flag = nameFlag(lab.name);
    const fix = lab.after.stateGone ? `./xdp-lab up${flag}` : `./xdp-lab down${flag} && ./xdp-lab up${flag}`;
    return `${f.failed}${exit}: lab "${lab.name}" went down during the command (${lab.after.how}). Fix: ${fix}, then run the command again`;
  }
  const see = f.see ? ` See ${f.see}` : "";
  const said = f.said.trim();
  if (said) return `${f.failed}${exit}: ${said.replace(/\.$/, "")}.${see}`;
  const silence = f.code === 255 ? "the ssh session to the VM ended before the command did" : "the command printed nothing";
  const check = lab ? "The lab is still up: try again." : `Check that the lab is still up: ./xdp-lab status.`;
  return `${f.failed}${exit} and gave no reason: ${silence}. ${check}${see}`;
}

/** Thrown for a VmFailure; its message is failureMessage's without looking at the lab. */
export class VmCommandError extends Error {
  constructor(readonly failure: VmFailure) {
    super(failureMessage(failure));
  }
}

/**
 * Sends one command to the app in the VM through its control socket; the answer is parsed into the
 * command's typed result (contract.ts). Throws a VmCommandError when the app does not answer at all.
 */
export async function appCommand<C extends AppCommand>(client: Client, command: C, ...args: string[]): Promise<AppAnswer<C>> {
  const r = await sshExec(client, ["xdp-lab-app", "ctl", "--control", GUEST_CONTROL, command, ...args].map(shellQuote).join(" "));
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) {
    throw new VmCommandError({
      failed: `The app in the VM did not answer "${[command, ...args].join(" ")}"`,
      code: r.code,
      said: r.stderr || r.stdout,
      see: `${GUEST_APP_LOG} in the VM`,
    });
  }
  return parseAnswer(line, command);
}

/** Whether the lab is up, read again from its state and its VM's process. */
async function labAfter(name: string): Promise<LabAfter> {
  const plan = labPlan(name);
  const state = await readState(plan);
  if (!state?.hostPublic) return { up: false, stateGone: true, how: "its state is gone, as ./xdp-lab down leaves it" };
  const ended = await vmEnding(plan, state);
  return ended ? { up: false, stateGone: false, how: `its VM stopped: ${ended}` } : { up: true };
}

/**
 * Runs FN with a session to the running lab's VM (WHAT names it in messages: `xdp-lab load X`). A
 * lab not up is refused first, as requireVm refuses it; a failure after that is checked against
 * the lab, which `down` may have removed meanwhile. `down` kills the ssh relay and qemu at once and
 * removes the lab's state a moment later, so after a lost session the lab is looked at again for
 * up to two seconds, until its state is gone: the fix is then `up`, not `down && up`. FN's own
 * refusals (the app's ok:false) are for the caller to throw, outside.
 */
async function inRunningVm<T>(name: string, what: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const state = await requireVm(name);
  try {
    return await useVm(await openVm(labPlan(name), state), fn);
  } catch (e) {
    const lost = !(e instanceof VmCommandError) || e.failure.code === 255;
    const removed = (l: LabAfter): boolean => !l.up && l.stateGone;
    let after = await labAfter(name);
    for (let i = 0; lost && i < 20 && !removed(after); i++) {
      await new Promise((r) => setTimeout(r, 100));
      after = await labAfter(name);
    }
    if (after.up && !(e instanceof VmCommandError)) throw e;
    const failure: VmFailure = e instanceof VmCommandError ? e.failure : { failed: `${what} did not finish`, said: (e as Error).message };
    throw new Error(failureMessage(failure, { name, after }), { cause: e });
  }
}

/** The app's counters, through an open session to the VM. */
export async function appStats(client: Client): Promise<AppResults["stats"]> {
  const a = await appCommand(client, "stats");
  if (!a.ok) throw new Error(`The app in the VM refused stats: ${a.error}`);
  return a.result;
}

export interface LoadOptions {
  iface: "lan" | "wan";
  mode: "native" | "generic";
  /** The program to attach by its name or section (default: the object's first XDP program). */
  program?: string;
  /** const volatile globals set before load. */
  tunables?: Record<string, number>;
}

/** What follows OBJ IFACE on the app's load line: the mode, program=NAME, NAME=VALUE per tunable. */
export function loadArgs(o: LoadOptions): string[] {
  return [o.mode, ...(o.program ? [`program=${o.program}`] : []), ...Object.entries(o.tunables ?? {}).map(([k, v]) => `${k}=${v}`)];
}

/**
 * Copies an XDP object into the VM and attaches it with the app (replacing what was attached there,
 * atomically). OBJECT is named as given in every message (the app's words too, which name its copy
 * in the VM); a file that is not a BPF object is refused on the host, before the copy.
 */
export async function load(name: string, object: string, o: LoadOptions): Promise<AppOk<"load">> {
  if (!existsSync(object)) {
    throw new Error(`No such XDP object: ${object}. Fix: build it (./xdp-lab build bpf, objects land in out/) or give the path of a .bpf.o`);
  }
  await checkBpfObject(object);
  const data = await readFile(object);
  const remote = `/run/xdp-lab/obj/${basename(object)}`;
  const iface = `${o.iface}0`;
  const answer = await inRunningVm(name, `xdp-lab load ${object}`, async (client) => {
    const copy = await sshExec(client, `mkdir -p /run/xdp-lab/obj && cat > ${shellQuote(remote)}`, { stdin: data });
    if (copy.code !== 0) throw new VmCommandError({ failed: `Failed to copy ${object} into the VM`, code: copy.code, said: copy.stderr });
    // The app replaces what runs there in one step: a rejected object leaves the old one attached.
    return appCommand(client, "load", remote, iface, ...loadArgs(o));
  });
  if (!answer.ok) throw new Error(loadFailure(object, remote, iface, o.mode, answer.error));
  return answer;
}

/** The message for the app's refusal of OBJECT (its copy in the VM: REMOTE), naming the user's path wherever the app named its copy. */
export function loadFailure(object: string, remote: string, iface: string, mode: string, error: string): string {
  return `Failed to load ${object} on ${iface} (${mode}): ${error.replaceAll(remote, object)}`;
}

/** Detaches what the app attached to a VM port. */
export function unload(name: string, iface: LoadOptions["iface"]): Promise<AppAnswer<"unload">> {
  return inRunningVm(name, `xdp-lab unload ${iface}`, (client) => appCommand(client, "unload", `${iface}0`));
}
