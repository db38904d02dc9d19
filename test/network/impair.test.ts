import { suite } from "uvu";
import * as assert from "uvu/assert";
import { checkImpairment, describeImpairment, ifbCommands, netemArgs, parseImpairSpec, parseValue, perDirection, qdiscCommands, tbfArgs } from "../../network/impair.ts";
import { labPlan } from "../../network/plan.ts";
import { tcArgs } from "../../network/tc.ts";
import { impairments } from "../../src/commands/up.ts";

const t = suite("network/impair");
const plan = labPlan("i");
const line = (cmds: string[][]): string[] => cmds.map((c) => c.join(" "));

t("tc runs in the lab's namespace", () => {
  assert.equal(tcArgs("ns1", "qdisc", "show"), ["-n", "ns1", "qdisc", "show"]);
  assert.equal(tcArgs(undefined, "qdisc"), ["qdisc"]);
});

t("delay and jitter apply in full each way; loss, duplicate and corrupt split so a round trip sees the value", () => {
  assert.equal(netemArgs({ delay: 50 }), ["delay", "50ms"]);
  assert.equal(netemArgs({ delay: 50, jitter: 5, reorder: 25 }), ["delay", "50ms", "5ms", "reorder", "25%"]);
  // 1 - (1 - 0.0513)^2 = 0.10: ping loses 10% over the two directions.
  assert.is(perDirection(10), 5.1317);
  assert.ok(Math.abs(1 - (1 - perDirection(10) / 100) ** 2 - 0.1) < 1e-5);
  assert.is(perDirection(100), 100);
  assert.is(perDirection(0), 0);
  assert.equal(netemArgs({ loss: 10, duplicate: 1, corrupt: 0.1 }), ["loss", "5.1317%", "duplicate", "0.5013%", "corrupt", "0.05%"]);
});

t("a link's qdiscs: netem at the root with tbf below for the rate, tbf alone for a rate alone, on both of the link's devices' egress", () => {
  assert.equal(line(qdiscCommands("tap-lan", { delay: 10, rate: 2000 })), [
    "qdisc add dev tap-lan root handle 1: netem delay 10ms",
    "qdisc add dev tap-lan parent 1:1 handle 10: tbf rate 2000kbit burst 3200 latency 100ms",
  ]);
  assert.equal(line(qdiscCommands("veth-client", { rate: 100_000 })), ["qdisc add dev veth-client root handle 1: tbf rate 100000kbit burst 125000 latency 100ms"]);
  assert.equal(qdiscCommands("x", {}), []);
  // 10 ms at the rate, never less than two full frames.
  assert.equal(tbfArgs(8), ["rate", "8kbit", "burst", "3200", "latency", "100ms"]);
  assert.equal([plan.links.lan.inward, plan.links.lan.outward], ["tap-lan", "veth-client"]);
  assert.equal([plan.links.wan.inward, plan.links.wan.outward], ["tap-wan", "veth-server"]);
});

t("the uplink's edge side is an IFB fed from its veth's ingress; the LAN and WAN need none", () => {
  const u = ifbCommands(plan.links.uplink);
  assert.equal(line(u.ip), ["link add ifb-uplink type ifb", "link set ifb-uplink up"]);
  assert.equal(line(u.tc), [
    "qdisc add dev uplink0 handle ffff: ingress",
    "filter add dev uplink0 parent ffff: protocol all u32 match u32 0 0 action mirred egress redirect dev ifb-uplink",
  ]);
  assert.equal(ifbCommands(plan.links.lan), { ip: [], tc: [] });
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

t.run();
