// The lab's plan: names, addresses and files, derived from the lab's name alone, so `down` can find
// everything `up` made even when the runner was killed before it wrote anything down.
import { GUEST_CONTROL, GUEST_NICS, type GuestNic, type LabEnvKey } from "./contract.ts";

/** Where running labs keep their state (tmpfs: gone after a host reboot, like the namespaces). */
export const RUN_DIR = "/run/xdp-lab";

/** iproute2 bind-mounts /etc/netns/NS/* over /etc for `ip netns exec NS`: each host's hosts file. */
export const NETNS_ETC = "/etc/netns";

export const DEFAULT_LAB = "lab";

/** The hosts of a lab, and what `exec` accepts. */
export const HOSTS = ["vm", "client", "server", "internet"] as const;
export type HostName = (typeof HOSTS)[number];

/** The hosts with a network namespace of their own: every one but the VM. */
export type NsHost = Exclude<HostName, "vm">;
export const NS_HOSTS: readonly NsHost[] = HOSTS.filter((h): h is NsHost => h !== "vm");

/** Each namespace of a lab: one per host but the VM, plus the lab's own that holds the bridges, the taps and the edge. */
export type Role = "lab" | NsHost;
export const NAMESPACE_ROLES: readonly Role[] = ["lab", ...NS_HOSTS];

/**
 * How a host runs: "vm" is the lab's qemu guest (reached over ssh on its management link);
 * "netns" is a network namespace that shares this machine's programs and files; "podman" is a
 * container of its own image that joins that namespace (`up --hosts podman`).
 */
export type HostKind = "vm" | "netns" | "podman";

/** The kinds a host other than the VM can be. */
export const NS_HOST_KINDS = ["netns", "podman"] as const;
export type NsHostKind = (typeof NS_HOST_KINDS)[number];

/** The links between the VM (or the edge) and the hosts, which impairment can go on. */
export const LINKS = ["lan", "wan", "uplink"] as const;
export type LinkName = (typeof LINKS)[number];

/**
 * Addresses are the same in every lab: each lab lives in namespaces of its own, so two labs never
 * see each other's. 198.51.100.0/24 is TEST-NET-2 (RFC 5737): it stands for the internet and never
 * leaves the lab.
 */
export const ADDR = {
  lan: { prefix: "10.10.1.0/24", vm: "10.10.1.1", client: "10.10.1.10", len: 24 },
  wan: { prefix: "10.10.2.0/24", edge: "10.10.2.1", vm: "10.10.2.2", server: "10.10.2.10", len: 24 },
  internet: { prefix: "198.51.100.0/24", edge: "198.51.100.1", host: "198.51.100.100", len: 24 },
  /** Point-to-point link between the lab namespace and the VM's management NIC, for ssh only. */
  mgmt: { host: "169.254.100.1", vm: "169.254.100.2", len: 30 },
} as const;


/**
 * The IPv6 addresses beside them: unique local prefixes (RFC 4193) inside the lab and 2001:db8::/32
 * (documentation, RFC 3849) for the internet, which also never leaves the lab.
 */
export const ADDR6 = {
  lan: { prefix: "fd00:10:1::/64", vm: "fd00:10:1::1", client: "fd00:10:1::10", len: 64 },
  wan: { prefix: "fd00:10:2::/64", edge: "fd00:10:2::1", vm: "fd00:10:2::2", server: "fd00:10:2::10", len: 64 },
  internet: { prefix: "2001:db8:100::/64", edge: "2001:db8:100::1", host: "2001:db8:100::100", len: 64 },
} as const;

/**
 * Fixed MACs for the hosts' ends, so every neighbour entry is static: no ARP crosses the VM's ports
 * and a program's counters count exactly the traffic a test or a user sends.
 */
export const HOST_MACS = { client: "52:54:00:10:01:0a", server: "52:54:00:10:02:0a", edge: "52:54:00:10:02:01" } as const;


/** One host of a lab: its kind, where it lives and its addresses. */
export interface HostPlan {
  name: HostName;
  kind: HostKind;
  /** Its network namespace; for the VM, the lab namespace its qemu and management link live in. */
  ns: string;
  /** Its interfaces and addresses, as `status` shows them. */
  addresses: string[];
  /** The name its container gets when it is a podman host (every host but the VM). */
  container?: string;
}

/**
 * One link, as seen from the lab namespace where every link of a lab meets: the two devices whose
 * egress carries its traffic, one per direction. Impairment goes there, so the VM and the hosts
 * stay untouched.
 */
export interface LinkPlan {
  name: LinkName;
  /** The bridge both ports are on; none for the uplink, which the edge routes. */
  bridge?: string;
  /** Whose egress carries the link's traffic toward the VM (for the uplink, whose ingress carries it toward the edge). */
  inward: string;
  /** Whose egress carries it toward the host at the far end. */
  outward: string;
  /** The host at the far end (with --uplink, the uplink leads out of the lab instead). */
  host: NsHost;
  /**
   * Set when the link has no port toward its near end (the uplink: the edge is the lab namespace
   * itself): its inward traffic is taken where it arrives, at `inward`'s ingress.
   */
  inwardAtIngress?: boolean;
}

export interface LabPlan {
  name: string;
  /** Network namespace of each role. */
  ns: Record<Role, string>;
  /** The hosts, each with the kind a lab gets unless `up` is told otherwise. */
  hosts: Record<HostName, HostPlan>;
  links: Record<LinkName, LinkPlan>;
  /** The lab's state directory under RUN_DIR. */
  dir: string;
  files: {
    state: string;
    pid: string;
    /** qemu's stderr and, once it ended, its status (written by the supervisor, qemu-process.ts). */
    qemuStderr: string;
    qemuExit: string;
    console: string;
    consoleLog: string;
    initrd: string;
    key: string;
    hostKey: string;
    www: string;
  };
  /** tmux session of `xdp-lab tmux`. */
  tmux: string;
  /** Host-side nft table and veth, only with --uplink IFACE. */
  uplink: { table: string; hostVeth: string; labVeth: string; host: string; lab: string; len: number };
}

/** The lab namespace's device toward the internet: a veth to it, or with --uplink one to the host. */
const UPLINK_DEV = "uplink0";

const NAME = /^[a-z][a-z0-9-]{0,11}$/;

/** Throws unless NAME is a usable lab name. */
export function validateName(name: string): string {
  if (!NAME.test(name)) {
    throw new Error(
      `Invalid lab name "${name}". Fix: use 1 to 12 characters, lower-case letters, digits and '-', starting with a letter (e.g. --name lab2)`,
    );
  }
  return name;
}

/** The lab a namespace belongs to, from the names labPlan gives them; undefined for others. */
export function labOfNamespace(ns: string): string | undefined {
  const m = /^xl-(.+)-(lab|client|server|internet)$/.exec(ns);
  return m && NAME.test(m[1]!) ? m[1] : undefined;
}

const nic = (name: GuestNic["name"]): GuestNic => GUEST_NICS.find((n) => n.name === name)!;

/** The device name of a host's end of its link (the peer of the lab namespace's veth). */
export const HOST_DEV = "eth0";

export function labPlan(name: string, runDir = RUN_DIR): LabPlan {
  validateName(name);
  const dir = `${runDir}/${name}`;
  const ns = { lab: `xl-${name}-lab`, client: `xl-${name}-client`, server: `xl-${name}-server`, internet: `xl-${name}-internet` };
  const [lan, wan] = [nic("lan0"), nic("wan0")];
  return {
    name,
    ns,
    hosts: {
      vm: {
        name: "vm",
        kind: "vm",
        ns: ns.lab,
        addresses: [`lan0 ${ADDR.lan.vm}/${ADDR.lan.len}`, `wan0 ${ADDR.wan.vm}/${ADDR.wan.len}`, `mgmt0 ${ADDR.mgmt.vm}/${ADDR.mgmt.len}`],
      },
      client: { name: "client", kind: "netns", ns: ns.client, addresses: [`${HOST_DEV} ${ADDR.lan.client}/${ADDR.lan.len} via ${ADDR.lan.vm}`], container: ns.client },
      server: { name: "server", kind: "netns", ns: ns.server, addresses: [`${HOST_DEV} ${ADDR.wan.server}/${ADDR.wan.len}`], container: ns.server },
      internet: { name: "internet", kind: "netns", ns: ns.internet, addresses: [`${HOST_DEV} ${ADDR.internet.host}/${ADDR.internet.len}`], container: ns.internet },
    },
    links: {
      lan: { name: "lan", bridge: lan.bridge, inward: lan.tap, outward: "veth-client", host: "client" },
      wan: { name: "wan", bridge: wan.bridge, inward: wan.tap, outward: "veth-server", host: "server" },
      uplink: { name: "uplink", inward: UPLINK_DEV, outward: UPLINK_DEV, host: "internet", inwardAtIngress: true },
    },
    dir,
    files: {
      state: `${dir}/state.json`,
      pid: `${dir}/qemu.pid`,
      qemuStderr: `${dir}/qemu.stderr`,
      qemuExit: `${dir}/qemu.exit`,
      console: `${dir}/console.sock`,
      consoleLog: `${dir}/console.log`,
      initrd: `${dir}/initrd.img`,
      key: `${dir}/id_ed25519`,
      hostKey: `${dir}/vm_host_ed25519`,
      www: `${dir}/www`,
    },
    tmux: `xdp-lab-${name}`,
    // Only with --uplink: a /30 in 100.64.0.0/10 (shared address space, RFC 6598) per lab.
    uplink: { table: `xdp_lab_${name.replace(/-/g, "_")}`, hostVeth: `xl-${name}`, labVeth: UPLINK_DEV, host: "100.64.200.1", lab: "100.64.200.2", len: 30 },
  };
}

/** The hosts file each host sees: every lab host by name, in both families. */
export function hostsFile(self: HostName | "lab"): string {
  const me = self === "vm" ? "xdp" : self;
  const hosts: [string, string, string][] = [
    ["client", ADDR.lan.client, ADDR6.lan.client],
    ["xdp vm", ADDR.lan.vm, ADDR6.lan.vm],
    ["xdp-wan", ADDR.wan.vm, ADDR6.wan.vm],
    ["edge", ADDR.wan.edge, ADDR6.wan.edge],
    ["server", ADDR.wan.server, ADDR6.wan.server],
    ["internet", ADDR.internet.host, ADDR6.internet.host],
  ];
  const rows: [string, string][] = [
    ["127.0.0.1", `localhost ${me}`],
    ...hosts.map(([name, v4]): [string, string] => [v4, name]),
    ["::1", `localhost ip6-localhost ${me}`],
    ...hosts.map(([name, , v6]): [string, string] => [v6, name]),
  ];
  return rows.map(([a, n]) => `${a}\t${n}`).join("\n") + "\n";
}

/** Shell variables the guest's lab script (rootfs/etc/xdp-lab/rc.d/50-lab) reads. */
export function guestEnv(): string {
  const [lan, wan, mgmt] = GUEST_NICS;
  const vars: Record<LabEnvKey, string> = {
    LAB_LAN_MAC: lan.mac,
    LAB_WAN_MAC: wan.mac,
    LAB_MGMT_MAC: mgmt.mac,
    LAB_LAN_ADDR: `${ADDR.lan.vm}/${ADDR.lan.len}`,
    LAB_WAN_ADDR: `${ADDR.wan.vm}/${ADDR.wan.len}`,
    LAB_MGMT_ADDR: `${ADDR.mgmt.vm}/${ADDR.mgmt.len}`,
    LAB_MGMT_IP: ADDR.mgmt.vm,
    LAB_GATEWAY: ADDR.wan.edge,
    LAB_CONTROL: GUEST_CONTROL,
    LAB_NEIGH: `lan0=${ADDR.lan.client}=${HOST_MACS.client} wan0=${ADDR.wan.server}=${HOST_MACS.server} wan0=${ADDR.wan.edge}=${HOST_MACS.edge}`,
    LAB_LAN_ADDR6: `${ADDR6.lan.vm}/${ADDR6.lan.len}`,
    LAB_WAN_ADDR6: `${ADDR6.wan.vm}/${ADDR6.wan.len}`,
    LAB_GATEWAY6: ADDR6.wan.edge,
    LAB_NEIGH6: `lan0=${ADDR6.lan.client}=${HOST_MACS.client} wan0=${ADDR6.wan.server}=${HOST_MACS.server} wan0=${ADDR6.wan.edge}=${HOST_MACS.edge}`,
  };
  return Object.entries(vars).map(([k, v]) => `${k}=${/\s/.test(v) ? `"${v}"` : v}`).join("\n") + "\n";
}

/** `--name NAME` for a fix line, empty for the default lab. */
export function nameFlag(name: string): string {
  return name === DEFAULT_LAB ? "" : ` --name ${name}`;
}
