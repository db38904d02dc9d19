// Whether a file is a BPF object, from its 20-byte ELF header alone: load checks it on the host,
// before it copies the file into the VM, so a wrong file is named as the user gave it.
import { open } from "node:fs/promises";

/** e_machine of a BPF object (elf.h: EM_BPF). */
export const EM_BPF = 247;

/** The bytes the check reads: e_ident (16), e_type (2), e_machine (2). */
export const ELF_HEADER_BYTES = 20;

// Machines a wrong object is most likely built for, named in the message (elf.h).
const MACHINES: Record<number, string> = { 3: "x86", 40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V" };

/**
 * What keeps HEADER (a file's first bytes, up to 20) from being a BPF object the lab's x86-64 VM can
 * load (ELF magic, 64-bit, little-endian, e_machine EM_BPF), or undefined when nothing does.
 */
export function bpfHeaderProblem(header: Uint8Array): string | undefined {
  const h = header;
  if (h.length < 4 || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) return "it does not start with ELF's magic bytes, 7f 45 4c 46";
  if (h.length < ELF_HEADER_BYTES) return `its ELF header is cut short at ${h.length} bytes`;
  if (h[4] !== 2) return h[4] === 1 ? "a 32-bit ELF file, and BPF objects are 64-bit" : `ELF class ${h[4]}, and BPF objects are 64-bit (class 2)`;
  if (h[5] !== 1 && h[5] !== 2) return `ELF data encoding ${h[5]}, neither little- nor big-endian`;
  const machine = h[5] === 1 ? h[18]! | (h[19]! << 8) : (h[18]! << 8) | h[19]!;
  if (machine !== EM_BPF) return `an ELF file for machine ${machine}${MACHINES[machine] ? ` (${MACHINES[machine]})` : ""}, not BPF (${EM_BPF})`;
  if (h[5] === 2) return "a big-endian BPF object (clang -target bpfeb), and the VM is little-endian";
  return undefined;
}

/** Throws, naming PATH as given, unless it is a BPF object (bpfHeaderProblem); reads 20 bytes. */
export async function checkBpfObject(path: string): Promise<void> {
  let header: Uint8Array;
  try {
    const f = await open(path, "r");
    try {
      const buf = Buffer.alloc(ELF_HEADER_BYTES);
      const { bytesRead } = await f.read(buf, 0, ELF_HEADER_BYTES, 0);
      header = buf.subarray(0, bytesRead);
    } finally {
      await f.close();
    }
  } catch (e) {
    throw new Error(`Failed to read ${path}: ${(e as Error).message}. Fix: give the path of a .bpf.o file`, { cause: e });
  }
  const problem = bpfHeaderProblem(header);
  if (problem) {
    throw new Error(`${path}: not a BPF ELF object (${problem}). Fix: give an object compiled with clang -target bpf (clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o), such as out/drop.bpf.o (./xdp-lab build bpf)`);
  }
}
