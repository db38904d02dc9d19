import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { checkImpairment, describeImpairment, impairFieldMessage, impairFlagMessage, ImpairmentError, linkDirections, parseImpairSpec, parseValue, perDirection, relayValues } from "../../network/impair.ts";
import { egressStealBytecode, INGRESS_STEAL_BYTECODE, pairCommands, pairSysctls, paramsText, stealCommands, stealPair } from "../../network/relay.ts";
import { labPlan } from "../../network/plan.ts";
import { tcArgs } from "../../src/tools/tc.ts";
import { impairments } from "../../src/commands/up.ts";

const t = suite("network/impair");
const plan = labPlan("i");
const line = (cmds: string[][]): string[] => cmds.map((c) => c.join(" "));

t("tc runs in the lab's namespace", () => {
  assert.equal(tcArgs("ns1", "qdisc", "show"), ["-n", "ns1", "qdisc", "show"]);
  assert.equal(tcArgs(undefined, "qdisc"), ["qdisc"]);
});

t("delay, jitter, rate and reorder apply in full each way; loss, duplicate and corrupt split so a round trip sees the value", () => {
  // 1 - (1 - 0.0513)^2 = 0.10: ping loses 10% over the two directions.
  assert.is(perDirection(10), 5.1317);
  assert.ok(Math.abs(1 - (1 - perDirection(10) / 100) ** 2 - 0.1) < 1e-5);
  assert.is(perDirection(100), 100);
  assert.is(perDirection(0), 0);
  assert.equal(relayValues({ delay: 50, jitter: 5, reorder: 25, rate: 2000 }), {
    delayUs: 50_000,
    jitterUs: 5_000,
    lossPpm: 0,
    duplicatePpm: 0,
    corruptPpm: 0,
    reorderPpm: 250_000,
    rateBps: 2_000_000,
    limit: 1000,
  });
  assert.equal(relayValues({ loss: 10, duplicate: 1, corrupt: 0.1 }), { ...relayValues({}), lossPpm: 51_317, duplicatePpm: 5_013, corruptPpm: 500 });
});

t("a link's two directions: egress of the tap toward the VM and of the veth toward the host; the uplink's edge side at its veth's ingress", () => {
  assert.equal([plan.links.lan.inward, plan.links.lan.outward], ["tap-lan", "veth-client"]);
  assert.equal([plan.links.wan.inward, plan.links.wan.outward], ["tap-wan", "veth-server"]);
  assert.equal(linkDirections(plan.links.lan, { delay: 1 }).map((d) => `${d.name} ${d.dev} ${d.hook}`), ["inward tap-lan egress", "outward veth-client egress"]);
  assert.equal(linkDirections(plan.links.uplink, { delay: 1 }).map((d) => `${d.name} ${d.dev} ${d.hook}`), ["inward uplink0 ingress", "outward uplink0 egress"]);
});

t("the relay's wiring: a steal pair per direction, the filter that feeds it, and its parameters file", () => {
  const [inward, outward] = linkDirections(plan.links.uplink, { delay: 10, loss: 10 });
  assert.equal(stealPair("uplink", "inward"), { near: "xr-uplink-inw0", far: "xr-uplink-inw1" });
  for (const name of [...Object.values(stealPair("uplink", "outward"))]) assert.ok(name.length <= 15, `${name} fits IFNAMSIZ`);
  assert.equal(line(pairCommands("uplink", inward!, "02:00:00:00:00:01")), [
    "link add xr-uplink-inw0 type veth peer name xr-uplink-inw1",
    "link set xr-uplink-inw1 arp off",
    "link set xr-uplink-inw0 address 02:00:00:00:00:01",
  ]);
  assert.equal(pairSysctls("uplink", outward!), ["net.ipv6.conf.xr-uplink-out0.disable_ipv6=1", "net.ipv6.conf.xr-uplink-out1.disable_ipv6=1"]);
  assert.ok(pairSysctls("uplink", inward!).includes("net.ipv6.conf.xr-uplink-inw0.addr_gen_mode=1"), "the re-injecting end forwards IPv6 without an address of its own");
  // One clsact on the uplink's veth for both directions: ingress toward the edge, egress toward the internet.
  assert.equal(line(stealCommands("uplink", [inward!, outward!])), [
    "qdisc add dev uplink0 clsact",
    `filter add dev uplink0 ingress prio 1 protocol all bpf bytecode ${INGRESS_STEAL_BYTECODE} action mirred egress redirect dev xr-uplink-inw0`,
    `filter add dev uplink0 egress prio 1 protocol all bpf bytecode ${egressStealBytecode()} action mirred egress redirect dev xr-uplink-out0`,
  ]);
  assert.equal(line(stealCommands("lan", linkDirections(plan.links.lan, { delay: 1 }))).filter((c) => c.startsWith("qdisc")), ["qdisc add dev tap-lan clsact", "qdisc add dev veth-client clsact"]);
  // The egress filter: ld #mark (SKF_AD_OFF + SKF_AD_MARK), pass the relay's own, steal the rest.
  assert.is(egressStealBytecode(0x584c), "4,32 0 0 4294963220,21 0 1 22604,6 0 0 0,6 0 0 4294967295");
  assert.is(INGRESS_STEAL_BYTECODE.split(",").length, 11, "a count and ten instructions");
  // Egress: sent back on the device, marked; ingress: given back through the pair.
  assert.equal(paramsText("uplink", [inward!, outward!]).trim().split("\n"), [
    "inward xr-uplink-inw1 xr-uplink-inw1 10000 0 51317 0 0 0 0 1000",
    "outward xr-uplink-out1 uplink0 10000 0 51317 0 0 0 0 1000",
  ]);
});

t("values: units accepted, bad values refused naming the flag and the range", () => {
  assert.is(parseValue("delay", "50"), 50);
  assert.is(parseValue("delay", "50ms"), 50);
  assert.is(parseValue("delay", "1s"), 1000);
  assert.is(parseValue("loss", "1%"), 1);
  assert.is(parseValue("rate", "10mbit"), 10_000);
  assert.throws(() => parseValue("delay", "-1"), /--delay -1: must be from 0 to 60000 ms\. Fix: e\.g\. --delay 50/);
  assert.throws(() => parseValue("loss", "101"), /--loss 101: must be from 0 to 100 %/);
  assert.throws(() => parseValue("rate", "4"), /--rate 4: must be from 8 to 100000000 kbit/);
  assert.throws(() => parseValue("delay", "lots"), /--delay lots: must be from 0/);
  assert.throws(() => parseValue("delay", "5kbit"), /--delay 5kbit: must be/);
  assert.throws(() => checkImpairment({ jitter: 5 }), /--jitter needs a delay to act on\. Fix: add --delay MS/);
  assert.throws(() => checkImpairment({ reorder: 5 }), /--reorder needs a delay/);
  assert.equal(checkImpairment({ delay: 5, reorder: 5 }), { delay: 5, reorder: 5 });
});

t("up --impair LINK:KEY=VALUE,...: parsed and checked; a bad link, key, value or a link twice is refused", () => {
  assert.equal(parseImpairSpec("lan:delay=10ms,loss=1%"), { link: "lan", impairment: { delay: 10, loss: 1 } });
  assert.equal(impairments(["lan:delay=10", "uplink:rate=1mbit"]), { lan: { delay: 10 }, uplink: { rate: 1000 } });
  assert.throws(() => parseImpairSpec("dmz:delay=1"), /Unknown link "dmz"\. Fix: use one of lan, wan, uplink/);
  assert.throws(() => parseImpairSpec("lan:speed=1"), /"speed=1" is not KEY=VALUE with KEY one of delay, jitter, loss, rate, duplicate, reorder, corrupt/);
  assert.throws(() => parseImpairSpec("lan:loss=200"), /--impair lan:loss=200: loss=200: must be from 0 to 100 %\. Fix: e\.g\. loss=1/);
  assert.throws(() => parseImpairSpec("lan"), /expected LINK:KEY=VALUE/);
  assert.throws(() => impairments(["lan:delay=1", "lan:loss=1"]), /lan is impaired twice/);
});

t("a link's impairment in words", () => {
  assert.is(describeImpairment(undefined), "none");
  assert.is(describeImpairment({ delay: 50, loss: 10 }), "delay 50 ms, loss 10 %");
});

t("an impairment's problem is data, the parameter it is about; the command line and a test file each word it", () => {
  const problem = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.instance(e, ImpairmentError);
      return (e as ImpairmentError).problem;
    }
    throw new Error("no error");
  };
  const range = problem(() => parseValue("delay", "70s"));
  assert.equal(range, { kind: "range", param: "delay", value: "70s" });
  assert.is(impairFlagMessage(range), "--delay 70s: must be from 0 to 60000 ms. Fix: e.g. --delay 50");
  assert.is(impairFieldMessage(range), '"70s": must be from 0 to 60000 ms (a number, or a string with a unit such as "50ms", "10mbit", "1%")');
  const needs = problem(() => checkImpairment({ reorder: 25 }));
  assert.equal(needs, { kind: "needs-delay", param: "reorder" });
  assert.is(impairFlagMessage(needs), "--reorder needs a delay to act on. Fix: add --delay MS (e.g. --delay 50 --reorder 25)");
  assert.is(impairFieldMessage(needs), "reorder needs a delay to act on. Fix: add delay: MS (e.g. delay: 50, reorder: 25)");
});

t.run();
