// The README's commands on the two kinds of machine that break KVM: /dev/kvm present but unusable
// (a stand-in qemu that aborts or hangs under KVM, as nested KVM does) and no /dev/kvm at all
// (XDP_LAB_ACCEL=tcg, and a missing device). Each boots the real build. Needs root and qemu.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { xdpLab } from "./cli.ts";
import { leftovers } from "./lab-leftovers.ts";

const t = suite("accelerator fallback (real guest)");
const S = `s${process.pid}`.slice(0, 12);
let out = "";

/** An environment whose qemu is the stand-in in MODE, with a /dev/kvm that opens and a fresh verdict store. */
async function brokenKvm(mode: "abort" | "hang"): Promise<Record<string, string>> {
  const dir = await tempDir();
  const device = join(dir, "kvm");
  await writeFile(device, "");
  return {
    XDP_LAB_QEMU: join(REPO, "test/fixtures/stand-in-qemu.cjs"),
    STANDIN_KVM: mode,
    XDP_LAB_KVM_DEVICE: device,
    // Verdicts live in the cache root; a fresh one makes the probe run (boot and up need no build cache).
    XDG_CACHE_HOME: join(dir, "cache"),
    XDP_LAB_ACCEL: "",
  };
}

t.before(async () => {
  out = await tempDir();
  const r = await xdpLab(["build", "--quiet", "--out", out]);
  assert.is(r.exitCode, 0, r.stderr);
});

t.after(async () => {
  await xdpLab(["down", "--name", S]);
  await cleanup();
});

t("boot: KVM that aborts qemu falls back to TCG, says why, and the guest runs", async () => {
  const env = await brokenKvm("abort");
  const r = await xdpLab(["boot", "--out", out, "--", "echo guest-ran"], { env });
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /under TCG \(KVM is present but unusable \(qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\): using TCG\)/);
  assert.match(r.stdout, /^guest-ran$/m);
  // The second time the verdict is remembered: no probe.
  const again = await xdpLab(["boot", "--out", out, "--", "true"], { env });
  assert.is(again.exitCode, 0, again.stderr);
  assert.match(again.stderr, /remembered from a probe/);
});

t("boot: KVM that hangs in the firmware falls back to TCG after the probe's timeout", async () => {
  const r = await xdpLab(["boot", "--out", out, "--", "echo guest-ran"], { env: await brokenKvm("hang") });
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /KVM is present but unusable \(no ready marker within 15 s, last console line: "Booting from ROM\.\."\): using TCG/);
  assert.match(r.stdout, /^guest-ran$/m);
});

t("boot: no /dev/kvm, and XDP_LAB_ACCEL=tcg, both run under TCG", async () => {
  const none = await xdpLab(["boot", "--out", out, "--", "true"], { env: { XDP_LAB_KVM_DEVICE: "/nonexistent/kvm", XDP_LAB_ACCEL: "" } });
  assert.is(none.exitCode, 0, none.stderr);
  assert.match(none.stderr, /under TCG \(no usable \/nonexistent\/kvm: using TCG/);
  const forced = await xdpLab(["boot", "--out", out, "--", "true"], { env: { XDP_LAB_ACCEL: "tcg" } });
  assert.is(forced.exitCode, 0, forced.stderr);
  assert.match(forced.stderr, /under TCG \(TCG, as asked\)/);
  const bad = await xdpLab(["boot", "--out", out, "--", "true"], { env: { XDP_LAB_ACCEL: "fast" } });
  assert.is(bad.exitCode, 1);
  assert.match(bad.stderr, /XDP_LAB_ACCEL="fast" is not an accelerator\. Fix: use auto, kvm, tcg/);
});

t("up: a broken KVM falls back to TCG and the lab carries traffic", async () => {
  const r = await xdpLab(["up", "--name", S, "--out", out], { env: await brokenKvm("abort") });
  assert.is(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /accelerator: KVM is present but unusable \(qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\): using TCG/);
  assert.match(r.stdout, /is up in [\d.]+ s \(TCG, kernel built[ )]/);
  const ping = await xdpLab(["exec", "client", "--name", S, "--", "ping", "-c", "2", "-W", "2", "server"]);
  assert.is(ping.exitCode, 0, ping.stdout + ping.stderr);
  assert.match(ping.stdout, /2 packets transmitted, 2 received/);
  const down = await xdpLab(["down", "--name", S]);
  assert.is(down.exitCode, 0);
  assert.equal(await leftovers(S), []);
});

t.run();
