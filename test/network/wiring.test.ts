import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { vmConfig } from "../../network/guest.ts";
import { wiring } from "../../network/wiring.ts";
import { edgeRuleset, hostUplinkRuleset } from "../../network/rulesets.ts";
import { ipArgs, netnsExecArgs } from "../../src/tools/ip.ts";
import { GUEST_NICS } from "../../network/contract.ts";
import { ADDR, ADDR6, HOST_MACS, labPlan } from "../../network/plan.ts";
import { qemuArgs } from "../../network/vm/qemu.ts";

const t = suite("network/wiring");
const plan = labPlan("w");
const line = (cmds: string[][]): string[] => cmds.map((c) => c.join(" "));

t("ip runs in the lab's namespace", () => {
  assert.equal(ipArgs("ns1", "link", "show"), ["-n", "ns1", "link", "show"]);
  assert.equal(ipArgs(undefined, "link"), ["link"]);
  assert.equal(netnsExecArgs("ns1", ["nft", "-f", "-"]), ["netns", "exec", "ns1", "nft", "-f", "-"]);
});

t("client and server hang off the bridges; the client's default route is the VM", () => {
  const w = wiring(plan, false);
  const lab = line(w.lab);
  assert.ok(lab.includes(`link add veth-client type veth peer name eth0 netns ${plan.ns.client}`));
  assert.ok(lab.includes("link set veth-client master br-lan"));
  assert.ok(lab.includes("link set veth-server master br-wan"));
  assert.ok(lab.includes(`route add ${ADDR.lan.prefix} via ${ADDR.wan.vm}`));
  assert.ok(line(w.client).includes(`route add default via ${ADDR.lan.vm}`));
  assert.ok(line(w.server).includes(`route add ${ADDR.lan.prefix} via ${ADDR.wan.vm}`));
  // The internet has no route into the lab: it answers the edge's NAT address only.
  assert.not.ok(line(w.internet).some((l) => l.startsWith("route")));
});

t("every host on the VM's ports has static neighbours for every host it talks to there, and still ARP for an address a test adds", () => {
  const w = wiring(plan, false);
  for (const h of ["client", "server"] as const) assert.not.ok(line(w[h]).some((c) => c.includes("arp off")), h);
  // The server's default route is the edge: it reaches it without ARP or ND, and the edge it.
  const server = line(w.server);
  assert.ok(server.includes(`neigh replace ${ADDR.wan.edge} lladdr ${HOST_MACS.edge} dev eth0 nud permanent`));
  assert.ok(server.includes(`neigh replace ${ADDR6.wan.edge} lladdr ${HOST_MACS.edge} dev eth0 nud permanent`));
  const lab = line(w.lab);
  assert.not.ok(lab.some((c) => c.includes("arp off")));
  assert.ok(lab.includes(`neigh replace ${ADDR.wan.server} lladdr ${HOST_MACS.server} dev br-wan nud permanent`));
  assert.ok(line(w.lab6).includes(`neigh replace ${ADDR6.wan.server} lladdr ${HOST_MACS.server} dev br-wan nud permanent`));
});

t("the VM's data NICs are multi-queue taps on the bridges; the management tap is on no bridge", () => {
  const lab = line(wiring(plan, false).lab);
  assert.ok(lab.includes("tuntap add dev tap-lan mode tap multi_queue"));
  assert.ok(lab.includes("link set tap-lan master br-lan"));
  assert.ok(lab.includes("link set tap-wan master br-wan"));
  assert.not.ok(lab.some((l) => l.startsWith("link set tap-mgmt master")));
  const argv = qemuArgs(vmConfig(plan, "/o", { accel: "tcg" })).join(" ");
  for (const n of GUEST_NICS) assert.ok(argv.includes(`ifname=${n.tap}`), n.tap);
  assert.match(argv, /virtio-net-pci,netdev=lan0,mac=52:54:00:10:01:01,mq=on,vectors=10/);
  assert.match(argv, new RegExp(`-pidfile ${plan.files.pid}`));
  assert.not.match(argv, /-daemonize/, "the supervisor waits for qemu to learn how it ended");
  assert.match(argv, new RegExp(`socket,id=con0,path=${plan.files.console},server=on,wait=off,logfile=${plan.files.consoleLog}`));
});

t("with --uplink there is no simulated internet; the lab routes to the host veth", () => {
  const w = wiring(plan, true);
  assert.equal(w.internet, []);
  assert.ok(line(w.lab).includes(`route add default via ${plan.uplink.host}`));
  assert.not.ok(line(w.lab).some((l) => l.includes("uplink0 type veth")));
});

t("NAT: only LAN and WAN sources, only out of the uplink; the host table is the lab's own", () => {
  const edge = edgeRuleset(plan.links.uplink.outward, plan.links.wan.bridge!);
  assert.match(edge, /oifname "uplink0" ip saddr \{ 10\.10\.1\.0\/24, 10\.10\.2\.0\/24 \} masquerade/);
  assert.match(edge, /policy drop/);
  assert.match(edge, /iifname "br-wan" oifname "uplink0" accept/);
  const host = hostUplinkRuleset(plan, "eth9");
  assert.match(host, /^table ip xdp_lab_w \{/);
  assert.match(host, /oifname "eth9" masquerade/);
});

t.run();
