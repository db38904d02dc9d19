// A newc cpio writer for the lab's small initramfs overlay (per-lab keys and configuration). The
// kernel unpacks concatenated archives in order, so the overlay appended to the build's
// initramfs.img adds and replaces files without rebuilding the image.
import { gzipSync } from "node:zlib";

export interface CpioEntry {
  /** Path inside the archive, without a leading slash. */
  path: string;
  /** Directory when content is undefined. */
  content?: Buffer | string;
  /** Permission bits, e.g. 0o600. */
  mode: number;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

function pad4(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}

function header(ino: number, mode: number, size: number, name: string, nlink: number): Buffer {
  const field = (v: number): string => v.toString(16).padStart(8, "0");
  const fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, 0, 0, name.length + 1, 0];
  return Buffer.from("070701" + fields.map(field).join(""), "ascii");
}

function record(ino: number, mode: number, name: string, data: Buffer, nlink: number): Buffer {
  const head = Buffer.concat([header(ino, mode, data.length, name, nlink), Buffer.from(name + "\0", "ascii")]);
  return Buffer.concat([head, pad4(head.length), data, pad4(data.length)]);
}

/** An uncompressed newc archive: entries in the order given (parents first), owner 0:0, mtime 0. */
export function cpio(entries: CpioEntry[]): Buffer {
  const parts = entries.map((e, i) => {
    const path = e.path.replace(/^\/+/, "");
    if (!path) throw new Error("cpio: empty path");
    return e.content === undefined
      ? record(i + 1, S_IFDIR | e.mode, path, Buffer.alloc(0), 2)
      : record(i + 1, S_IFREG | e.mode, path, Buffer.from(e.content), 1);
  });
  return Buffer.concat([...parts, record(0, 0, "TRAILER!!!", Buffer.alloc(0), 1)]);
}

/** The base initramfs followed by the overlay, gzip'd, each archive starting on a 4-byte boundary. */
export function appendOverlay(base: Buffer, entries: CpioEntry[]): Buffer {
  return Buffer.concat([base, pad4(base.length), gzipSync(cpio(entries))]);
}
