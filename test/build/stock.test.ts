import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { bzImagePayload, describeFeatures, features, loadOrder, moduleName, parseConfig, parseModulesDep, pickVersion, stockKernel, versionToFetch, wantedVersion, LAB_MODULES } from "../../src/build/stock.ts";
import { parseMadison } from "../../src/tools/apt-archive.ts";

const t = suite("stock kernels: versions, modules, features");

const MADISON = [
  "linux-image-cloud-amd64 | 6.12.95-1~bpo12+1 | http://deb.debian.org/debian bookworm-backports/main amd64 Packages",
  "linux-image-cloud-amd64 |  6.1.192-3 | http://deb.debian.org/debian-security bookworm-security/main amd64 Packages",
  "linux-image-cloud-amd64 |  6.1.176-1 | http://deb.debian.org/debian bookworm/main amd64 Packages",
].join("\n");

t("the newest version of each series, 6.12 from backports only, 6.1 from bookworm or its security updates", () => {
  const v = parseMadison(MADISON);
  assert.equal(pickVersion(v, "debian-6.12"), { version: "6.12.95-1~bpo12+1", suite: "bookworm-backports/main" });
  assert.equal(pickVersion(v, "debian-6.1"), { version: "6.1.192-3", suite: "bookworm-security/main" });
  assert.is(pickVersion(parseMadison(MADISON.split("\n").slice(1).join("\n")), "debian-6.12"), undefined);
});

t("the recorded version while the archive has it; when it is gone, the newest and a sentence saying so", () => {
  const v = parseMadison(MADISON);
  const pkg = "linux-image-6.1.0-57-cloud-amd64";
  assert.equal(versionToFetch(v, "debian-6.1", { package: pkg, version: "6.1.176-1" }), { version: { version: "6.1.176-1", suite: "bookworm/main" } });
  const gone = versionToFetch(v, "debian-6.1", { package: "linux-image-6.1.0-40-cloud-amd64", version: "6.1.150-1" });
  assert.is(gone.version.version, "6.1.192-3");
  assert.match(gone.moved!, /^Debian's archive no longer has linux-image-6\.1\.0-40-cloud-amd64 6\.1\.150-1 \(recorded in .*stock-kernels\.lock\); taking the newest, 6\.1\.192-3$/);
  assert.equal(versionToFetch(v, "debian-6.12", undefined), { version: { version: "6.12.95-1~bpo12+1", suite: "bookworm-backports/main" } });
  assert.throws(() => versionToFetch([], "debian-6.12", undefined), /no linux-image-cloud-amd64 6\.12 in bookworm-backports: it has none\. Fix: /);
});

t("a run looks for the tracked version, or this machine's stand-in for exactly that tracked version; a tracked version moved on drops the stand-in", () => {
  const tracked = { package: "linux-image-6.1.0-40-cloud-amd64", version: "6.1.150-1" };
  const standIn = { package: "linux-image-6.1.0-57-cloud-amd64", version: "6.1.192-3", instead: "6.1.150-1" };
  assert.equal(wantedVersion(tracked, undefined), tracked);
  assert.equal(wantedVersion(tracked, standIn), { package: standIn.package, version: "6.1.192-3" });
  // The checkout's record moved (a pull, or lock --stock-kernels): the stand-in no longer applies.
  const moved = { package: "linux-image-6.1.0-58-cloud-amd64", version: "6.1.195-1" };
  assert.equal(wantedVersion(moved, standIn), moved);
  assert.is(wantedVersion(undefined, standIn), undefined);
});

t("load order: every dependency before its users, each module once", () => {
  const deps = parseModulesDep(
    [
      "kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.xz",
      "kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.xz",
      "kernel/net/core/failover.ko.xz:",
      "kernel/net/netfilter/nft_ct.ko.xz: kernel/net/netfilter/nf_tables.ko.xz kernel/net/netfilter/nfnetlink.ko.xz",
      "kernel/net/netfilter/nf_tables.ko.xz: kernel/net/netfilter/nfnetlink.ko.xz",
      "kernel/net/netfilter/nfnetlink.ko.xz:",
    ].join("\n"),
  );
  assert.equal(loadOrder(deps, ["virtio_net", "nf_tables", "nft_ct", "absent"]).map(moduleName), ["failover", "net_failover", "virtio_net", "nfnetlink", "nf_tables", "nft_ct"]);
});

t("module names as modprobe spells them", () => {
  assert.is(moduleName("kernel/net/9p/9pnet_virtio.ko.xz"), "9pnet_virtio");
  assert.is(moduleName("kernel/drivers/char/hw_random/virtio-rng.ko"), "virtio_rng");
  assert.ok(LAB_MODULES.some((m) => m.name === "virtio_net" && m.required));
});

t("features from the config: 9p absent in Debian's cloud kernel is said, with the options", () => {
  const cfg = parseConfig("CONFIG_BPF_SYSCALL=y\nCONFIG_VIRTIO_NET=m\nCONFIG_NET_SCH_INGRESS=m\nCONFIG_NET_CLS_BPF=m\nCONFIG_NET_CLS_ACT=y\n# CONFIG_NET_9P is not set\n");
  const f = features(cfg);
  assert.is(f.find((x) => x.feature.startsWith("native XDP"))!.holds, true);
  assert.is(f.find((x) => x.feature.startsWith("tc"))!.holds, true);
  const nine = f.find((x) => x.feature.startsWith("9p"))!;
  assert.is(nine.holds, false);
  assert.equal(nine.missing, ["CONFIG_NET_9P", "CONFIG_NET_9P_VIRTIO", "CONFIG_9P_FS"]);
  assert.ok(describeFeatures(f).includes("9p shares (--share): no (CONFIG_NET_9P, CONFIG_NET_9P_VIRTIO, CONFIG_9P_FS not set)"));
});

t("an unknown stock kernel is refused, naming the choices", () => {
  assert.throws(() => stockKernel("debian-5.10"), /--kernel debian-5\.10: .*built, debian-6\.1, debian-6\.12/);
  assert.is(stockKernel("debian-6.12"), "debian-6.12");
});

/** A bzImage as far as its boot header goes: SETUP sectors, then PAYLOAD at OFFSET into the protected-mode part. */
function bzImage(setup: number, offset: number, payload: Buffer): Buffer {
  const start = ((setup || 4) + 1) * 512 + offset;
  const b = Buffer.alloc(start + payload.length + 64);
  b[0x1f1] = setup;
  b.writeUInt32LE(0x53726448, 0x202);
  b.writeUInt32LE(offset, 0x248);
  b.writeUInt32LE(payload.length, 0x24c);
  payload.copy(b, start);
  return b;
}

t("a bzImage's payload: found by its boot header, the decompressor by its magic, the size trailer cut off (not for gzip)", () => {
  const zstd = Buffer.concat([Buffer.from("28b52ffd0102", "hex"), Buffer.from([9, 9, 9, 9])]);
  const z = bzImagePayload(bzImage(27, 716, zstd));
  assert.equal(z.argv, ["zstd", "-dc"]);
  assert.equal([...z.data], [...zstd.subarray(0, zstd.length - 4)]);
  const lz4 = bzImagePayload(bzImage(39, 16, Buffer.from("02214c18aabbccdd11223344", "hex")));
  assert.equal(lz4.argv, ["lz4", "-dc"]);
  assert.is(lz4.data.toString("hex"), "02214c18aabbccdd");
  const gz = bzImagePayload(bzImage(0, 8, Buffer.from("1f8b0800cafe", "hex")));
  assert.is(gz.data.toString("hex"), "1f8b0800cafe", "setup_sects 0 means 4, and gzip keeps its bytes");
  assert.throws(() => bzImagePayload(Buffer.alloc(1024)), /not a bzImage \(no HdrS boot header\)/);
  assert.throws(() => bzImagePayload(bzImage(4, 0, Buffer.from("00112233445566", "hex"))), /payload is in no format xdp-lab knows \(it starts 001122334455\)/);
});

t.run();
