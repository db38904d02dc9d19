// The initramfs overlay's cpio writer: alignment after the base archive and refused input. GNU cpio
// reading the archive back is test/system/host-tools.test.ts's (it needs the cpio package).
import { gunzipSync, gzipSync } from "node:zlib";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { appendOverlay, cpio } from "../../network/cpio.ts";

const t = suite("network/cpio");

const entries = [
  { path: "etc", mode: 0o755 },
  { path: "etc/xdp-lab", mode: 0o755 },
  { path: "etc/xdp-lab/lab.env", mode: 0o644, content: "A=1\n" },
  { path: "root/.ssh/authorized_keys", mode: 0o600, content: Buffer.from("ssh-ed25519 AAAA x\n") },
];

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
