// The nftables rulesets the lab installs: the WAN edge's NAT and forwarding, and --uplink's host
// NAT. Pure text, unit-tested; src/tools/nft.ts loads them.
import { ADDR, ADDR6, type LabPlan } from "./plan.ts";

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
