// Kernels side by side from Debian's sources: build --kernel 6.12 builds Linux 6.12 with the lab's
// options (lab.config and kernel/versions/6.12.config) into OUT/kernels/6.12/, beside the default
// 6.1 build in OUT; each kernel's cache entries stay (neither build evicts or replaces the other's);
// boot, up and test --kernel 6.12 run on it, and the same tests give the same counts on 6.1 and 6.12.
// Needs root; in CI nothing is skipped. A cold 6.12 build takes about 10 minutes on 2 cores.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { RunResult } from "../../src/testing/report.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { leftovers } from "./lab-leftovers.ts";
import { ok, xdpLab } from "./cli.ts";

const t = suite("kernel versions: 6.1 and 6.12 from Debian's sources");
const LAB = `k${process.pid}`.slice(0, 12);
let out = "";

type Built = { event: string; stages: { stage: string; key: string; cached: boolean }[] };
const result = (stdout: string): Built => stdout.trim().split("\n").map((l) => JSON.parse(l) as Built).find((e) => e.event === "result")!;

t.before(async () => {
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
});

t.after(async () => {
  await xdpLab(["down", "--name", LAB]);
  await cleanup();
});

let keys612: Record<string, string> = {};

t("build --kernel 6.12: Linux 6.12 with the lab's options into OUT/kernels/6.12/, its own module, BPF objects and initramfs; OUT keeps 6.1", async () => {
  const r = await xdpLab(["build", "--kernel", "6.12", "--out", out, "--json"]);
  assert.is(r.exitCode, 0, r.stderr.slice(-3000));
  keys612 = Object.fromEntries(result(r.stdout).stages.map((s) => [s.stage, s.key]));
  const dir = join(out, "kernels", "6.12");
  for (const f of ["bzImage", "kernel.config", "kernel-config.report", "vmlinux.h", "xdp_lab_echo.ko", "initramfs.img", "drop.bpf.o", "manifest.json"]) assert.ok(existsSync(join(dir, f)), f);
  const config = await readFile(join(dir, "kernel.config"), "utf8");
  assert.match(config, /^# Linux\/x86_64? 6\.12\.\d+ Kernel Configuration$/m);
  // The version's own fragment is merged and checked: netkit exists from 6.7 on.
  const report = await readFile(join(dir, "kernel-config.report"), "utf8");
  assert.match(report, /^# requested vs effective kernel config: lab\.config 6\.12\.config $/m);
  assert.match(report, /^ok {7}CONFIG_NETKIT=y$/m);
  assert.not.match(report, /^(DROPPED|UNKNOWN)/m);
  assert.match(await readFile(join(out, "kernel.config"), "utf8"), /^# Linux\/x86_64? 6\.1\.\d+ Kernel Configuration$/m);
  assert.not.match(await readFile(join(out, "kernel-config.report"), "utf8"), /NETKIT|6\.12\.config/);
  const manifest = JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as { stages: Record<string, { key: string }> };
  assert.is(manifest.stages.kernel!.key, keys612.kernel);
});

t("the two kernels' cache entries stay side by side: building either again is all cached, and cache ls names each entry's kernel", async () => {
  const again61 = result(await ok(["build", "--out", out, "--json"]));
  assert.ok(again61.stages.every((s) => s.cached), JSON.stringify(again61.stages));
  const again612 = result(await ok(["build", "--kernel", "6.12", "--out", out, "--json"]));
  assert.ok(again612.stages.every((s) => s.cached), JSON.stringify(again612.stages));
  assert.equal(Object.fromEntries(again612.stages.map((s) => [s.stage, s.key])), keys612);
  const k61 = again61.stages.find((s) => s.stage === "kernel")!.key;
  assert.is.not(k61, keys612.kernel);
  // The app builds on no kernel: one entry serves both.
  assert.is(again61.stages.find((s) => s.stage === "app")!.key, keys612.app);
  const ls = JSON.parse(await ok(["cache", "ls", "--json"])) as { stage: string; key: string; kernel?: string }[];
  assert.is(ls.find((e) => e.key === k61)!.kernel, "6.1");
  for (const stage of ["kernel", "kmod", "bpf", "rootfs"]) assert.is(ls.find((e) => e.key === keys612[stage])!.kernel, "6.12", stage);
});

t("boot --kernel 6.12 -- uname -r prints 6.12; the echo module built against it loads", async () => {
  const r = await xdpLab(["boot", "--out", out, "--kernel", "6.12", "--", "uname -r; insmod /usr/lib/xdp-lab/kmod/xdp_lab_echo.ko && grep -c '^xdp_lab_echo ' /proc/modules"]);
  assert.is(r.exitCode, 0, r.stderr + r.stdout);
  const [release, loaded] = r.stdout.trim().split("\n");
  assert.match(release!, /^6\.12\.\d+/);
  assert.is(loaded, "1", r.stdout);
  assert.match(r.stderr + r.stdout, /the lab's kernel 6\.12 \(6\.12\.\d+/);
});

t("up --kernel 6.12: status names the kernel; the guest runs it, and the app's echo goes through the module built against it", async () => {
  await ok(["up", "--name", LAB, "--out", out, "--kernel", "6.12"]);
  const s = JSON.parse(await ok(["status", "--name", LAB, "--json"]));
  assert.is(s.vm.kernel.name, "6.12");
  assert.match(s.vm.kernel.release, /^6\.12\.\d+/);
  assert.match(await ok(["status", "--name", LAB]), /kernel: 6\.12 \(6\.12\.\d+/);
  const r = await xdpLab(["exec", "vm", "--name", LAB, "--", "uname -r; xdp-lab-app ctl --control /run/xdp-lab-app.sock echo on-6.12"]);
  assert.is(r.exitCode, 0, r.stderr + r.stdout);
  assert.match(r.stdout.split("\n")[0]!, /^6\.12\.\d+/);
  const answer = JSON.parse(r.stdout.trim().split("\n").pop()!) as { ok: boolean; result: { text: string } };
  assert.is(answer.result.text, "on-6.12", r.stdout);
  await ok(["down", "--name", LAB]);
  assert.equal(await leftovers(LAB), []);
});

t("xdp-lab test --kernel 6.1,6.12: the pass/drop, xdp-filter and firewall tests pass on both with the same counts", async () => {
  // tests/ names the objects in the repository's out/; the kernels boot from OUT's builds.
  await ok(["build", "--quiet"]);
  const dir = await tempDir();
  const files = ["tests/pass.yaml", "tests/drop.yaml", "tests/xdp-filter.yaml", "tests/firewall.yaml"];
  const r = await xdpLab(["test", ...files, "--kernel", "6.1,6.12", "--out", out, "--json", join(dir, "r.json")]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  const json = JSON.parse(await readFile(join(dir, "r.json"), "utf8")) as RunResult;
  assert.equal(json.kernels, ["6.1", "6.12"]);
  const on = (k: string) => json.tests.filter((x) => x.kernel === k);
  assert.ok(on("6.1").length > 0 && on("6.1").length === on("6.12").length);
  assert.ok(json.tests.every((x) => x.verdict === "pass"), JSON.stringify(json.tests.map((x) => [x.name, x.verdict])));
  const deltas = (k: string) => on(k).map((x) => x.maps.map((m) => m.delta));
  assert.equal(deltas("6.12"), deltas("6.1"));
  assert.ok(deltas("6.1").flat().some((d) => Number(d) > 0), "the tests counted something");
  assert.equal(await leftovers(json.lab), []);
});

t("demo --kernel 6.12: the demo's story on 6.12, every act passing; the plain demo then replaces that lab, saying so", async () => {
  const name = `kd${process.pid}`.slice(0, 12);
  try {
    const r = await xdpLab(["demo", "--name", name, "--kernel", "6.12"]);
    assert.is(r.exitCode, 0, r.stderr);
    assert.ok(/lab \S+ up in \d+\.\d s under \w+ \([^\n]*\), kernel 6\.12 6\.12\.\d+/.test(r.stdout), r.stdout);
    assert.is(r.stdout.match(/^ {2}PASS \(\d+\.\d s\)$/gm)?.length, 4, `every act passed:\n${r.stdout}`);
    // The demo owns its lab: one up on another kernel is replaced, and it says so.
    const again = await xdpLab(["demo", "--name", name]);
    assert.is(again.exitCode, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`lab ${name} is up on kernel 6\\.12, and this demo runs on built: taking it down and bringing it up again on built`));
    assert.is(again.stdout.match(/^ {2}PASS \(\d+\.\d s\)$/gm)?.length, 4, `every act passed:\n${again.stdout}`);
  } finally {
    await xdpLab(["down", "--name", name]);
  }
});

t("--kernel 6.12 with no 6.12 build says how to make one; build --kernel refuses what it cannot build", async () => {
  const empty = await tempDir();
  await ok(["build", "--quiet", "--out", empty]);
  let r = await xdpLab(["boot", "--out", empty, "--kernel", "6.12", "--", "true"]);
  assert.is.not(r.exitCode, 0);
  assert.match(r.stderr, /No build of kernel 6\.12 to boot: .*kernels\/6\.12\/bzImage.* missing\. Fix: run \.\/xdp-lab build --kernel 6\.12 --out /);
  r = await xdpLab(["build", "--kernel", "6.6", "--out", empty]);
  assert.is.not(r.exitCode, 0);
  assert.match(r.stderr, /--kernel 6\.6: not a kernel this lab builds\. Fix: give 6\.1 or 6\.12/);
  // Containers build the image's Debian sources only (6.12 there: container.test.ts); a tree of your own is the host's.
  r = await xdpLab(["build", "--kernel", empty, "--container", "--out", empty]);
  assert.is.not(r.exitCode, 0);
  assert.match(r.stderr, /--kernel PATH, --kernel-src and --kconfig do not apply to build --container: .*--kernel 6\.1 or 6\.12/);
});

t.run();
