// Debian's prebuilt cloud kernels in the lab (--kernel debian-6.1, debian-6.12): boot prints their
// release, a lab comes up on each with its NICs named by MAC, and what holds on it is checked with
// the standard tools (native XDP on virtio-net, tc on clsact, the drop program, xdp-filter, the echo
// module built against Debian's headers); --share is refused, as 9p is not in Debian's cloud kernel.
// Needs root, and the archive once per machine (the kernels are then in the build cache).
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { RunResult } from "../../src/testing/report.ts";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { leftovers } from "./lab-leftovers.ts";
import { ok, xdpLab } from "./cli.ts";

const t = suite("stock Debian kernels");
/** One lab per stock kernel, each taken down after its tests. */
const LABS = { "debian-6.12": `s${process.pid}`.slice(0, 12), "debian-6.1": `r${process.pid}`.slice(0, 12) } as const;
let out = "";
let LAB = "";

const vm = (script: string) => xdpLab(["exec", "vm", "--name", LAB, "--", script]);
const on = (host: string, ...cmd: string[]) => xdpLab(["exec", host, "--name", LAB, "--", ...cmd]);

/** The packets counted in a percpu stats map (bpftool -j map dump: with BTF the values are under "formatted"), summed over CPUs. */
function packets(dump: string, field = "packets"): number {
  type Entry = { values: { value: Record<string, number> }[] };
  const entries = JSON.parse(dump) as (Entry & { formatted?: Entry })[];
  return entries.flatMap((e) => (e.formatted ?? e).values).reduce((n, v) => n + (v.value[field] ?? 0), 0);
}

/** The checkout's tracked stock record as the run found it: no run writes into the checkout. */
let trackedRecord = "";

t.before(async () => {
  trackedRecord = await readFile(join(REPO, "src/build/stock-kernels.lock"), "utf8");
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
});

t.after(async () => {
  for (const lab of Object.values(LABS)) await xdpLab(["down", "--name", lab]);
  await cleanup();
});

for (const [kernel, release] of [
  ["debian-6.12", /^6\.12\.\d+\+deb12-cloud-amd64$/],
  ["debian-6.1", /^6\.1\.0-\d+-cloud-amd64$/],
] as const) {
  t(`boot --kernel ${kernel} -- uname -r prints Debian's ${kernel.slice(7)} release, with the lab's modules loaded`, async () => {
    const r = await xdpLab(["boot", "--out", out, "--kernel", kernel, "--accel", "tcg", "--", "uname -r; cut -d' ' -f1 /proc/modules | sort | tr '\\n' ' '; echo"]);
    assert.is(r.exitCode, 0, r.stderr + r.stdout);
    const [got, modules] = r.stdout.trim().split("\n");
    assert.match(got!, release);
    for (const m of ["virtio_net", "nf_tables", "sch_ingress", "cls_bpf", ...(kernel === "debian-6.1" ? ["virtio_pci"] : [])]) assert.ok(modules!.split(" ").includes(m), `${m} not loaded: ${modules}`);
    // The kernel's features are said before it boots, 9p's absence among them.
    assert.match(r.stderr, /9p shares \(--share\): no \(CONFIG_NET_9P/);
  });
}

for (const [kernel, release, version] of [
  ["debian-6.12", /^6\.12\.\d+\+deb12-cloud-amd64$/, /~bpo12\+/],
  ["debian-6.1", /^6\.1\.0-\d+-cloud-amd64$/, /^6\.1\./],
] as const) {
  t(`up --kernel ${kernel}: the lab runs on it, names its NICs by MAC and status --json says which kernel`, async () => {
    LAB = LABS[kernel];
    await ok(["up", "--name", LAB, "--out", out, "--kernel", kernel, "--accel", "tcg"]);
    const s = JSON.parse(await ok(["status", "--name", LAB, "--json"]));
    assert.is(s.vm.kernel.name, kernel);
    assert.match(s.vm.kernel.release, release);
    assert.match(s.vm.kernel.version, version);
    const links = await vm("uname -r; ip -br link show lan0; ip -br link show wan0; ip -br link show mgmt0");
    assert.is(links.exitCode, 0, links.stderr);
    assert.match(links.stdout.split("\n")[0]!, release);
    assert.match(links.stdout, /^[^\n]*\nlan0\s+UP\s+52:54:00:10:01:01[^\n]*\nwan0\s+UP\s+52:54:00:10:02:02[^\n]*\nmgmt0\s+UP\s+52:54:00:10:ff:02/);
    const ping = await on("client", "busybox", "ping", "-4", "-c", "3", "-W", "2", "server");
    assert.is(ping.exitCode, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, /ttl=63/);
  });

  t(`${kernel}: native XDP on virtio-net: pass.bpf.o attached natively counts exactly the pings sent`, async () => {
    const load = await ok(["load", `${out}/pass.bpf.o`, "--name", LAB, "--iface", "lan", "--mode", "native"]);
    assert.match(load, /attached to lan0 in native mode/);
    const attached = await vm("ip -d link show lan0");
    assert.match(attached.stdout, /prog\/xdp id \d+/);
    const ping = await on("client", "busybox", "ping", "-4", "-c", "5", "-W", "2", "server");
    assert.is(ping.exitCode, 0, ping.stdout);
    const s = JSON.parse(await ok(["status", "--name", LAB, "--json"]));
    const lan = s.programs.programs.find((p: { iface: string }) => p.iface === "lan0");
    assert.is(lan.mode, "native");
    // 5 echo requests in on lan0; the static neighbours mean no ARP.
    assert.is(lan.verdicts.pass.packets, 5);
  });

  t(`${kernel}: the drop test by hand: drop.bpf.o on lan stops the client's pings and counts them`, async () => {
    await ok(["load", `${out}/drop.bpf.o`, "--name", LAB, "--iface", "lan"]);
    const ping = await on("client", "busybox", "ping", "-4", "-c", "3", "-W", "1", "server");
    assert.is.not(ping.exitCode, 0);
    const s = JSON.parse(await ok(["status", "--name", LAB, "--json"]));
    const lan = s.programs.programs.find((p: { iface: string }) => p.iface === "lan0");
    assert.is(lan.verdicts.drop.packets, 3);
    // The server's side still passes: only lan0 drops.
    const back = await on("server", "busybox", "ping", "-4", "-c", "1", "-W", "2", "10.10.2.2");
    assert.is(back.exitCode, 0, back.stdout);
    await ok(["exec", "vm", "--name", LAB, "--", "xdp-loader unload lan0 --all || ip link set dev lan0 xdp off"]);
  });

  t(`${kernel}: tc: tc_count.bpf.o on wan0's clsact ingress counts the server's pings (tc and bpftool in the guest)`, async () => {
    const add = await vm("tc qdisc add dev wan0 clsact && tc filter add dev wan0 ingress bpf direct-action obj /usr/lib/xdp-lab/bpf/tc_count.bpf.o sec tc");
    assert.is(add.exitCode, 0, add.stderr + add.stdout);
    const ping = await on("server", "busybox", "ping", "-4", "-c", "4", "-W", "2", "10.10.2.2");
    assert.is(ping.exitCode, 0, ping.stdout);
    const dump = await vm("bpftool -j map dump name tc_stats");
    assert.is(dump.exitCode, 0, dump.stderr);
    assert.is(packets(dump.stdout), 4);
    await vm("tc qdisc del dev wan0 clsact");
  });

  t(`${kernel}: xdp-filter (xdp-tools) drops the client's pings to one address on the stock kernel`, async () => {
    const load = await vm("xdp-filter load lan0 --mode skb && xdp-filter ip 10.10.2.10 --mode dst");
    assert.is(load.exitCode, 0, load.stderr + load.stdout);
    const ping = await on("client", "busybox", "ping", "-4", "-c", "2", "-W", "1", "server");
    assert.is.not(ping.exitCode, 0);
    const stats = await vm("xdp-filter status");
    assert.match(stats.stdout, /10\.10\.2\.10/);
    await vm("xdp-filter unload lan0");
    const again = await on("client", "busybox", "ping", "-4", "-c", "1", "-W", "2", "server");
    assert.is(again.exitCode, 0, again.stdout);
  });

  t(`${kernel}: the echo module, built against Debian's headers, is loaded and answers through the app`, async () => {
    const r = await vm("grep -q '^xdp_lab_echo ' /proc/modules && xdp-lab-app ctl --control /run/xdp-lab-app.sock echo stock-kernel");
    assert.is(r.exitCode, 0, r.stderr + r.stdout);
    const answer = JSON.parse(r.stdout.trim().split("\n").pop()!);
    assert.is(answer.ok, true, r.stdout);
    assert.is(answer.result.text, "stock-kernel");
  });

  t(`${kernel}: down removes the lab`, async () => {
    await ok(["down", "--name", LAB]);
  });
}

t("xdp-lab test --kernel built,debian-6.12: every test on each kernel, reported as separate cases, the same counts on both, no lab left", async () => {
  // tests/ names the objects in the repository's out/.
  await ok(["build", "--quiet"]);
  const dir = await tempDir();
  const r = await xdpLab(["test", "tests/drop.yaml", "--kernel", "built,debian-6.12", "--json", join(dir, "r.json"), "--junit", join(dir, "j.xml")]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /passed, 0 failed \(.*, kernels built, debian-6\.12\)$/m);
  const json = JSON.parse(await readFile(join(dir, "r.json"), "utf8")) as RunResult;
  assert.equal(json.kernels, ["built", "debian-6.12"]);
  const names = (parseYaml(await readFile(join(REPO, "tests", "drop.yaml"), "utf8")) as { tests: { name: string }[] }).tests.map((x) => x.name);
  assert.equal(json.tests.map((x) => x.name), [...names.map((n) => `${n} [built]`), ...names.map((n) => `${n} [debian-6.12]`)]);
  assert.equal(json.tests.map((x) => x.kernel), [...names.map(() => "built"), ...names.map(() => "debian-6.12")]);
  // The same traffic gives the same counts on either kernel.
  const deltas = (k: string) => json.tests.filter((x) => x.kernel === k).map((x) => x.maps.map((m) => m.delta));
  assert.equal(deltas("debian-6.12"), deltas("built"));
  assert.ok(deltas("built").flat().some((d) => Number(d) > 0), "the tests counted something");
  assert.match(await readFile(join(dir, "j.xml"), "utf8"), /testcase name="[^"]+ \[debian-6\.12\]"/);
  assert.equal(await leftovers(json.lab), []);
});

t("xdp-lab test --kernel refuses an unknown kernel before any lab (exit 2)", async () => {
  const r = await xdpLab(["test", "tests/drop.yaml", "--kernel", "built,debian-5.10"]);
  assert.is(r.exitCode, 2);
  assert.match(r.stderr, /--kernel built,debian-5\.10: unknown kernel "debian-5\.10"\. Fix: give built, 6\.1, 6\.12, debian-6\.1, debian-6\.12/);
});

t("build --kernel debian-6.12: the other stages built against Debian's kernel, none compiled; its lab passes the drop test; out/ holds no bzImage to mix with", async () => {
  const dir = await tempDir();
  const r = await xdpLab(["build", "--kernel", "debian-6.12", "--out", dir, "--json"]);
  assert.is(r.exitCode, 0, r.stderr);
  type Line = { event: string; stages?: { stage: string; cached: boolean }[]; stage?: string; status?: string };
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as Line);
  // No kernel stage ran: the stock kernel's entry stands for the kernel and the module.
  assert.not.ok(lines.some((l) => l.event === "stage" && (l.stage === "kernel" || l.stage === "kmod") && l.status === "running"), r.stdout);
  const stages = Object.fromEntries(lines.find((l) => l.event === "result")!.stages!.map((x) => [x.stage, x.cached]));
  assert.equal(Object.keys(stages).sort(), ["app", "bpf", "kernel", "kmod", "rootfs"]);
  for (const f of ["vmlinux.h", "kernel.config", "xdp_lab_echo.ko", "drop.bpf.o", "proto_count.bpf.o", "initramfs.img", "manifest.json"]) assert.ok(existsSync(join(dir, f)), f);
  for (const f of ["bzImage", "kernel-config.report"]) assert.not.ok(existsSync(join(dir, f)), `${f} is the lab's kernel's, not Debian's`);
  // vmlinux.h is the stock kernel's BTF: 6.12's types (tcx's, 6.6 and later, which 6.1 has none of).
  assert.match(await readFile(join(dir, "vmlinux.h"), "utf8"), /^struct tcx_entry \{$/m);
  assert.match(await readFile(join(dir, "kernel.config"), "utf8"), /^CONFIG_DEBUG_INFO_BTF=y$/m);
  const built = await xdpLab(["up", "--name", "x", "--out", dir]);
  assert.is.not(built.exitCode, 0);
  assert.match(built.stderr, /No build to boot: .*bzImage missing/);
  const t612 = await xdpLab(["test", join(REPO, "tests", "drop.yaml"), "--kernel", "debian-6.12", "--out", dir, "--json", join(dir, "r.json")]);
  assert.is(t612.exitCode, 0, t612.stdout + t612.stderr);
  const json = JSON.parse(await readFile(join(dir, "r.json"), "utf8")) as RunResult;
  assert.ok(json.tests.length > 0 && json.tests.every((x) => x.verdict === "pass"));
});

t("demo --kernel debian-6.12: no kernel compiled, the story's every act passes on Debian's kernel; ./xdp-lab build then brings the lab's kernel back from the cache", async () => {
  const name = `sd${process.pid}`.slice(0, 12);
  try {
    const r = await xdpLab(["demo", "--name", name, "--kernel", "debian-6.12"]);
    assert.is(r.exitCode, 0, r.stderr);
    assert.not.match(r.stdout + r.stderr, /kernel +building/);
    assert.ok(/lab \S+ up in \d+\.\d s under \w+ \([^\n]*\), kernel debian-6\.12 6\.12\.\d+\+deb12-cloud-amd64/.test(r.stdout), r.stdout);
    assert.is(r.stdout.match(/^ {2}PASS \(\d+\.\d s\)$/gm)?.length, 4, `every act passed:\n${r.stdout}`);
    assert.not.ok(existsSync(join(REPO, "out", "bzImage")));
  } finally {
    await xdpLab(["down", "--name", name]);
    const back = await xdpLab(["build", "--json"]);
    assert.is(back.exitCode, 0, back.stderr);
    assert.ok(existsSync(join(REPO, "out", "bzImage")), "the lab's kernel is back in out/");
    assert.match(back.stdout, /"stage":"kernel","status":"cached"/);
  }
});

t("--share with a stock kernel is refused: Debian's cloud kernel has no 9p, and the error says what to do", async () => {
  const r = await xdpLab(["boot", "--out", out, "--kernel", "debian-6.12", "--share", out, "--", "true"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /--share with --kernel debian-6\.12: .* built without 9p \(CONFIG_NET_9P.*Fix: .*xdp-lab cp/);
});

t("--kernel with an unknown name is refused, naming the choices", async () => {
  const r = await xdpLab(["boot", "--out", out, "--kernel", "debian-5.10", "--", "true"]);
  assert.is.not(r.exitCode, 0);
  assert.match(r.stderr, /kernel/);
  assert.match(r.stderr, /debian-6\.12/);
});

t("the stock kernels' runs left the checkout's src/build/stock-kernels.lock as it was (a moved archive is this machine's stand-in, in the build cache)", async () => {
  assert.is(await readFile(join(REPO, "src/build/stock-kernels.lock"), "utf8"), trackedRecord);
});

t.run();
