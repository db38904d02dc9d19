// Reading what Debian's kernel packages hold, for stock.ts: modules by the name modprobe uses,
// modules.dep as a load order, and the compressed vmlinux inside a bzImage.
import { basename } from "node:path";

/** A module's name as modprobe spells it: file name without .ko and compression, dashes as underscores. */
export function moduleName(path: string): string {
  return basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, "").replace(/-/g, "_");
}

/** modules.dep as module path -> the paths it depends on. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    deps.set(line.slice(0, i).trim(), line.slice(i + 1).trim().split(/\s+/).filter(Boolean));
  }
  return deps;
}

/** The module paths for ROOTS (by name) and everything they depend on, each dependency before its users. */
export function loadOrder(deps: Map<string, string[]>, roots: string[]): string[] {
  const byName = new Map([...deps.keys()].map((p) => [moduleName(p), p]));
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const d of deps.get(path) ?? []) visit(d);
    order.push(path);
  };
  for (const r of roots) {
    const p = byName.get(r);
    if (p) visit(p);
  }
  return order;
}

/** The decompressor for a bzImage payload, by its magic bytes (arch/x86/boot/compressed's formats). */
const PAYLOADS: { magic: string; argv: string[]; sized: boolean }[] = [
  { magic: "1f8b", argv: ["gzip", "-dc"], sized: false },
  { magic: "fd377a585a00", argv: ["xz", "-dc"], sized: true },
  { magic: "28b52ffd", argv: ["zstd", "-dc"], sized: true },
  { magic: "02214c18", argv: ["lz4", "-dc"], sized: true },
];

/**
 * The compressed vmlinux inside a bzImage, and how to decompress it: the boot protocol's
 * payload_offset and payload_length (0x248, 0x24c) after the setup sectors. Every format but gzip
 * ends with 4 bytes of the uncompressed size that the decompressor must not see.
 */
export function bzImagePayload(image: Buffer): { data: Buffer; argv: string[] } {
  if (image.length < 0x250 || image.readUInt32LE(0x202) !== 0x53726448) throw new Error("not a bzImage (no HdrS boot header)");
  const setupSectors = image[0x1f1] || 4;
  const start = (setupSectors + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  const data = image.subarray(start, start + length);
  const kind = PAYLOADS.find((p) => data.subarray(0, p.magic.length / 2).toString("hex") === p.magic);
  if (!kind) throw new Error(`the bzImage's payload is in no format xdp-lab knows (it starts ${data.subarray(0, 6).toString("hex")})`);
  return { data: kind.sized ? data.subarray(0, data.length - 4) : data, argv: kind.argv };
}
