// What a bzImage says about itself: the kernel version string its boot header points at (the
// x86 boot protocol's kernel_version field), read without booting it.
import { openSync, readSync, closeSync } from "node:fs";

/** The version string of a bzImage (`6.1.0 (root@...) #1 SMP ...`), or undefined when FILE is not one. */
export function bzImageVersion(file: string): string | undefined {
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(0x210);
    readSync(fd, head, 0, head.length, 0);
    // "HdrS" at 0x202 marks the boot protocol; kernel_version (0x20e) is an offset from 0x200.
    if (head.toString("latin1", 0x202, 0x206) !== "HdrS") return undefined;
    const at = head.readUInt16LE(0x20e) + 0x200;
    const text = Buffer.alloc(256);
    readSync(fd, text, 0, text.length, at);
    const end = text.indexOf(0);
    return text.toString("latin1", 0, end < 0 ? text.length : end) || undefined;
  } finally {
    closeSync(fd);
  }
}

/** The release (uname -r) of a bzImage: its version string's first word. */
export function bzImageRelease(file: string): string | undefined {
  return bzImageVersion(file)?.split(" ")[0];
}
