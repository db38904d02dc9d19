import { readFileSync } from "node:fs";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { GUEST_NICS } from "../../network/contract.ts";
import { ADDR, HOSTS, LINKS, NAMESPACE_ROLES, guestEnv, hostsFile, labPlan, validateName } from "../../network/plan.ts";
import { REPO } from "../../src/paths.ts";

const plan = suite("network/plan");

plan("lab names: short, lower-case, starting with a letter; a bad one names the rule", () => {
  for (const ok of ["lab", "a", "lab-2", "abcdefghijkl"]) assert.is(validateName(ok), ok);
  for (const bad of ["", "Lab", "2lab", "a_b", "abcdefghijklm", "../x"]) {
    assert.throws(() => validateName(bad), (e: Error) => e.message.includes(`"${bad}"`) && e.message.includes("Fix:"));
  }
});

plan("two labs share no namespace, directory, tmux session or uplink name", () => {
  const a = labPlan("one");
  const b = labPlan("two");
  const names = (p: ReturnType<typeof labPlan>): string[] => [...Object.values(p.ns), p.dir, p.tmux, p.uplink.table, p.uplink.hostVeth];
  for (const n of names(a)) assert.not.ok(names(b).includes(n), n);
  assert.is(new Set(Object.values(a.ns)).size, 4);
  // Host-side link names must fit IFNAMSIZ (15 characters) for the longest lab name.
  assert.ok(labPlan("abcdefghijkl").uplink.hostVeth.length <= 15);
});

plan("the model: every host has a kind and a namespace; every link's devices are the lab namespace's own and fit IFNAMSIZ", () => {
  const p = labPlan("abcdefghijkl");
  assert.equal(Object.keys(p.hosts), [...HOSTS]);
  assert.equal(NAMESPACE_ROLES, ["lab", "client", "server", "internet"]);
  assert.is(p.hosts.vm.kind, "vm");
  for (const h of ["client", "server", "internet"] as const) {
    assert.is(p.hosts[h].kind, "netns");
    assert.is(p.hosts[h].ns, p.ns[h]);
  }
  // The VM's qemu and its management link live in the lab namespace.
  assert.is(p.hosts.vm.ns, p.ns.lab);
  assert.equal(Object.keys(p.links), [...LINKS]);
  // Each direction has a device of its own, but the uplink's: one veth, its ingress one way and its egress the other.
  const devices = Object.values(p.links).flatMap((l) => (l.inwardAtIngress ? [l.outward] : [l.inward, l.outward]));
  assert.is(new Set(devices).size, devices.length);
  for (const d of devices) assert.ok(d.length <= 15, d);
  // The LAN's and WAN's inward ports are the VM's taps, on the bridges the guest's NICs are on.
  for (const [link, nic] of [["lan", "lan0"], ["wan", "wan0"]] as const) {
    const n = GUEST_NICS.find((x) => x.name === nic)!;
    assert.is(p.links[link].inward, n.tap);
    assert.is(p.links[link].bridge, n.bridge);
  }
  assert.ok(p.links.uplink.inwardAtIngress, "the uplink's inward traffic is taken where it arrives");
  assert.is(p.links.uplink.inward, p.links.uplink.outward);
  assert.is(p.links.uplink.outward, p.uplink.labVeth);
});

plan("every host resolves every other by name", () => {
  const hosts = hostsFile("client");
  for (const [name, addr] of [["server", ADDR.wan.server], ["client", ADDR.lan.client], ["internet", ADDR.internet.host], ["xdp", ADDR.lan.vm]] as const) {
    assert.match(hosts, new RegExp(`^${addr.replace(/\./g, "\\.")}\\t.*\\b${name}\\b`, "m"));
  }
  assert.match(hostsFile("vm"), /^127\.0\.0\.1\tlocalhost xdp$/m);
});

plan("the guest's lab script reads exactly the variables the runner writes", () => {
  const script = readFileSync(`${REPO}/rootfs/etc/xdp-lab/rc.d/50-lab`, "utf8");
  const used = new Set([...script.matchAll(/\$\{?(LAB_[A-Z_]+)/g)].map((m) => m[1]));
  const written = new Set([...guestEnv().matchAll(/^(LAB_[A-Z_]+)=/gm)].map((m) => m[1]));
  assert.equal([...used].sort(), [...written].sort());
  for (const nic of GUEST_NICS) assert.match(guestEnv(), new RegExp(nic.mac));
});

plan.run();
