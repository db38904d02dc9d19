// Every test starts clean and the lab stays silent: a map libbpf pins by name starts from zero in the
// next test of a file and the reset leaves bpffs empty (xdp-lab test, a program of the tests' own);
// no lab host sends a frame nobody asked for around an attach, a detach, a reset or a link
// impairment (tcpdump on every port of the VM's two bridges), and IPv6 still answers. Needs root and
// qemu; in CI (CI=true) nothing is skipped.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { Lab } from "../../src/lab.ts";
import { labPlan } from "../../network/plan.ts";
import { netnsExecArgs } from "../../src/tools/ip.ts";
import type { RunResult } from "../../src/testing/report.ts";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { ok, xdpLab } from "./cli.ts";
import { leftovers } from "./lab-leftovers.ts";

const t = suite("lab: every test starts clean, and the lab stays silent");
// A system test never skips silently: off root it fails, saying why (at load: uvu 0.5 hides a hook's error).
if (process.getuid?.() !== 0) throw new Error("the clean-and-silent system test needs root: run it as root, as CI does");
const L = `q${process.pid}`.slice(0, 12);
const plan = labPlan(L);
let out = "";

t.before(async () => {
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
  await ok(["up", "--name", L, "--out", out]);
});

t.after(async () => {
  await xdpLab(["down", "--name", L]);
  await cleanup();
});

/** tcpdump on DEV in the lab namespace, every frame to FILE; resolves once it listens (wrapped: the process is a thenable). */
async function capture(dev: string, file: string): Promise<{ p: ResultPromise }> {
  const [cmd, ...args] = ["ip", ...netnsExecArgs(plan.ns.lab, ["tcpdump", "-i", dev, "-n", "-U", "-w", file])];
  const p = execa(cmd!, args, { reject: false, buffer: false, stdout: "ignore", stderr: "pipe" });
  await new Promise<void>((resolve, reject) => {
    let said = "";
    const timer = setTimeout(() => reject(new Error(`tcpdump on ${dev} did not start in 10 s: ${said}`)), 10_000);
    p.stderr!.on("data", (d: Buffer) => {
      said += d.toString();
      if (/listening on/.test(said)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { p };
}

const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

t("silent: not one frame on any port of the VM's bridges around two attaches, a reset that detaches, a link change in the VM, two impairments and the reset that lifts them", async () => {
  const dir = await tempDir();
  // Both sides of each bridge: the VM's taps and the client's, the server's (and the edge's) veths.
  const ports = [plan.links.lan.inward, plan.links.lan.outward, plan.links.wan.inward, plan.links.wan.outward];
  const caps = await Promise.all(ports.map((d) => capture(d, join(dir, `${d}.pcap`))));
  const lab = new Lab(L);
  // After each step, longer than MLD's unsolicited reports take (two within 1 s) to go out.
  const steps: [string, () => Promise<unknown>][] = [
    ["attach on lan0", () => ok(["load", join(out, "pass.bpf.o"), "--name", L])],
    ["attach on wan0", () => ok(["load", join(out, "pass.bpf.o"), "--name", L, "--iface", "wan"])],
    ["the reset that detaches both", () => lab.reset()],
    ["lan0's MTU changed and put back in the VM", () => ok(["exec", "vm", "--name", L, "--", "sh", "-c", "ip link set dev lan0 mtu 1400 && ip link set dev lan0 mtu 1500"])],
    ["lan delayed", () => ok(["link", "lan", "--name", L, "--delay", "5"])],
    ["wan lossy", () => ok(["link", "wan", "--name", L, "--loss", "1"])],
    ["the reset that lifts both", () => lab.reset()],
  ];
  try {
    for (const [, step] of steps) {
      await step();
      await sleep(2.5);
    }
  } finally {
    lab.close();
    for (const c of caps) c.p.kill("SIGINT");
    await Promise.all(caps.map((c) => c.p));
  }
  for (const d of ports) {
    const r = await execa("tcpdump", ["-n", "-e", "-r", join(dir, `${d}.pcap`)], { reject: false });
    const frames = r.stdout.split("\n").filter((l) => l.trim() !== "");
    assert.equal(frames, [], `frames on ${d} during: ${steps.map(([s]) => s).join(", ")}:\n${frames.join("\n")}`);
  }
  // Quiet is not off: both families still answer, across the VM and beside it, by static neighbours.
  for (const [from, family, to] of [["client", "6", "server"], ["client", "4", "server"], ["server", "6", "edge"], ["server", "4", "edge"], ["client", "6", "internet"]] as const) {
    const r = await xdpLab(["exec", from, "--name", L, "--", "ping", `-${family}`, "-c", "1", "-W", "5", to]);
    assert.is(r.exitCode, 0, `ping -${family} ${from} -> ${to}: ${r.stdout}${r.stderr}`);
  }
});

t("a map libbpf pins by name starts from zero in the next test of the file, and the reset leaves bpffs empty", async () => {
  const dir = await tempDir();
  const obj = join(dir, "pinned_count.bpf.o");
  await execa("clang", ["-g", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(REPO, "test/fixtures/pinned_count.bpf.c"), "-o", obj]);
  const file = join(dir, "pinned.yaml");
  const test = (name: string, n: number): string[] => [
    `  - name: ${name}`,
    `    setup: { programs: [ { object: ${obj}, port: lan } ] }`,
    `    traffic: [ { ping: { from: client, to: server, family: 4, count: ${n} }, expect: reachable } ]`,
    `    expect: { maps: [ { map: pinned_frames, key: 0, delta: { exactly: ${n} } } ] }`,
  ];
  await writeFile(
    file,
    [
      "tests:",
      ...test("the first load pins the map and counts 3 pings", 3),
      ...test("the second load starts from zero and counts 2", 2),
      "  - name: the reset left bpffs empty",
      "    traffic: [ { command: { host: vm, run: 'ls -A /sys/fs/bpf | wc -l', output: '^0$' } } ]",
    ].join("\n") + "\n",
  );
  const r = await xdpLab(["test", file, "--json", join(dir, "r.json")]);
  const json = JSON.parse(await readFile(join(dir, "r.json"), "utf8")) as RunResult;
  const maps = json.tests.slice(0, 2).map((x) => x.maps[0]!);
  // Each load made a map of its own, and each started from zero.
  assert.equal(
    maps.map((m) => [m.before, m.after]),
    [
      ["0", "3"],
      ["0", "2"],
    ],
    JSON.stringify(maps),
  );
  assert.is.not(maps[0]!.id, maps[1]!.id);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.equal(await leftovers(json.lab), []);
});

t.run();
