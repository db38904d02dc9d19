import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bpfPrograms, DEFAULT_PARAMS, isBuildProduct, plan, STAGES, STAGE_NAMES, type Stage } from "../../src/build/stages.ts";
import { REPO } from "../../src/paths.ts";
import { failure } from "../helpers.ts";

const t = suite("stage table");
const paths = { repo: "/r", out: "/o", work: "/w", ccache: "/c", upstream: {} };

t("every stage name has exactly one stage", () => {
  assert.equal(STAGES.map((s) => s.name).sort(), [...STAGE_NAMES].sort());
});

t("each stage runs make in its own folder, which exists with a Makefile: buildable by hand", () => {
  for (const s of STAGES) {
    const cmd = s.command(paths, DEFAULT_PARAMS, 0);
    assert.is(cmd.file, "make", s.name);
    assert.equal(cmd.args.slice(0, 2), ["-C", s.name], s.name);
    assert.ok(existsSync(join(REPO, s.name, "Makefile")), `${s.name}/Makefile`);
    assert.ok(cmd.args.includes("OUT=/o"), `${s.name} writes to the directory it is given`);
    assert.is(cmd.env.SOURCE_DATE_EPOCH, "0");
  }
});

t("inputs exist and artifacts are named", () => {
  for (const s of STAGES) {
    for (const i of s.inputs) assert.ok(existsSync(join(REPO, i)), `${s.name} input ${i}`);
    assert.ok(s.artifacts.length > 0, s.name);
  }
});

t("kernel command carries source, work tree and extra fragments", () => {
  const kernel = STAGES.find((s) => s.name === "kernel")!;
  const cmd = kernel.command(paths, { kernelSrc: "/src/linux", kconfig: ["/a.config", "/b.config"] }, 1700000000);
  assert.ok(cmd.args.includes("KSRC=/src/linux"));
  assert.ok(cmd.args.includes("WORK=/w"));
  assert.ok(cmd.args.includes("EXTRA_CONFIG=/a.config /b.config"));
  assert.is(cmd.env.SOURCE_DATE_EPOCH, "1700000000");
  assert.is(cmd.env.CCACHE_DIR, "/c");
});

t("plan puts upstream stages first and rejects unknown names and cycles", () => {
  const fake = (name: "kernel" | "rootfs", needs: ("kernel" | "rootfs")[]): Stage => ({ ...STAGES[0]!, name, needs });
  assert.equal(plan(["rootfs"], [fake("kernel", []), fake("rootfs", ["kernel"])]).map((s) => s.name), ["kernel", "rootfs"]);
  assert.throws(() => plan(["kernel"], [fake("kernel", ["rootfs"]), fake("rootfs", ["kernel"])]), /cycle: kernel -> rootfs -> kernel/);
  assert.throws(() => plan(["nope" as "kernel"]), /Unknown stage nope: choose one of kernel, kmod, bpf, app, rootfs/);
});

t("the bpf stage publishes one object per bpf/*.bpf.c, and the rootfs carries them", () => {
  const bpf = STAGES.find((s) => s.name === "bpf")!;
  assert.equal(bpf.artifacts, bpfPrograms().map((p) => `${p}.bpf.o`));
  assert.ok(bpfPrograms().includes("pass") && bpfPrograms().includes("drop") && bpfPrograms().includes("firewall"));
  const rootfs = STAGES.find((s) => s.name === "rootfs")!;
  assert.equal(rootfs.needs, ["bpf", "kmod", "app"]);
  const args = rootfs.command({ ...paths, upstream: { bpf: "/u/bpf", kmod: "/u/kmod", app: "/u/app" } }, DEFAULT_PARAMS, 0).args;
  assert.ok(args.includes("BPF=/u/bpf") && args.includes("KMOD=/u/kmod") && args.includes("APP=/u/app"));
});

t("the kernel stage exports vmlinux.h from its BTF, and its toolchain has pahole, lz4 and bpftool", () => {
  const kernel = STAGES.find((s) => s.name === "kernel")!;
  assert.ok(kernel.artifacts.includes("vmlinux.h"));
  assert.ok(kernel.artifacts.includes("bzImage"));
  for (const bin of ["pahole", "lz4", "bpftool"]) assert.ok(kernel.requires.some((r) => r.bin === bin), bin);
  assert.ok(kernel.toolchain.some((c) => c[0] === "pahole"), "pahole's version is part of the kernel's cache key");
});

t("the bpf stage needs the kernel stage and compiles its CO-RE programs against the kernel's vmlinux.h", () => {
  const bpf = STAGES.find((s) => s.name === "bpf")!;
  assert.equal(bpf.needs, ["kernel"]);
  const args = bpf.command({ ...paths, upstream: { kernel: "/u/kernel" } }, DEFAULT_PARAMS, 0).args;
  assert.ok(args.includes("VMLINUX_H=/u/kernel/vmlinux.h"), args.join(" "));
  assert.ok(bpfPrograms().includes("proto_count") && bpfPrograms().includes("tc_count"));
  assert.equal(plan(["bpf"]).map((s) => s.name), ["kernel", "bpf"]);
});

t("the module builds against the kernel stage's exported kbuild tree", () => {
  const kmod = STAGES.find((s) => s.name === "kmod")!;
  assert.equal(kmod.needs, ["kernel"]);
  assert.ok(kmod.command({ ...paths, upstream: { kernel: "/u/kernel" } }, DEFAULT_PARAMS, 0).args.includes("KDIR=/u/kernel/kbuild"));
});

t("the app stage rebuilds when the headers it shares with bpf/ and kmod/ change", () => {
  const app = STAGES.find((s) => s.name === "app")!;
  assert.equal(app.inputs, ["app", "bpf/xdp_lab.h", "kmod/xdp_lab_echo.h"]);
  assert.equal(app.artifacts, ["xdp-lab-app", "flood-guard.lua"]);
});

t("build products in stage folders are not inputs", () => {
  assert.ok(isBuildProduct("kernel/out/bzImage"));
  assert.ok(isBuildProduct("kernel/.work/obj/x.o"));
  assert.not.ok(isBuildProduct("kernel/lab.config"));
  assert.not.ok(isBuildProduct("rootfs/outline.txt"));
});

t("the kernel stage validates its source and fragments with a fix in the message", async () => {
  const kernel = STAGES.find((s) => s.name === "kernel")!;
  const err = async (p: typeof DEFAULT_PARAMS) => (await failure(kernel.validate!(p))).message;
  assert.match((await err({ kernelSrc: "/nonexistent/linux", kconfig: [] })), /Kernel source \/nonexistent\/linux does not exist. Fix: pass --kernel-src/);
  assert.match((await err({ kernelSrc: REPO, kconfig: [] })), new RegExp(`Kernel source ${REPO} is not a kernel tree`));
  assert.match((await err({ kernelSrc: "/", kconfig: ["/nonexistent.config"] })), /does not exist|not a kernel tree/);
});

t.run();
