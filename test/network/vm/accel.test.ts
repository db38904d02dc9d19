// Choosing the accelerator: --accel and XDP_LAB_ACCEL, and the KVM probe against a stand-in qemu
// whose KVM aborts, hangs or works, with the verdict remembered per machine.
import { suite } from "../../suite.ts";
import * as assert from "uvu/assert";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { accelChoice, chooseAccel, type AccelOptions } from "../../../network/vm/accel.ts";
import { REPO } from "../../../src/paths.ts";
import { cleanup, tempDir } from "../../helpers.ts";

const STAND_IN = join(REPO, "test/fixtures/stand-in-qemu.cjs");
const t = suite("accelerator choice and the KVM probe");
t.after(cleanup);

/** Probe options against the stand-in in MODE, with a fresh cache and a fake /dev/kvm that opens. */
async function setup(mode: "abort" | "hang" | "works"): Promise<AccelOptions & { calls: () => Promise<number> }> {
  const dir = await tempDir();
  const device = join(dir, "kvm");
  await writeFile(device, "");
  const callLog = join(dir, "calls");
  await writeFile(callLog, "");
  // The stand-in reads its mode from the environment; a wrapper script per test fixes it.
  const qemu = join(dir, "qemu");
  await writeFile(qemu, `#!/bin/sh\nSTANDIN_KVM=${mode} STANDIN_LOG=${callLog} exec ${STAND_IN} "$@"\n`, { mode: 0o755 });
  return {
    kernel: "k",
    initrd: "i",
    cacheDir: join(dir, "cache"),
    log: join(dir, "probe.log"),
    qemu,
    device,
    probeTimeout: 2,
    calls: async () => (await readFile(callLog, "utf8")).split("\n").filter((l) => l.startsWith("kvm")).length,
  };
}

t("--accel wins over XDP_LAB_ACCEL, which wins over auto", () => {
  assert.is(accelChoice("tcg", { XDP_LAB_ACCEL: "kvm" }), "tcg");
  assert.is(accelChoice(undefined, { XDP_LAB_ACCEL: "kvm" }), "kvm");
  assert.is(accelChoice(undefined, {}), "auto");
});

t("a bad XDP_LAB_ACCEL names the variable and the values", () => {
  assert.throws(() => accelChoice(undefined, { XDP_LAB_ACCEL: "fast" }), /XDP_LAB_ACCEL="fast" is not an accelerator\. Fix: use auto, kvm, tcg \(or unset XDP_LAB_ACCEL\)/);
});

t("auto without a usable /dev/kvm is TCG, with no probe", async () => {
  const o = await setup("works");
  const d = await chooseAccel("auto", { ...o, device: "/nonexistent/kvm" });
  assert.is(d.accel, "tcg");
  assert.match(d.why, /no usable \/nonexistent\/kvm/);
  assert.is(await o.calls(), 0);
});

t("KVM that aborts qemu: TCG, quoting qemu's first error line; remembered, so no second probe", async () => {
  const o = await setup("abort");
  const first = await chooseAccel("auto", o);
  assert.is(first.accel, "tcg");
  assert.is(first.why.split(": using TCG")[0], "KVM is present but unusable (qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69)");
  assert.is(first.probe?.remembered, false);
  const second = await chooseAccel("auto", o);
  assert.is(second.accel, "tcg");
  assert.is(second.probe?.remembered, true);
  assert.match(second.why, /remembered from a probe/);
  assert.is(await o.calls(), 1, "the probe ran once");
});

t("KVM that hangs in the firmware: TCG after the probe's timeout, quoting the last console line", async () => {
  const o = await setup("hang");
  const started = Date.now();
  const d = await chooseAccel("auto", o);
  assert.is(d.accel, "tcg");
  assert.match(d.why, /^KVM is present but unusable \(no ready marker within 2 s, last console line: "Booting from ROM\.\."\): using TCG/);
  assert.ok(Date.now() - started < 8_000);
});

t("KVM that boots: KVM", async () => {
  const o = await setup("works");
  const d = await chooseAccel("auto", o);
  assert.is(d.accel, "kvm");
  assert.match(d.why, /KVM works here/);
  assert.is(await o.calls(), 1);
});

t("an explicit choice is taken as is, with no probe", async () => {
  const o = await setup("abort");
  assert.is((await chooseAccel("kvm", o)).accel, "kvm");
  assert.is((await chooseAccel("tcg", o)).accel, "tcg");
  assert.is(await o.calls(), 0);
});

t.run();
