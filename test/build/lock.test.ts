// The package lock: its format, its hash, what the host build compares and what the image installs.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { aptSpecs, describeDifferences, diffLocks, formatChanges, formatLock, lockDifferences, lockFromInstalled, lockHash, parseLock, readLock } from "../../src/build/lock.ts";
import { imageTag, installScript } from "../../src/build/image.ts";
import { buildPackages } from "../../src/build/packages.ts";
import { parseCandidates } from "../../src/tools/apt.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("lock");
t.after(cleanup);

t("the checkout's lock covers exactly the build packages, each at one exact version", () => {
  const lock = readLock();
  assert.equal(Object.keys(lock).sort(), buildPackages());
  for (const v of Object.values(lock)) assert.match(v, /^[\w.:~+-]+$/);
});

t("format then parse round-trips; comments do not change the hash; versions do", () => {
  const lock = { make: "4.3-4.1", gcc: "4:12.2.0-3" };
  const text = formatLock(lock);
  assert.equal(parseLock(text), lock);
  assert.is(lockHash(parseLock("# note\n" + text)), lockHash(lock));
  assert.is.not(lockHash({ ...lock, make: "4.3-4.2" }), lockHash(lock));
  assert.equal(aptSpecs(lock), ["gcc=4:12.2.0-3", "make=4.3-4.1"]);
  assert.throws(() => parseLock("make 4.3\n", "x.lock"), /x\.lock:1: "make 4\.3" is not package=version.*\.\/xdp-lab lock/);
});

t("a lock that lacks or adds packages is refused, naming them", async () => {
  const f = join(await tempDir(), "packages.lock");
  await writeFile(f, "make=1\nleftpad=2\n");
  assert.throws(() => readLock(f, ["gcc", "make"]), /lacks gcc; it has leftpad that no stage needs\. Fix: run \.\/xdp-lab lock/);
  assert.throws(() => readLock(join(f, "nope")), /Cannot read the package lock/);
});

t("differences: another version or a missing package, named in one line", () => {
  const lock = { bash: "5.2.15-2+b13", make: "4.3-4.1", gcc: "4:12.2.0-3" };
  const diffs = lockDifferences(lock, ["bash=5.2.15-2+b8", "make=4.3-4.1"]);
  assert.equal(diffs, [
    { package: "bash", locked: "5.2.15-2+b13", installed: "5.2.15-2+b8" },
    { package: "gcc", locked: "4:12.2.0-3", installed: undefined },
  ]);
  const line = describeDifferences(diffs);
  assert.not.match(line, /\n/);
  assert.match(line, /bash 5\.2\.15-2\+b8 \(lock: 5\.2\.15-2\+b13\), gcc \(not installed\)/);
  assert.match(line, /will not match CI's/);
  assert.equal(lockDifferences(lock, ["bash=5.2.15-2+b13", "make=4.3-4.1", "gcc=4:12.2.0-3"]), []);
});

t("locking from a machine needs every build package", () => {
  assert.equal(lockFromInstalled(["make=1", "gcc=2"], ["gcc", "make"]), { gcc: "2", make: "1" });
  assert.throws(() => lockFromInstalled(["make=1"], ["gcc", "make"]), /gcc not installed.*apt-get install gcc/);
});

t("lock --update's diff: each package that moves, from and to, added and dropped ones named", () => {
  const before = { bpftool: "7.1.0+6.1.192-2", make: "4.3-4.1", gone: "1" };
  const after = { bpftool: "7.1.0+6.1.192-3", make: "4.3-4.1", fresh: "2" };
  assert.equal(diffLocks(before, after), [
    { package: "bpftool", from: "7.1.0+6.1.192-2", to: "7.1.0+6.1.192-3" },
    { package: "fresh", from: undefined, to: "2" },
    { package: "gone", from: "1", to: undefined },
  ]);
  assert.is(formatChanges(diffLocks(before, after)), "  bpftool  7.1.0+6.1.192-2 -> 7.1.0+6.1.192-3\n  fresh    (new) -> 2\n  gone     1 -> (dropped)\n");
  assert.equal(diffLocks(before, before), []);
});

t("apt-cache policy: each package's candidate", () => {
  const policy = "bash:\n  Installed: 5.2.15-2+b8\n  Candidate: 5.2.15-2+b13\n  Version table:\nlibbpf-dev:amd64:\n  Installed: (none)\n  Candidate: 1:1.1.2-0+deb12u1\nnope:\n  Installed: (none)\n  Candidate: (none)\n";
  assert.equal(parseCandidates(policy), ["bash=5.2.15-2+b13", "libbpf-dev=1:1.1.2-0+deb12u1"]);
});

t("the image: tagged by the lock's hash, installs exactly the locked versions without recommends", () => {
  const lock = { make: "4.3-4.1", gcc: "4:12.2.0-3" };
  assert.is(imageTag(lock), `localhost/xdp-lab-build:${lockHash(lock).slice(0, 16)}`);
  assert.is.not(imageTag({ ...lock, make: "4.4" }), imageTag(lock));
  assert.match(installScript(lock), /apt-get install -y -qq --no-install-recommends gcc=4:12\.2\.0-3 make=4\.3-4\.1\n/);
  assert.match(installScript(lock), /bookworm-security/);
});

t.run();
