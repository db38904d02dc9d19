// The one wrapper around nft, and the rulesets the lab installs (pure, unit-tested).
import { execa } from "execa";
import { netnsExec } from "./ip.ts";
import { ADDR, ADDR6, type LabPlan } from "./plan.ts";

/** Loads a ruleset with `nft -f -`, inside namespace NS when given. */
export async function nft(ns: string | undefined, ruleset: string): Promise<void> {
  const r = await (ns ? netnsExec(ns, ["nft", "-f", "-"], { input: ruleset }) : execa("nft", ["-f", "-"], { input: ruleset, reject: false }));
  if (r.exitCode !== 0) throw new Error(`Failed to load nft rules${ns ? ` in namespace ${ns}` : ""}: ${r.stderr.trim()}\nRules:\n${ruleset}`);
}

/** Deletes a table of the host's ruleset if it exists (only --uplink creates one). */
export async function deleteHostTable(family: string, table: string): Promise<void> {
  const r = await execa("nft", ["list", "table", family, table], { reject: false });
  if (r.exitCode !== 0) return;
  await nft(undefined, `delete table ${family} ${table}\n`);
}

/**
 * The WAN edge in the lab namespace: masquerades what leaves for the internet, forwards only
 * WAN -> internet (and the replies), so no host reaches the VM's management link through it.
 */
export function edgeRuleset(uplinkIface: string, wanIface: string): string {
  return `table inet xdp_lab_edge {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    iifname "${wanIface}" oifname "${uplinkIface}" accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "${uplinkIface}" ip saddr { ${ADDR.lan.prefix}, ${ADDR.wan.prefix} } masquerade
    oifname "${uplinkIface}" ip6 saddr { ${ADDR6.lan.prefix}, ${ADDR6.wan.prefix} } masquerade
  }
}
`;
}

/** Host-side NAT for --uplink IFACE: the lab's uplink veth out of a real interface. Never used by tests. */
export function hostUplinkRuleset(plan: LabPlan, iface: string): string {
  const u = plan.uplink;
  return `table ip ${u.table} {
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "${u.hostVeth}" oifname "${iface}" accept
    iifname "${iface}" oifname "${u.hostVeth}" ct state established,related accept
    iifname "${u.hostVeth}" drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    iifname "${u.hostVeth}" oifname "${iface}" masquerade
  }
}
`;
}
