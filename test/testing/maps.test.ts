import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { deltaOk, describeDelta, entryValue, findEntry, keyBytes, mapLabel, readValue, type DumpEntry } from "../../src/testing/maps.ts";

const t = suite("network/testing/maps");

const hex = (n: number, size: number): string[] => Array.from({ length: size }, (_, i) => `0x${(Math.floor(n / 256 ** i) % 256).toString(16).padStart(2, "0")}`);

/** A per-CPU array entry as bpftool -j map dump prints it with BTF: struct { packets, bytes } per CPU. */
function perCpu(key: number, cpus: { packets: number; bytes: number }[]): DumpEntry {
  return {
    key: hex(key, 4),
    values: cpus.map((v, cpu) => ({ cpu, value: [...hex(v.packets, 8), ...hex(v.bytes, 8)] })),
    formatted: { key, values: cpus.map((value, cpu) => ({ cpu, value })) },
  };
}

t("a per-CPU value is the sum over CPUs, of the field asked for", () => {
  const e = perCpu(2, [{ packets: 1, bytes: 98 }, { packets: 2, bytes: 196 }, { packets: 4, bytes: 10 }]);
  assert.is(entryValue(e, "packets", "x"), 7n);
  assert.is(entryValue(e, "bytes", "x"), 304n);
});

t("the delta is after minus before, each summed over CPUs", () => {
  const before = [perCpu(1, [{ packets: 3, bytes: 0 }, { packets: 5, bytes: 0 }]), perCpu(2, [{ packets: 0, bytes: 0 }, { packets: 0, bytes: 0 }])];
  const after = [perCpu(1, [{ packets: 4, bytes: 0 }, { packets: 9, bytes: 0 }]), perCpu(2, [{ packets: 0, bytes: 0 }, { packets: 0, bytes: 0 }])];
  const want = { map: "stats", key: 1, field: "packets" };
  assert.is(readValue(after, want) - readValue(before, want), 5n);
});

t("without BTF: raw little-endian bytes of at most 8, summed over CPUs; a longer value asks for BTF", () => {
  const raw: DumpEntry = { key: hex(0, 4), values: [{ cpu: 0, value: hex(258, 8) }, { cpu: 1, value: hex(2, 8) }] };
  assert.is(entryValue(raw, undefined, "x"), 260n);
  const plain: DumpEntry = { key: hex(0, 4), value: ["0x05", "0x00", "0x00", "0x00"] };
  assert.is(entryValue(plain, undefined, "x"), 5n);
  const long: DumpEntry = { key: hex(0, 4), value: hex(0, 8).concat(hex(0, 8)) };
  assert.throws(() => entryValue(long, undefined, "map m key 0"), /16 bytes and the map has no BTF/);
  assert.throws(() => entryValue(plain, "packets", "map m key 0"), /no BTF/);
});

t("a struct value needs its field named; an unknown field lists the ones there are", () => {
  const e = perCpu(2, [{ packets: 1, bytes: 1 }]);
  assert.throws(() => entryValue(e, undefined, "map stats key 2"), /the value is a struct: say which field \(field: packets \| bytes\)/);
  assert.throws(() => entryValue(e, "pkts", "map stats key 2"), /no field "pkts" \(it has packets, bytes\)/);
});

t("keys: a number matches little-endian bytes of the key's size; bytes as bpftool takes them", () => {
  assert.equal(keyBytes(2, 4), [2, 0, 0, 0]);
  assert.equal(keyBytes(0x0a0b, 2), [0x0b, 0x0a]);
  assert.equal(keyBytes("0x02 0x00 0x00 0x00", 4), [2, 0, 0, 0]);
  assert.equal(keyBytes("hex 0a 01 01 0a", 4), [10, 1, 1, 10]);
  const entries = [perCpu(1, [{ packets: 1, bytes: 0 }]), perCpu(2, [{ packets: 9, bytes: 0 }])];
  assert.is(findEntry(entries, 2), entries[1]);
  assert.is(findEntry(entries, "0x01 0x00 0x00 0x00"), entries[0]);
  assert.is(findEntry(entries, 7), undefined);
  // A hash map's key that is not there yet reads as 0.
  assert.is(readValue(entries, { map: "m", key: 7, field: "packets" }), 0n);
});

t("exactly, at least, at most, and the words for them", () => {
  assert.ok(deltaOk(5n, { exactly: 5 }));
  assert.not.ok(deltaOk(0n, { exactly: 5 }));
  assert.ok(deltaOk(5n, { at_least: 5 }));
  assert.not.ok(deltaOk(4n, { at_least: 5 }));
  assert.ok(deltaOk(0n, { at_most: 0 }));
  assert.not.ok(deltaOk(1n, { at_most: 0 }));
  assert.ok(deltaOk(3n, { at_least: 2, at_most: 4 }));
  assert.is(describeDelta({ exactly: 5 }), "exactly 5");
  assert.is(describeDelta({ at_least: 2, at_most: 4 }), "at least 2 and at most 4");
  assert.is(mapLabel({ map: "drop_stats", key: 0 }), "map drop_stats key 0");
  assert.is(mapLabel({ map: "stats", key: 2, field: "packets", port: "wan" }), "map stats on wan key 2 packets");
});

t.run();
