// Whether a file is a BPF object (its 20-byte ELF header) and which programs it holds in which
// sections (readelf): load and xdp-lab test check them on the host, before anything is copied into
// the VM or a lab boots, so a wrong file, program or section is named as the user gave it.
import { open } from "node:fs/promises";
import { sectionsAndSymbols } from "../src/tools/readelf.ts";

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

/** A program of a BPF object: its function's name and the ELF section it is in (libbpf's SEC()). */
export interface BpfProgram {
  name: string;
  section: string;
}

/**
 * The programs of a BPF object from `readelf -W -S -s` (GNU binutils): as libbpf finds them, each
 * function symbol in an executable section other than .text (whose functions are subprograms).
 */
export function parsePrograms(readelf: string): BpfProgram[] {
  const sections = new Map<number, { name: string; exec: boolean }>();
  const programs: BpfProgram[] = [];
  for (const line of readelf.split("\n")) {
    // "  [ 3] tc    PROGBITS    0000000000000000 000040 000090 00  AX  0   0  8": the flags may be empty.
    const s = /^\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]{16}\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+([A-Za-z]*)\s+\d+\s+\d+\s+\d+\s*$/.exec(line);
    if (s) {
      sections.set(Number(s[1]), { name: s[2]!, exec: s[3]!.includes("X") });
      continue;
    }
    // "     3: 0000000000000000   144 FUNC    GLOBAL DEFAULT    3 tc_count"
    const f = /^\s*\d+:\s+[0-9a-f]+\s+\d+\s+FUNC\s+\S+\s+\S+\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (f) {
      const sec = sections.get(Number(f[1]));
      if (sec?.exec && sec.name !== ".text") programs.push({ name: f[2]!, section: sec.name });
    }
  }
  return programs;
}

/** The object's programs, read by readelf (GNU binutils); throws naming PATH when it cannot. */
export async function bpfPrograms(path: string): Promise<BpfProgram[]> {
  return parsePrograms(await sectionsAndSymbols(path));
}

/** The sections libbpf 1.x takes for an XDP program (its section_defs): exactly these names. */
export const XDP_SECTIONS = ["xdp", "xdp.frags", "xdp/devmap", "xdp.frags/devmap", "xdp/cpumap", "xdp.frags/cpumap"] as const;

/** True for a section libbpf 1.x makes an XDP program of. */
export const isXdpSection = (section: string): boolean => (XDP_SECTIONS as readonly string[]).includes(section);

/**
 * Why libbpf 1.x refuses a program in SECTION, or undefined when it does not refuse it for its
 * name: an XDP section of libbpf 0.x's days (`xdp_foo`, `xdp/foo`), which 1.0 dropped.
 */
export function oldSectionProblem(p: BpfProgram): string | undefined {
  if (!p.section.startsWith("xdp") || isXdpSection(p.section)) return undefined;
  return `program ${p.name} is in section "${p.section}", a name libbpf 1.x no longer takes (it fails the load: "missing BPF prog type, check ELF section name '${p.section}'"). Fix: SEC("xdp") in its source (SEC("xdp.frags") if it takes multi-buffer frames), and compile it again`;
}

const listed = (programs: BpfProgram[]): string => (programs.length ? programs.map((p) => `${p.name} (section ${p.section})`).join(", ") : "no programs");

/**
 * What keeps OBJECT's PROGRAMS from being attached at HOOK as a test's setup names it (PROGRAM, by
 * name or section, else the first XDP program; tc loads every program of the object), each with
 * the field it is about; empty when nothing does. The app and tc would say the same, after a boot.
 */
export function programProblems(object: string, programs: BpfProgram[], hook: "xdp" | "tc", program?: string): { field: "program" | "object"; message: string }[] {
  const named = program === undefined ? undefined : programs.filter((p) => p.name === program || p.section === program);
  if (named && named.length === 0) return [{ field: "program", message: `${object} has no program or section named '${program}': it has ${listed(programs)}` }];
  if (hook === "tc") {
    // bpftool loads every program of the object, so one with an old name fails them all.
    return programs.flatMap((p) => oldSectionProblem(p) ?? []).map((message) => ({ field: "object" as const, message: `${object}: ${message}` }));
  }
  const chosen = named ? named[0] : (programs.find((p) => isXdpSection(p.section)) ?? programs.find((p) => oldSectionProblem(p)));
  if (!chosen) return [{ field: "object", message: `${object} has no XDP program: it has ${listed(programs)}. Fix: name one with program:, or attach a tc program with hook: tc-ingress or tc-egress` }];
  const old = oldSectionProblem(chosen);
  return old ? [{ field: named ? "program" : "object", message: `${object}: ${old}` }] : [];
}
