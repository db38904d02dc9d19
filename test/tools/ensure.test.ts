import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ensure, missing, pinnedSpecs, which } from "../../src/tools/ensure.ts";
import { allPackages, KERNEL_TOOLCHAIN, ROOTFS_CONTENT, VM_RUNTIME } from "../../src/build/packages.ts";
import { APT_LOCK, aptGetArgv, aptInstallArgs } from "../../src/tools/apt.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("requirements");
t.after(cleanup);

t("which finds executables on the given PATH only", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "tool"), "#!/bin/sh\n");
  assert.is(which("tool", dir), undefined, "not executable");
  await chmod(join(dir, "tool"), 0o755);
  assert.is(which("tool", `/nonexistent:${dir}`), join(dir, "tool"));
});

t("a missing program is reported with its Debian package", async () => {
  const reqs = [{ package: "qemu-system-x86", bin: "qemu-system-x86_64" }, { package: "coreutils", file: "/bin/sh" }];
  assert.equal(missing(reqs, "/nonexistent").map((r) => r.package), ["qemu-system-x86"]);
  assert.match((await failure(ensure(reqs, { install: false, purpose: "booting the guest", path: "/nonexistent" }))).message, /Missing for booting the guest: qemu-system-x86_64 \(Debian package qemu-system-x86\)[\s\S]*apt-get install qemu-system-x86/);
});

t("packages are installed at their locked versions where the lock has one", () => {
  assert.equal(pinnedSpecs(["bpftool", "curl"], { bpftool: "7.1.0+6.1.192-3", make: "4.3-4.1" }), ["bpftool=7.1.0+6.1.192-3", "curl"]);
  assert.equal(pinnedSpecs(["curl"]), ["curl"]);
});

t("one package list, sorted and unique, covering every stage and the VM", () => {
  const all = allPackages();
  assert.equal(all, [...new Set(all)].sort());
  for (const r of [...KERNEL_TOOLCHAIN, ...ROOTFS_CONTENT, ...VM_RUNTIME]) assert.ok(all.includes(r.package));
  assert.ok(all.includes("linux-source-6.1") && all.includes("busybox-static") && all.includes("qemu-system-x86"));
});

t("apt installs without prompts or recommends", () => {
  assert.equal(aptInstallArgs(["a", "b"]), ["install", "-y", "--no-install-recommends", "a", "b"]);
  // Each apt call waits for xdp-lab's others (one install at a time), instead of apt's "Could not get lock".
  assert.equal(aptGetArgv(["update"]), ["flock", ["-w", "1800", APT_LOCK, "apt-get", "update"]]);
});

t.run();
