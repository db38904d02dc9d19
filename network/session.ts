// Sessions with a running lab's VM: ssh on its management link, refused at once when the VM is dead.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { Client } from "ssh2";
import { labPlan, nameFlag, type LabPlan } from "./plan.ts";
import { connect } from "../src/tools/ssh.ts";
import { readState, type LabState } from "./state.ts";
import { vmEnding, vmLink } from "./guest.ts";

/**
 * Throws unless the lab is up with its VM running: a dead VM is named as such at once, with how qemu
 * ended, the console log and the fix, instead of an ssh timeout.
 */
export async function requireVm(name: string): Promise<LabState> {
  const plan = labPlan(name);
  const state = await readState(plan);
  if (!state?.hostPublic || !existsSync(plan.files.key)) {
    throw new Error(`Lab "${name}" is not up. Fix: ./xdp-lab up${nameFlag(name)}`);
  }
  const ended = await vmEnding(plan, state);
  if (ended) {
    throw new Error(
      `The VM of lab ${name} is not running (${ended}). Console log: ${plan.files.consoleLog}\n` +
        `Fix: ./xdp-lab down${nameFlag(name)} && ./xdp-lab up${nameFlag(name)}`,
    );
  }
  return state;
}

/** Opens an ssh session to a lab's VM already found running (requireVm, or status's own check). */
export async function openVm(plan: LabPlan, state: LabState): Promise<Client> {
  return connect(vmLink(plan, await readFile(plan.files.key), state.hostPublic!));
}

/** Opens an ssh session to a running lab's VM. */
export async function connectVm(name: string): Promise<Client> {
  return openVm(labPlan(name), await requireVm(name));
}

/** Runs FN with an ssh session to the lab's VM, closed afterwards whatever happens. */
export async function withVm<T>(name: string, fn: (client: Client) => Promise<T>): Promise<T> {
  return useVm(await connectVm(name), fn);
}

/** Runs FN with an open session, closed afterwards whatever happens. */
export async function useVm<T>(client: Client, fn: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await fn(client);
  } finally {
    client.end();
  }
}
