// Link impairment on a running lab: the rate caps iperf3 on every link (the uplink's edge side
// through its IFB), netem's delay and loss show in ping, everything in the lab namespace only (the
// VM's and the hosts' qdiscs untouched), kept in the state and shown by status; reset and down
// remove it; bad values are refused. Needs root; the delay and loss tests need netem in the host's
// kernel (in CI they fail without it, elsewhere they say SKIPPED).
import { execa } from "execa";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Lab } from "../../src/lab.ts";
import { labPlan } from "../../network/plan.ts";
import { ensure } from "../../src/build/requirements.ts";
import { LAB_TOOLS } from "../../src/build/packages.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { ok, xdpLab } from "./cli.ts";
import { leftovers } from "./lab-leftovers.ts";

const t = suite("lab: link impairment");
const L = `i${process.pid}`.slice(0, 12);
const plan = labPlan(L);
let out = "";
/** The cap up --impair puts on the LAN, in kbit/s. */
const RATE = 2000;

const inNs = (ns: string, ...argv: string[]) => execa("ip", ["netns", "exec", ns, ...argv], { reject: false });

t.before(async () => {
  await ensure(LAB_TOOLS, { install: true, purpose: "the impairment tests" });
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
  await ok(["up", "--name", L, "--out", out, "--impair", `lan:rate=${RATE}`]);
  // Daemons in the lab's namespaces: down removes them with the rest.
  for (const ns of [plan.ns.server, plan.ns.internet]) assert.is((await inNs(ns, "iperf3", "-s", "-D")).exitCode, 0);
  await new Promise((r) => setTimeout(r, 300));
});

t.after(async () => {
  await xdpLab(["down", "--name", L]);
  await cleanup();
});

/** iperf3's received rate in kbit/s, from the client to ADDR (or back with -R), over TCP. */
async function iperfKbit(addr: string, reverse = false): Promise<number> {
  const r = await inNs(plan.ns.client, "iperf3", "-c", addr, "-t", "3", "-J", ...(reverse ? ["-R"] : []));
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  return (JSON.parse(r.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1000;
}

/** Ping's average round trip and how many of COUNT came back, from the client to the server. */
async function ping(count: number, interval: string): Promise<{ avg: number; received: number }> {
  const r = await inNs(plan.ns.client, "ping", "-q", "-c", String(count), "-i", interval, "-W", "1", "server");
  const received = Number(/(\d+) received/.exec(r.stdout)?.[1]);
  const avg = Number(/= [\d.]+\/([\d.]+)\//.exec(r.stdout)?.[1]);
  assert.ok(Number.isFinite(received), r.stdout + r.stderr);
  return { avg, received };
}

/** The qdisc kinds tc reports on DEV in namespace NS. */
async function kinds(ns: string, dev: string): Promise<string[]> {
  const r = await execa("tc", ["-n", ns, "-j", "qdisc", "show", "dev", dev]);
  return (JSON.parse(r.stdout) as { kind: string }[]).map((q) => q.kind);
}

/** Sets an impairment that needs netem; false (after saying SKIPPED) when this kernel has none, outside CI. */
async function withNetem(args: string[]): Promise<boolean> {
  const r = await xdpLab(["link", ...args, "--name", L]);
  if (r.exitCode !== 0 && /has no netem/.test(r.stderr) && process.env.CI !== "true") {
    console.log(`SKIPPED link ${args.join(" ")}: ${r.stderr.trim()}`);
    return false;
  }
  assert.is(r.exitCode, 0, r.stderr);
  return true;
}

t("up --impair lan:rate: iperf3 is capped at the rate both ways; status and link show report it; the VM and the hosts are untouched", async () => {
  for (const reverse of [false, true]) {
    const kbit = await iperfKbit("10.10.2.10", reverse);
    console.log(`  ${reverse ? "server -> client" : "client -> server"}: ${kbit.toFixed(0)} kbit/s with --rate ${RATE}`);
    assert.ok(kbit <= RATE * 1.1 && kbit >= RATE * 0.5, `${reverse ? "server -> client" : "client -> server"}: ${kbit.toFixed(0)} kbit/s with a ${RATE} kbit/s cap`);
  }
  const s = JSON.parse(await ok(["status", "--name", L, "--json"])) as { links: Record<string, unknown> };
  assert.equal(s.links, { lan: { rate: RATE } });
  assert.match(await ok(["status", "--name", L]), new RegExp(`links: lan rate ${RATE} kbit; wan none; uplink none`));
  const show = JSON.parse(await ok(["link", "show", "--name", L, "--json"])) as { link: string; impairment: object; qdiscs: Record<string, { kind: string }[]> }[];
  const lan = show.find((l) => l.link === "lan")!;
  assert.equal(lan.impairment, { rate: RATE });
  assert.equal(Object.fromEntries(Object.entries(lan.qdiscs).map(([d, q]) => [d, q.map((x) => x.kind)])), { "tap-lan": ["tbf"], "veth-client": ["tbf"] });
  // The hosts' ends and the VM's NICs keep their own qdiscs.
  for (const [ns, dev] of [[plan.ns.client, "eth0"], [plan.ns.server, "eth0"]] as const) assert.not.ok((await kinds(ns, dev)).some((k) => k === "tbf" || k === "netem"), `${ns} ${dev}`);
  const vm = await xdpLab(["exec", "vm", "--name", L, "--", "tc qdisc show dev lan0; tc qdisc show dev wan0"]);
  assert.is(vm.exitCode, 0, vm.stderr);
  assert.not.match(vm.stdout, /tbf|netem/);
});

t("link reset lan: the cap is gone (iperf3 far above it) and so are the qdiscs; the state forgets it", async () => {
  assert.match(await ok(["link", "reset", "lan", "--name", L]), /lan unimpaired/);
  const kbit = await iperfKbit("10.10.2.10");
  console.log(`  client -> server: ${kbit.toFixed(0)} kbit/s unimpaired`);
  assert.ok(kbit > RATE * 3, `${kbit.toFixed(0)} kbit/s after reset`);
  for (const dev of ["tap-lan", "veth-client"]) assert.not.ok((await kinds(plan.ns.lab, dev)).includes("tbf"), dev);
  const s = JSON.parse(await ok(["status", "--name", L, "--json"])) as { links: Record<string, unknown> };
  assert.equal(s.links, {});
});

t("link uplink --rate: the internet's iperf3 is capped both ways (toward the edge through the IFB); the Lab handle's reset removes it", async () => {
  await ok(["link", "uplink", "--rate", "1000", "--name", L]);
  for (const reverse of [false, true]) {
    const kbit = await iperfKbit("198.51.100.100", reverse);
    console.log(`  ${reverse ? "internet -> client" : "client -> internet"}: ${kbit.toFixed(0)} kbit/s with uplink --rate 1000`);
    assert.ok(kbit <= 1100 && kbit >= 500, `${reverse ? "internet -> client" : "client -> internet"}: ${kbit.toFixed(0)} kbit/s with a 1000 kbit/s cap`);
  }
  assert.equal(await kinds(plan.ns.lab, "ifb-uplink"), ["tbf"]);
  await new Lab(L).reset();
  assert.ok((await iperfKbit("198.51.100.100", true)) > 3000);
  const links = JSON.parse((await execa("ip", ["-n", plan.ns.lab, "-j", "link", "show"])).stdout) as { ifname: string }[];
  assert.not.ok(links.some((l) => l.ifname === "ifb-uplink"), "the IFB is left after reset");
});

t("link lan --delay 50: ping's round trip rises by about 100 ms (50 ms each way)", async () => {
  const before = await ping(10, "0.2");
  if (!(await withNetem(["lan", "--delay", "50"]))) return;
  try {
    const after = await ping(10, "0.2");
    const rise = after.avg - before.avg;
    console.log(`  RTT ${before.avg} ms -> ${after.avg} ms with --delay 50`);
    assert.ok(rise > 80 && rise < 140, `RTT rose by ${rise.toFixed(1)} ms (${before.avg} -> ${after.avg})`);
  } finally {
    await ok(["link", "reset", "--name", L]);
  }
});

t("link lan --loss 10: 1000 pings lose between 5% and 15%", async () => {
  if (!(await withNetem(["lan", "--loss", "10"]))) return;
  try {
    const r = await ping(1000, "0.01");
    const lost = 100 - r.received / 10;
    console.log(`  ${lost.toFixed(1)}% of 1000 pings lost with --loss 10`);
    assert.ok(lost >= 5 && lost <= 15, `${lost}% lost`);
  } finally {
    await ok(["link", "reset", "--name", L]);
  }
});

t("bad values are refused with the range; an unknown link is named; up --impair with a bad value creates nothing", async () => {
  for (const [args, want] of [
    [["lan", "--delay", "-1"], /--delay -1: must be from 0 to 60000 ms/],
    [["lan", "--loss", "101"], /--loss 101: must be from 0 to 100 %/],
    [["dmz", "--delay", "1"], /Unknown link "dmz"\. Fix: use one of lan, wan, uplink/],
    [["lan"], /Nothing to set on lan/],
  ] as const) {
    const r = await xdpLab(["link", ...args, "--name", L]);
    assert.is(r.exitCode, 1, args.join(" "));
    assert.match(r.stderr, want);
  }
  const B = `j${process.pid}`.slice(0, 12);
  const r = await xdpLab(["up", "--name", B, "--out", out, "--impair", "lan:loss=200"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /--impair lan:loss=200: loss=200: must be from 0 to 100 %/);
  assert.equal(await leftovers(B), []);
});

t("down removes the impaired lab whole, IFB included", async () => {
  await ok(["link", "uplink", "--rate", "1000", "--name", L]);
  await ok(["down", "--name", L]);
  assert.equal(await leftovers(L), []);
});

t.run();
