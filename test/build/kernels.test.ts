import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { resolve } from "node:path";
import { builtKernelOut, parseBuildKernel, versionOfSource, DEFAULT_KERNEL } from "../../src/build/kernels.ts";
import { dependsOnKernel } from "../../src/build/executor.ts";
import { stage } from "../../src/build/stages.ts";
import { REPO } from "../../src/paths.ts";

const t = suite("built kernel versions");

t("--kernel 6.1 and 6.12 are Debian's linux-source tarballs; a path is a source; the default version builds into out/ itself", () => {
  assert.equal(parseBuildKernel("6.12", resolve), { version: "6.12", kernelSrc: "/usr/src/linux-source-6.12.tar.xz" });
  assert.equal(parseBuildKernel("6.1", resolve), { version: "6.1", kernelSrc: "/usr/src/linux-source-6.1.tar.xz" });
  assert.equal(parseBuildKernel(REPO, resolve), { kernelSrc: REPO });
  assert.is(DEFAULT_KERNEL, "6.1");
  assert.is(builtKernelOut("/o", "6.1"), "/o");
  assert.is(builtKernelOut("/o", "6.12"), "/o/kernels/6.12");
  assert.is(versionOfSource("/usr/src/linux-source-6.12.tar.xz"), "6.12");
  assert.is(versionOfSource("/home/me/linux"), undefined);
});

t("a stock kernel's name is a stock build; bad --kernel values name the choices and the fix", () => {
  assert.equal(parseBuildKernel("debian-6.12", resolve), { stock: "debian-6.12" });
  assert.throws(() => parseBuildKernel("6.6", resolve), /--kernel 6\.6: not a kernel this lab builds\. Fix: give 6\.1 or 6\.12 \(Debian's linux-source packages, compiled\), debian-6\.1 or debian-6\.12 \(Debian's prebuilt kernel, no compile\)/);
  assert.throws(() => parseBuildKernel("debian-5.10", resolve), /--kernel debian-5\.10: not a kernel this lab builds/);
  assert.throws(() => parseBuildKernel("/no/such/linux", resolve), /--kernel \/no\/such\/linux: no such kernel version or source path/);
});

t("the kernel, the module, the BPF objects and the initramfs are per kernel version; the app is shared", () => {
  for (const s of ["kernel", "kmod", "bpf", "rootfs"] as const) assert.ok(dependsOnKernel(stage(s)), s);
  assert.not.ok(dependsOnKernel(stage("app")));
});

t.run();
