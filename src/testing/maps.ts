// A map value as a test reads it: the entry of a key in `bpftool -j map dump` output, summed over
import type { Delta, MapExpect } from "./file-types.ts";
// CPUs for per-CPU maps, and the delta between two readings checked against what the test wants.

/** One element of `bpftool -j map dump`: raw bytes, and with BTF the formatted key and value(s). */
export interface DumpEntry {
  key: string[];
  value?: string[];
  values?: { cpu: number; value: string[] }[];
  formatted?: { key: unknown; value?: unknown; values?: { cpu: number; value: unknown }[] };
}

/** The bytes of a key as the test gives it: a number (little-endian, as the VM stores it) or "0x02 0x00" / "hex 02 00". */
export function keyBytes(key: number | string, size: number): number[] {
  if (typeof key === "number") {
    const bytes: number[] = [];
    let n = BigInt(key);
    for (let i = 0; i < size; i++, n >>= 8n) bytes.push(Number(n & 0xffn));
    return bytes;
  }
  const words = key.trim().split(/\s+/);
  const hex = words[0] === "hex";
  return (hex ? words.slice(1) : words).map((w) => parseInt(w, 16));
}

const bytesOf = (raw: string[]): number[] => raw.map((b) => parseInt(b, 16));

/** The entry of KEY in a dump, or undefined. */
export function findEntry(entries: DumpEntry[], key: number | string): DumpEntry | undefined {
  return entries.find((e) => {
    const have = bytesOf(e.key);
    const want = keyBytes(key, have.length);
    return want.length === have.length && want.every((b, i) => b === have[i]);
  });
}

/** An unsigned little-endian integer from raw bytes. */
function little(raw: number[]): bigint {
  return raw.reduceRight((n, b) => (n << 8n) | BigInt(b), 0n);
}

/** FIELD (dotted) of one CPU's or the map's value; without FIELD the value must be a number (or raw bytes of at most 8). */
function scalar(formatted: unknown, raw: string[] | undefined, field: string | undefined, what: string): bigint {
  if (field) {
    if (formatted === undefined) throw new Error(`${what}: the map has no BTF, so field "${field}" cannot be found: build the program with -g (BTF), or leave field out to read a value of up to 8 bytes`);
    let v: unknown = formatted;
    for (const part of field.split(".")) {
      if (typeof v !== "object" || v === null || !(part in v)) {
        throw new Error(`${what}: the value has no field "${field}"${typeof formatted === "object" && formatted ? ` (it has ${Object.keys(formatted).join(", ")})` : ""}`);
      }
      v = (v as Record<string, unknown>)[part];
    }
    return toBig(v, `${what} field ${field}`);
  }
  if (typeof formatted === "number" || typeof formatted === "bigint") return BigInt(formatted);
  if (formatted !== undefined && typeof formatted === "object" && formatted !== null) {
    throw new Error(`${what}: the value is a struct: say which field (field: ${Object.keys(formatted).join(" | ")})`);
  }
  const bytes = bytesOf(raw ?? []);
  if (bytes.length > 8) throw new Error(`${what}: the value is ${bytes.length} bytes and the map has no BTF to name its fields: build the program with -g`);
  return little(bytes);
}

function toBig(v: unknown, what: string): bigint {
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  if (typeof v === "bigint") return v;
  throw new Error(`${what} is not a whole number: ${JSON.stringify(v)}`);
}

/** The value of ENTRY (FIELD of it), summed over CPUs when the map is per-CPU. */
export function entryValue(entry: DumpEntry, field: string | undefined, what: string): bigint {
  if (entry.values) {
    return entry.values.reduce((sum, v, i) => sum + scalar(entry.formatted?.values?.[i]?.value, v.value, field, `${what} cpu ${v.cpu}`), 0n);
  }
  return scalar(entry.formatted?.value, entry.value, field, what);
}

/** The value of KEY in a dump; a key absent from a hash map reads as 0 (it was not there yet). */
export function readValue(entries: DumpEntry[], e: Pick<MapExpect, "map" | "key" | "field">): bigint {
  const entry = findEntry(entries, e.key);
  return entry ? entryValue(entry, e.field, `map ${e.map} key ${e.key}`) : 0n;
}

/** "exactly 5", "at least 3 and at most 9". */
export function describeDelta(d: Delta): string {
  const parts: string[] = [];
  if (d.exactly !== undefined) parts.push(`exactly ${d.exactly}`);
  if (d.at_least !== undefined) parts.push(`at least ${d.at_least}`);
  if (d.at_most !== undefined) parts.push(`at most ${d.at_most}`);
  return parts.join(" and ");
}

/** Whether DELTA is what D wants. */
export function deltaOk(delta: bigint, d: Delta): boolean {
  return (
    (d.exactly === undefined || delta === BigInt(d.exactly)) &&
    (d.at_least === undefined || delta >= BigInt(d.at_least)) &&
    (d.at_most === undefined || delta <= BigInt(d.at_most))
  );
}

/** What a map expectation is called in a failure line: "map stats key 2 (packets)". */
export function mapLabel(e: Pick<MapExpect, "map" | "key" | "field" | "port">): string {
  return `map ${e.map}${e.port ? ` on ${e.port}` : ""} key ${e.key}${e.field ? ` ${e.field}` : ""}`;
}
