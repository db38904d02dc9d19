// The host's client of xdp-lab-app in the VM: commands through its control socket (over ssh), with
// answers typed by the contract; `load` copies an object in and attaches it.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import type { Client } from "ssh2";
import { GUEST_CONTROL, GUEST_APP_LOG, parseAnswer, type AppAnswer, type AppCommand, type AppOk, type AppResults } from "./contract.ts";
import { exec as sshExec } from "./ssh.ts";
import { shellQuote } from "./shell.ts";
import { withVm } from "./session.ts";

/**
 * Sends one command to the app in the VM through its control socket; the answer is parsed into the
 * command's typed result (contract.ts). Throws when the app does not answer at all.
 */
export async function appCommand<C extends AppCommand>(client: Client, command: C, ...args: string[]): Promise<AppAnswer<C>> {
  const r = await sshExec(client, ["xdp-lab-app", "ctl", "--control", GUEST_CONTROL, command, ...args].map(shellQuote).join(" "));
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) {
    throw new Error(`The app in the VM did not answer "${[command, ...args].join(" ")}" (exit ${r.code}): ${(r.stderr || r.stdout).trim()}. See ${GUEST_APP_LOG} in the VM`);
  }
  return parseAnswer(line, command);
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
}

/** Copies an XDP object into the VM and attaches it with the app (replacing what was attached there, atomically). */
export async function load(name: string, object: string, o: LoadOptions): Promise<AppOk<"load">> {
  if (!existsSync(object)) {
    throw new Error(`No such XDP object: ${object}. Fix: build it (./xdp-lab build bpf, objects land in out/) or give the path of a .bpf.o`);
  }
  const data = await readFile(object);
  return withVm(name, async (client) => {
    const remote = `/run/xdp-lab/obj/${basename(object)}`;
    const copy = await sshExec(client, `mkdir -p /run/xdp-lab/obj && cat > ${shellQuote(remote)}`, { stdin: data });
    if (copy.code !== 0) throw new Error(`Failed to copy ${object} into the VM: ${copy.stderr.trim()}`);
    const iface = `${o.iface}0`;
    // The app replaces what runs there in one step: a rejected object leaves the old one attached.
    const answer = await appCommand(client, "load", remote, iface, o.mode);
    if (!answer.ok) throw new Error(`Failed to load ${object} on ${iface} (${o.mode}): ${answer.error}`);
    return answer;
  });
}

/** Detaches what the app attached to a VM port. */
export function unload(name: string, iface: LoadOptions["iface"]): Promise<AppAnswer<"unload">> {
  return withVm(name, (client) => appCommand(client, "unload", `${iface}0`));
}
