// The lab's network on the host: the ip commands that wire the namespaces (pure, one batch per
// namespace), their hosts files, the web servers on the server and the internet, and --uplink.
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { ip, sysctl } from "../src/tools/ip.ts";
import { hostOf } from "./hosts/index.ts";
import type { ExecResult } from "../src/tools/ssh.ts";
import { nft } from "../src/tools/nft.ts";
import { hostUplinkRuleset } from "./rulesets.ts";
import { GUEST_NICS } from "./contract.ts";
import { ADDR, ADDR6, HOST_DEV, HOST_MACS, NAMESPACE_ROLES, NETNS_ETC, hostsFile, type LabPlan, type Role } from "./plan.ts";
import { writeState, type LabState } from "./state.ts";

const BUSYBOX = "busybox";

/** The ip commands that wire a lab, per namespace (pure: unit-tested, and one `ip -batch` each). */
export function wiring(plan: LabPlan, uplink: boolean): Record<Role | "lab6", string[][]> {
  const { ns, links } = plan;
  const { lan: l, wan: w, uplink: u } = links;
  const [lan, wan] = GUEST_NICS;
  const mgmt = GUEST_NICS.find((n) => n.bridge === undefined)!;
  // The client's and the server's veths: the lab namespace's end on their bridge, HOST_DEV in theirs.
  const hostVeths = [l, w].map((link) => ["link", "add", link.outward, "type", "veth", "peer", "name", HOST_DEV, "netns", ns[link.host]]);
  const lab: string[][] = [
    ["link", "set", "lo", "up"],
    ["link", "add", l.bridge!, "type", "bridge"],
    ["link", "add", w.bridge!, "address", HOST_MACS.edge, "type", "bridge"],
    ["addr", "add", `${ADDR.wan.edge}/${ADDR.wan.len}`, "dev", w.bridge!],
    ...hostVeths,
    ...[l, w].map((link) => ["link", "set", link.outward, "master", link.bridge!]),
    ...GUEST_NICS.flatMap((n) => [
      ["tuntap", "add", "dev", n.tap, "mode", "tap", ...(n.data ? ["multi_queue"] : [])],
      ...(n.bridge ? [["link", "set", n.tap, "master", n.bridge]] : []),
      ["link", "set", n.tap, "up"],
    ]),
    ["addr", "add", `${ADDR.mgmt.host}/${ADDR.mgmt.len}`, "dev", mgmt.tap],
    ["link", "set", l.bridge!, "up"],
    ["link", "set", w.bridge!, "up"],
    ...[l, w].map((link) => ["link", "set", link.outward, "up"]),
    // Replies for the LAN come back through the VM.
    ["route", "add", ADDR.lan.prefix, "via", ADDR.wan.vm],
    ["neigh", "replace", ADDR.wan.vm, "lladdr", wan.mac, "dev", w.bridge!, "nud", "permanent"],
    ["neigh", "replace", ADDR.wan.server, "lladdr", HOST_MACS.server, "dev", w.bridge!, "nud", "permanent"],
  ];
  if (uplink) {
    lab.push(["addr", "add", `${plan.uplink.lab}/${plan.uplink.len}`, "dev", plan.uplink.labVeth], ["link", "set", plan.uplink.labVeth, "up"]);
    lab.push(["route", "add", "default", "via", plan.uplink.host]);
  } else {
    lab.push(
      ["link", "add", u.outward, "type", "veth", "peer", "name", HOST_DEV, "netns", ns.internet],
      ["addr", "add", `${ADDR.internet.edge}/${ADDR.internet.len}`, "dev", u.outward],
      ["link", "set", u.outward, "up"],
    );
  }
  // IPv6 on the edge's WAN side and towards the internet, once those links may have it (up.ts).
  const lab6: string[][] = [
    ["addr", "add", `${ADDR6.wan.edge}/${ADDR6.wan.len}`, "dev", w.bridge!, "nodad"],
    ["route", "add", ADDR6.lan.prefix, "via", ADDR6.wan.vm],
    ["neigh", "replace", ADDR6.wan.vm, "lladdr", wan.mac, "dev", w.bridge!, "nud", "permanent"],
    ["neigh", "replace", ADDR6.wan.server, "lladdr", HOST_MACS.server, "dev", w.bridge!, "nud", "permanent"],
    ...(uplink ? [] : [["addr", "add", `${ADDR6.internet.edge}/${ADDR6.internet.len}`, "dev", u.outward, "nodad"]]),
  ];
  // Each host: both families, static neighbours for its gateway and the hosts it talks to (no ARP or
  // ND crosses the VM for them; an address a test adds is still resolved, on demand).
  const host = (a: { v4: string; len: number; v6: string; len6: number }, routes: string[][], mac?: string, neigh?: [string, string][]): string[][] => [
    ["link", "set", "lo", "up"],
    ...(mac ? [["link", "set", HOST_DEV, "address", mac]] : []),
    ["addr", "add", `${a.v4}/${a.len}`, "dev", HOST_DEV],
    ["addr", "add", `${a.v6}/${a.len6}`, "dev", HOST_DEV, "nodad"],
    ["link", "set", HOST_DEV, "up"],
    ...(neigh ?? []).map(([ip, ll]) => ["neigh", "replace", ip, "lladdr", ll, "dev", HOST_DEV, "nud", "permanent"]),
    ...routes.map((r) => ["route", "add", ...r]),
  ];
  return {
    lab,
    lab6,
    client: host(
      { v4: ADDR.lan.client, len: ADDR.lan.len, v6: ADDR6.lan.client, len6: ADDR6.lan.len },
      [
        ["default", "via", ADDR.lan.vm],
        ["::/0", "via", ADDR6.lan.vm],
      ],
      HOST_MACS.client,
      [
        [ADDR.lan.vm, lan.mac],
        [ADDR6.lan.vm, lan.mac],
      ],
    ),
    server: host(
      { v4: ADDR.wan.server, len: ADDR.wan.len, v6: ADDR6.wan.server, len6: ADDR6.wan.len },
      [
        [ADDR.lan.prefix, "via", ADDR.wan.vm],
        ["default", "via", ADDR.wan.edge],
        [ADDR6.lan.prefix, "via", ADDR6.wan.vm],
        ["::/0", "via", ADDR6.wan.edge],
      ],
      HOST_MACS.server,
      [
        [ADDR.wan.vm, wan.mac],
        [ADDR6.wan.vm, wan.mac],
        [ADDR.wan.edge, HOST_MACS.edge],
        [ADDR6.wan.edge, HOST_MACS.edge],
      ],
    ),
    // The internet knows nothing of the lab's private subnets: it only ever sees the edge's address.
    internet: uplink ? [] : host({ v4: ADDR.internet.host, len: ADDR.internet.len, v6: ADDR6.internet.host, len6: ADDR6.internet.len }, []),
  };
}

/** Each namespace's /etc/hosts (iproute2 bind-mounts /etc/netns/NS/hosts for `ip netns exec`). */
export async function hostFiles(plan: LabPlan): Promise<void> {
  for (const role of NAMESPACE_ROLES) {
    const dir = `${NETNS_ETC}/${plan.ns[role]}`;
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/hosts`, hostsFile(role));
  }
}

/** A web server on the server (a page and a 4 MiB file) and on the internet (it echoes who asks). */
export async function services(plan: LabPlan, state: LabState, uplink: boolean): Promise<void> {
  const server = `${plan.files.www}/server`;
  await mkdir(server, { recursive: true });
  await writeFile(`${server}/index.html`, `xdp-lab ${plan.name}: hello from the server\n`);
  const blob = Buffer.alloc(4 << 20);
  for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(`${server}/blob`, blob);
  // On the server host whatever runs it: a container host serves with its image's busybox.
  const host = hostOf(plan, "server", state);
  await httpd(plan.ns.server, (argv) => host.exec(argv), server, "the server's web server");
  if (uplink) return;
  const internet = `${plan.files.www}/internet`;
  await mkdir(`${internet}/cgi-bin`, { recursive: true });
  await writeFile(`${internet}/index.html`, "the simulated internet\n");
  await writeFile(`${internet}/cgi-bin/ip`, '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n');
  await chmod(`${internet}/cgi-bin/ip`, 0o755);
  const net = hostOf(plan, "internet", state);
  await httpd(plan.ns.internet, (argv) => net.exec(argv), internet, "the internet's web server");
}

/**
 * busybox httpd on port 80 in both families: one per family, with bindv6only set in the namespace,
 * so the CGI sees IPv4 clients as plain dotted quads (not as ::ffff:a.b.c.d).
 */
async function httpd(ns: string, run: (argv: string[]) => Promise<ExecResult>, root: string, what: string): Promise<void> {
  await sysctl(ns, "net.ipv6.bindv6only", "1");
  for (const [addr, family] of [["0.0.0.0:80", ""], ["[::]:80", " (IPv6)"]]) {
    const r = await run([BUSYBOX, "httpd", "-p", addr!, "-h", root]);
    if (r.code !== 0) throw new Error(`Failed to start ${what}${family}: ${r.stderr.trim() || `exit ${r.code}`}${r.code === 127 ? ` (the host has no ${BUSYBOX})` : ""}`);
  }
}

/** --uplink: a veth from the lab namespace to the host, NAT'd out of IFACE by a table of the lab's own. */
export async function hostUplink(plan: LabPlan, state: LabState, iface: string): Promise<void> {
  const u = plan.uplink;
  await ip(undefined, "link", "add", u.hostVeth, "type", "veth", "peer", "name", u.labVeth, "netns", plan.ns.lab);
  await ip(undefined, "addr", "add", `${u.host}/${u.len}`, "dev", u.hostVeth);
  await ip(undefined, "link", "set", u.hostVeth, "up");
  state.hostForwardBefore = (await readFile("/proc/sys/net/ipv4/ip_forward", "utf8")).trim();
  await writeState(plan, state);
  await writeFile("/proc/sys/net/ipv4/ip_forward", "1");
  await nft(undefined, hostUplinkRuleset(plan, iface));
}
