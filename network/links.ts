// Applies impairment (impair.ts) to a running lab's links, in its lab namespace, through each
// link's impairment relay (relay.ts), and reads back what the relay counted.
import { checkImpairment, linkDirections, unimpaired, type Impairment } from "./impair.ts";
import type { LabPlan, LinkName } from "./plan.ts";
import { applyRelay, clearRelay, relayCounters, relayPid, type RelayCounters } from "./relay.ts";

/**
 * Impairs LINK of a lab whose namespaces exist (replacing what it had) through the relay binary
 * RELAY; an empty impairment removes it, relay and all.
 */
export async function applyImpairment(plan: LabPlan, name: LinkName, imp: Impairment, relay?: string): Promise<void> {
  checkImpairment(imp);
  const dirs = linkDirections(plan.links[name], imp);
  try {
    if (unimpaired(imp)) await clearRelay(plan.ns.lab, plan.dir, name, dirs);
    else if (!relay) throw new Error("no impairment relay binary was given (the Lab handle builds it: src/relay-binary.ts)");
    else await applyRelay(plan.ns.lab, plan.dir, name, dirs, relay);
  } catch (error) {
    throw new Error(`Failed to impair ${name}: ${(error as Error).message}`, { cause: error });
  }
}

/** A link's relay: its pid and each direction's counters, or undefined when the link is unimpaired. */
export async function linkRelay(plan: LabPlan, name: LinkName): Promise<{ pid: number; counters?: RelayCounters } | undefined> {
  const pid = await relayPid(plan.dir, name);
  return pid ? { pid, counters: await relayCounters(plan.dir, name) } : undefined;
}
