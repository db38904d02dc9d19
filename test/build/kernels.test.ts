import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { resolve } from "node:path";
import { alignToLock, builtKernelOut, parseBuildKernel, versionOfSource, DEFAULT_KERNEL, type PackageOps } from "../../src/build/kernels.ts";
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

/** A machine's dpkg and apt in memory: what is installed, and which versions the archive serves. */
function machine(installed: string | undefined, archive: string[]): PackageOps & { state: () => string | undefined; calls: string[] } {
  let now = installed;
  const calls: string[] = [];
  return {
    calls,
    state: () => now,
    installed: async () => now,
    installExact: async (pkg, version) => {
      calls.push(`install ${pkg}=${version}`);
      if (!archive.includes(version)) throw new Error(`E: Version '${version}' for '${pkg}' was not found`);
      now = version;
    },
    candidate: async () => archive.at(-1),
  };
}

t("an installed kernel source at another version than the lock is replaced by the locked one, newer or older, when the archive has it", async () => {
  const pkg = "linux-source-6.12";
  // The case CI met: the host had installed the newer security update; the lock names the older.
  const newer = machine("6.12.118-1~deb12u1", ["6.12.117-1~deb12u1", "6.12.118-1~deb12u1"]);
  const log: string[] = [];
  await alignToLock(pkg, "6.12.117-1~deb12u1", "packages.lock", { install: true, root: true, packages: newer, log: (l) => log.push(l) });
  assert.is(newer.state(), "6.12.117-1~deb12u1");
  assert.equal(newer.calls, ["install linux-source-6.12=6.12.117-1~deb12u1"]);
  assert.match(log.join("\n"), /linux-source-6\.12 6\.12\.118-1~deb12u1 is installed, the lock packages\.lock names 6\.12\.117-1~deb12u1: installed linux-source-6\.12=6\.12\.117-1~deb12u1/);
  // An older one installed, the lock newer: upgraded the same way.
  const older = machine("6.12.110-1", ["6.12.110-1", "6.12.117-1~deb12u1"]);
  await alignToLock(pkg, "6.12.117-1~deb12u1", "packages.lock", { install: true, root: true, packages: older });
  assert.is(older.state(), "6.12.117-1~deb12u1");
  // Already the locked version: nothing is asked of apt.
  const same = machine("6.12.117-1~deb12u1", ["6.12.117-1~deb12u1"]);
  await alignToLock(pkg, "6.12.117-1~deb12u1", "packages.lock", { install: true, root: true, packages: same });
  assert.equal(same.calls, []);
});

t("a locked version the archive no longer serves, or no right to install, keeps the installed source and says why and what fixes it", async () => {
  const pkg = "linux-source-6.12";
  const gone = machine("6.12.118-1~deb12u1", ["6.12.118-1~deb12u1"]);
  const log: string[] = [];
  await alignToLock(pkg, "6.12.117-1~deb12u1", "packages.lock", { install: true, root: true, packages: gone, log: (l) => log.push(l) });
  assert.is(gone.state(), "6.12.118-1~deb12u1");
  assert.match(log[0]!, /Debian's archive no longer has it \(archive now: 6\.12\.118-1~deb12u1\): building 6\.12\.118-1~deb12u1; its artifacts will differ from the lock's build\. Fix: \.\/xdp-lab lock --update/);
  for (const o of [{ install: false, root: true }, { install: true, root: false }]) {
    const m = machine("6.12.118-1~deb12u1", ["6.12.117-1~deb12u1", "6.12.118-1~deb12u1"]);
    const said: string[] = [];
    await alignToLock(pkg, "6.12.117-1~deb12u1", "packages.lock", { ...o, packages: m, log: (l) => said.push(l) });
    assert.equal(m.calls, [], JSON.stringify(o));
    assert.match(said[0]!, /Fix: run as root without --no-install, or apt-get install linux-source-6\.12=6\.12\.117-1~deb12u1/);
  }
});

t.run();
