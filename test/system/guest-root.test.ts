// --guest-root host: the guest runs on this machine's own root file system (read-only over 9p,
// under a writable overlay in the guest's RAM) with the lab's configuration on top. The host's
// tools run in the guest unchanged; every lab command works as with the initramfs; and xdp-tools'
// own test suites (Debian's xdp-tests, the version of the installed xdp-tools) pass in the guest.
// Needs root, qemu; in CI (CI=true) nothing here is skipped.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { PEER_SUITE_TOOLS } from "../../src/build/packages.ts";
import { ensure } from "../../src/tools/ensure.ts";
import { REPO } from "../../src/paths.ts";
import { KNOWN_SKIPS, outcomes, parseSuites, SUITE_GROUPS, SUITES, suiteBootArgs } from "../../src/testing/xdp-tools-suites.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { captureXdp, cpRoundTrip, ok, xdpLab } from "./cli.ts";

const t = suite("--guest-root host (system)");
const L = `g${process.pid}`.slice(0, 12);
const on = (host: string, ...cmd: string[]) => xdpLab(["exec", host, "--name", L, "--", ...cmd]);

t.before(async () => {
  // The suites' packages on this machine: under --guest-root host they are the guest's too.
  await ensure(PEER_SUITE_TOOLS, { install: true, purpose: "xdp-tools' test suites in the guest", log: (l) => console.log(l) });
  await ok(["build", "--quiet"]);
});

t.after(async () => {
  await xdpLab(["down", "--name", L]);
  await cleanup();
});

t("boot --guest-root host: the host's own programs with their libraries, the checkout at its path, writes kept in RAM", async () => {
  const marker = join(REPO, `.guest-root-${process.pid}`);
  const script = [
    "set -e",
    "readlink -f /usr/bin/ping",
    "ping -V | head -1",
    "timeout --version | head -1",
    "ethtool --version",
    // tshark warns about running as root on stderr, which the command channel carries too.
    "tshark --version 2>/dev/null | head -1",
    "python3 -c 'import sys; print(\"python\", sys.version_info[0])'",
    `cat ${REPO}/package.json | head -3 | grep -c '"name"'`,
    `echo from-guest > ${marker}`,
    `cat ${marker}`,
    "xdp-lab-app --help >/dev/null 2>&1 && echo app-here",
    "test -r /sys/kernel/btf/vmlinux && echo btf",
    "mount | grep -c ' on / type overlay'",
  ].join("\n");
  const r = await xdpLab(["boot", "--guest-root", "host", "--quiet", "--", script]);
  assert.is(r.exitCode, 0, r.stderr + r.stdout);
  const lines = r.stdout.trim().split("\n");
  assert.is(lines[0], "/usr/bin/ping", "iputils' ping, not busybox's applet");
  assert.match(lines[1]!, /^ping from iputils/);
  assert.match(lines[2]!, /^timeout \(GNU coreutils\)/);
  assert.match(lines[3]!, /^ethtool version/);
  assert.match(lines[4]!, /TShark/);
  assert.is(lines[5], "python 3");
  assert.is(lines[6], "1", "the checkout is at its host path");
  assert.is(lines[7], "from-guest");
  assert.is(lines[8], "app-here");
  assert.is(lines[9], "btf");
  assert.is(lines[10], "1", "/ is the overlay");
  assert.not.ok(existsSync(marker), "the guest's write stayed in its RAM, not on this machine");
});

t("up --guest-root host: exec, cp, load, status and capture --xdp work as with the initramfs", async () => {
  await ok(["up", "--name", L, "--guest-root", "host", "--memory", "512"]);
  const status = JSON.parse(await ok(["status", "--name", L, "--json"])) as { vm: { guestRoot: string; running: boolean } };
  assert.is(status.vm.guestRoot, "host");
  assert.ok(status.vm.running);
  // The host's programs in the VM, reached over the lab's ssh.
  const sh = await on("vm", "readlink -f /bin/sh; python3 -c 'print(6*7)'");
  assert.is(sh.exitCode, 0, sh.stderr);
  assert.equal(sh.stdout.trim().split("\n"), ["/usr/bin/dash", "42"]);
  // cp both ways.
  const dir = await tempDir();
  await cpRoundTrip(L, dir, "blob", 1 << 20);
  // load through the app, status reads the kernel's counters, the client still reaches the server.
  await ok(["load", join(REPO, "out", "pass.bpf.o"), "--name", L]);
  const ping = await on("client", "ping", "-4", "-c", "3", "-i", "0.3", "-W", "2", "server");
  assert.is(ping.exitCode, 0, ping.stdout + ping.stderr);
  const s = JSON.parse(await ok(["status", "--name", L, "--json"])) as { attached: { iface: string; name: string; runCount: number }[] };
  const lan = s.attached.find((a) => a.iface === "lan0");
  assert.ok(lan && lan.runCount >= 3, `pass on lan0 ran: ${JSON.stringify(s.attached)}`);
  // capture --xdp: the host's xdpdump, in the guest.
  const lines = await captureXdp(L, 4, join(dir, "xdp.pcap"), () => on("client", "ping", "-4", "-c", "2", "-i", "0.3", "-W", "2", "server"));
  assert.is(lines.filter((l) => /ICMP echo request/.test(l)).length, 4, "2 requests, each at entry and exit");
  await on("vm", "xdp-lab-app ctl unload lan0");
});

t("xdp-lab test --guest-root host runs a test file on the host-root guest", async () => {
  await xdpLab(["down", "--name", L]);
  const junit = join(await tempDir(), "junit.xml");
  const r = await xdpLab(["test", join(REPO, "examples/tests/start-here.yaml"), "--guest-root", "host", "--junit", junit]);
  assert.is(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\d+ passed, 0 failed/);
  assert.match(await readFile(junit, "utf8"), /failures="0"/);
});

t("xdp-tools' own suites (xdp-loader, xdp-filter, xdpdump; Debian's xdp-tests) pass in the guest, skipping only what is named", async () => {
  // Two guests side by side (each its own namespaces, so the runner's fixed names do not collide):
  // xdp-filter's suite is mostly its own sleeps, about as long as the other two together.
  const runs = await Promise.all(SUITE_GROUPS.map((g) => xdpLab(suiteBootArgs(g))));
  const r = { stdout: runs.map((x) => x.stdout).join("\n"), stderr: runs.map((x) => x.stderr).join("\n") };
  const results = parseSuites(r.stdout);
  const report = results.map((s) => `${s.tool}: exit ${s.exitCode}, ${s.seconds.toFixed(1)} s, ${s.tests.map((x) => `${x.name} ${x.status}`).join(", ")}`).join("\n");
  console.log(report);
  for (const s of results) {
    assert.ok(s.started, `${s.tool}'s suite did not start:\n${r.stdout.slice(-3000)}${r.stderr.slice(-1500)}`);
    const { failed, skipped } = outcomes(s);
    assert.equal(failed, [], `${s.tool}: failed:\n${s.output.slice(-4000)}`);
    for (const x of skipped) assert.ok(KNOWN_SKIPS[x], `${s.tool}: ${x} skipped for a reason not named (KNOWN_SKIPS):\n${s.output.slice(-3000)}`);
    assert.is(s.exitCode, 0, `${s.tool}'s runner exit status`);
  }
  assert.equal(results.map((s) => s.tool), SUITES.map((s) => s.tool));
  const all = outcomes({ tests: results.flatMap((s) => s.tests) });
  // v1.3.1: 6 loader tests, 13 filter tests (2 python), 15 xdpdump tests.
  assert.is(all.passed.length + all.skipped.length, 34, report);
  console.log(`xdp-tools suites in the guest: ${all.passed.length} passed, ${all.skipped.length} skipped (${Object.keys(KNOWN_SKIPS).join(", ")}: ${Object.values(KNOWN_SKIPS)[0]})`);
});

t("--guest-root host on a kernel without 9p (Debian's cloud kernel) is refused, naming what it lacks and the fix", async () => {
  const r = await xdpLab(["boot", "--kernel", "debian-6.12", "--guest-root", "host", "--", "true"]);
  assert.is.not(r.exitCode, 0);
  assert.match(r.stderr, /--guest-root host with --kernel debian-6\.12: Debian's .* is built without CONFIG_NET_9P.*Fix: use the lab's built kernel/);
});

t.run();
