import { execFileSync } from "node:child_process";
import { gunzipSync, gzipSync } from "node:zlib";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { appendOverlay, cpio } from "../../network/cpio.ts";
import { ensure } from "../../src/build/requirements.ts";

const t = suite("network/cpio");

// GNU cpio is the reader that checks our writer; a fresh machine gets it here (as root), or a fix.
t.before(() => ensure([{ package: "cpio", bin: "cpio" }], { install: true, purpose: "the cpio tests (GNU cpio reads the archive back)" }));

const entries = [
  { path: "etc", mode: 0o755 },
  { path: "etc/xdp-lab", mode: 0o755 },
  { path: "etc/xdp-lab/lab.env", mode: 0o644, content: "A=1\n" },
  { path: "root/.ssh/authorized_keys", mode: 0o600, content: Buffer.from("ssh-ed25519 AAAA x\n") },
];

t("GNU cpio reads the archive back: names, modes and contents", () => {
  const archive = cpio(entries);
  assert.is(archive.length % 4, 0);
  const list = execFileSync("cpio", ["-itv", "--quiet"], { input: archive }).toString().trim().split("\n");
  assert.equal(list.map((l) => l.split(/\s+/).pop()), entries.map((e) => e.path));
  assert.match(list[0]!, /^drwxr-xr-x/);
  assert.match(list[3]!, /^-rw-------/);
  const content = execFileSync("cpio", ["-i", "--to-stdout", "--quiet", "etc/xdp-lab/lab.env"], { input: archive }).toString();
  assert.is(content, "A=1\n");
});

t("the overlay follows the base archive on a 4-byte boundary, gzip'd", () => {
  const base = gzipSync(Buffer.from("x".repeat(13)));
  const all = appendOverlay(base, entries);
  assert.ok(all.subarray(0, base.length).equals(base));
  const start = Math.ceil(base.length / 4) * 4;
  assert.ok(all.subarray(base.length, start).every((b) => b === 0));
  assert.ok(gunzipSync(all.subarray(start)).equals(cpio(entries)));
});

t("an empty path is refused", () => {
  assert.throws(() => cpio([{ path: "/", mode: 0o755 }]), /empty path/);
});

t.run();
