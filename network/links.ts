// Applies impairment (impair.ts) to a running lab's links, in its lab namespace, and reads back
// what tc has there.
import { ip } from "./ip.ts";
import { IMPAIR_PARAM_NAMES, checkImpairment, ifbCommands, linkDevices, qdiscCommands, unimpaired, type Impairment } from "./impair.ts";
import type { LabPlan, LinkName, LinkPlan } from "./plan.ts";
import { qdiscs, tc, tcMaybe, type Qdisc } from "./tc.ts";

/**
 * Impairs LINK of a lab whose namespaces exist (replacing what it had); an empty impairment
 * removes it. Fails naming what the kernel lacks when it has no netem.
 */
export async function applyImpairment(plan: LabPlan, name: LinkName, imp: Impairment): Promise<void> {
  checkImpairment(imp);
  const link = plan.links[name];
  const ns = plan.ns.lab;
  await clearLink(plan, link);
  if (unimpaired(imp)) return;
  const ifb = ifbCommands(link);
  for (const c of ifb.ip) await ip(ns, ...c);
  for (const c of ifb.tc) await tc(ns, ...c);
  const devs = linkDevices(link);
  try {
    for (const dev of [devs.inward, devs.outward]) for (const c of qdiscCommands(dev, imp)) await tc(ns, ...c);
  } catch (e) {
    await clearLink(plan, link);
    if (/qdisc kind is unknown|Unknown qdisc/i.test(String((e as Error).cause))) {
      const netemOnly = IMPAIR_PARAM_NAMES.filter((k) => k !== "rate" && imp[k]);
      throw new Error(
        `Failed to impair ${name}: this machine's kernel has no netem (CONFIG_NET_SCH_NETEM), which --${netemOnly.join(", --")} need${netemOnly.length > 1 ? "" : "s"}. ` +
          `Fix: load it (modprobe sch_netem) or use a kernel that has it; --rate alone works without it (tbf)`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** Removes LINK's qdiscs and its IFB; a link with none is left as it is. */
async function clearLink(plan: LabPlan, link: LinkPlan): Promise<void> {
  const ns = plan.ns.lab;
  if (link.inwardFrom) {
    await tcMaybe(ns, "qdisc", "del", "dev", link.inwardFrom, "ingress");
    await ip(ns, "link", "del", link.inward).catch(() => undefined);
  }
  for (const dev of [link.inward, link.outward]) await tcMaybe(ns, "qdisc", "del", "dev", dev, "root");
}

/** What tc reports on a link's two devices: the qdiscs the lab put there (none when unimpaired). */
export async function linkQdiscs(plan: LabPlan, name: LinkName): Promise<Record<string, Qdisc[]>> {
  const link = plan.links[name];
  const out: Record<string, Qdisc[]> = {};
  for (const dev of [link.inward, link.outward]) {
    out[dev] = (await qdiscs(plan.ns.lab, dev).catch(() => [])).filter((q) => q.kind === "netem" || q.kind === "tbf");
  }
  return out;
}

