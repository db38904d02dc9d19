// load's host-side check that a file is a BPF object (ELF magic, 64-bit, little-endian, EM_BPF), before
// anything is copied into the VM, with the user's path and the fix in the message.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { bpfHeaderProblem, checkBpfObject, EM_BPF, oldSectionProblem, parsePrograms, programProblems } from "../../network/bpf-object.ts";
import { load, loadFailure } from "../../network/app-client.ts";
import { sectionsAndSymbolsArgs } from "../../src/tools/readelf.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("network/bpf-object");

t.after(cleanup);

/** A 64-byte ELF header: CLASS (2: 64-bit), DATA (1: little-endian) and MACHINE in that encoding, e_type REL. */
function elf(o: { cls?: number; data?: number; machine?: number } = {}): Buffer {
  const h = Buffer.alloc(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, o.cls ?? 2, o.data ?? 1, 1]);
  const le = (o.data ?? 1) === 1;
  if (le) {
    h.writeUInt16LE(1, 16);
    h.writeUInt16LE(o.machine ?? EM_BPF, 18);
  } else {
    h.writeUInt16BE(1, 16);
    h.writeUInt16BE(o.machine ?? EM_BPF, 18);
  }
  return h;
}

t("bpfHeaderProblem: a 64-bit little-endian EM_BPF header passes; anything else says what it is", () => {
  assert.is(bpfHeaderProblem(elf()), undefined);
  assert.is(bpfHeaderProblem(elf().subarray(0, 20)), undefined, "20 bytes are enough");
  assert.is(bpfHeaderProblem(Buffer.from("root:x:0:0:root:/root:/bin/bash\n")), "it does not start with ELF's magic bytes, 7f 45 4c 46");
  assert.is(bpfHeaderProblem(Buffer.alloc(0)), "it does not start with ELF's magic bytes, 7f 45 4c 46");
  assert.is(bpfHeaderProblem(elf().subarray(0, 10)), "its ELF header is cut short at 10 bytes");
  assert.is(bpfHeaderProblem(elf({ cls: 1 })), "a 32-bit ELF file, and BPF objects are 64-bit");
  assert.is(bpfHeaderProblem(elf({ machine: 62 })), "an ELF file for machine 62 (x86-64), not BPF (247)");
  assert.is(bpfHeaderProblem(elf({ machine: 9999 })), "an ELF file for machine 9999, not BPF (247)");
  assert.is(bpfHeaderProblem(elf({ data: 2 })), "a big-endian BPF object (clang -target bpfeb), and the VM is little-endian");
  // 247 read in the wrong byte order would be 0xf700: the encoding decides.
  assert.is(bpfHeaderProblem(elf({ data: 2, machine: 0xf700 })), "an ELF file for machine 63232, not BPF (247)");
});

t("checkBpfObject: a text file and this machine's own executable are refused by the path given, with the fix; a BPF header passes", async () => {
  const dir = await tempDir();
  const passwd = join(dir, "passwd");
  await writeFile(passwd, "root:x:0:0:root:/root:/bin/bash\n");
  const given = relative(process.cwd(), passwd);
  const e = await failure(checkBpfObject(given));
  assert.is(
    e.message,
    `${given}: not a BPF ELF object (it does not start with ELF's magic bytes, 7f 45 4c 46). Fix: give an object compiled with clang -target bpf (clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o), such as out/drop.bpf.o (./xdp-lab build bpf)`,
  );
  assert.match((await failure(checkBpfObject(process.execPath))).message, /: not a BPF ELF object \(an ELF file for machine \d+ \(/);
  assert.match((await failure(checkBpfObject(dir))).message, new RegExp(`^Failed to read ${dir}: .*EISDIR`));
  const ok = join(dir, "ok.bpf.o");
  await writeFile(ok, elf());
  await checkBpfObject(ok);
});

t("load refuses a file that is not a BPF object on the host, naming the user's path, before it looks for the lab or copies anything", async () => {
  const dir = await tempDir();
  const passwd = join(dir, "passwd");
  await writeFile(passwd, "root:x:0:0:root:/root:/bin/bash\n");
  const e = await failure(load("no-such-lab-26", passwd, { iface: "lan", mode: "native" }));
  assert.ok(e.message.startsWith(`${passwd}: not a BPF ELF object (`), e.message);
  assert.match(e.message, /\. Fix: give an object compiled with clang -target bpf/);
  assert.not.match(e.message, /\/run\/xdp-lab\/obj|not up/);
});

t("the app's refusal names the user's path, not the copy in the VM", () => {
  const said = "Failed to load /run/xdp-lab/obj/unbounded.bpf.o: Permission denied - the verifier said:\n; invalid access to packet";
  assert.is(
    loadFailure("test/unbounded.bpf.o", "/run/xdp-lab/obj/unbounded.bpf.o", "lan0", "native", said),
    "Failed to load test/unbounded.bpf.o on lan0 (native): Failed to load test/unbounded.bpf.o: Permission denied - the verifier said:\n; invalid access to packet",
  );
});

// `readelf -W -S -s` (GNU binutils 2.40) of test/fixtures/three_programs.bpf.c and old_section.bpf.c
// as clang 14 compiles them (lines of the listings that name no program left out).
const THREE = `Section Headers:
  [Nr] Name              Type            Address          Off    Size   ES Flg Lk Inf Al
  [ 0]                   NULL            0000000000000000 000000 000000 00      0   0  0
  [ 1] .strtab           STRTAB          0000000000000000 00224d 000136 00      0   0  1
  [ 2] .text             PROGBITS        0000000000000000 000040 000000 00  AX  0   0  4
  [ 3] tc                PROGBITS        0000000000000000 000040 000068 00  AX  0   0  8
  [ 4] .reltc            REL             0000000000000000 001948 000010 10   I 28   3  8
  [ 5] xdp               PROGBITS        0000000000000000 0000a8 000020 00  AX  0   0  8
  [ 6] .maps             PROGBITS        0000000000000000 0000c8 000020 00  WA  0   0  8
  [ 7] license           PROGBITS        0000000000000000 0000e8 000004 00  WA  0   0  1
  [13] .debug_str_offsets PROGBITS        0000000000000000 000767 00019c 00      0   0  1
  [27] .llvm_addrsig     LOOS+0xfff4c03  0000000000000000 002248 000005 00   E 28   0  1
  [28] .symtab           SYMTAB          0000000000000000 001780 0001c8 18      1  14  8

Symbol table '.symtab' contains 19 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND 
     3: 0000000000000000     0 SECTION LOCAL  DEFAULT    3 tc
    14: 0000000000000000   104 FUNC    GLOBAL DEFAULT    3 tc_hits
    15: 0000000000000000    32 OBJECT  GLOBAL DEFAULT    6 hits
    16: 0000000000000000    16 FUNC    GLOBAL DEFAULT    5 xdp_first
    17: 0000000000000010    16 FUNC    GLOBAL DEFAULT    5 xdp_second
    18: 0000000000000000     4 OBJECT  GLOBAL DEFAULT    7 LICENSE
`;
const OLD = `  [ 2] .text             PROGBITS        0000000000000000 000040 000000 00  AX  0   0  4
  [ 3] xdp_foo           PROGBITS        0000000000000000 000040 000010 00  AX  0   0  8
  [ 4] license           PROGBITS        0000000000000000 000050 000004 00  WA  0   0  1
   Num:    Value          Size Type    Bind   Vis      Ndx Name
    10: 0000000000000000    16 FUNC    GLOBAL DEFAULT    3 xdp_pass_all
`;

t("readelf is asked for the section headers and the symbols, wide", () => {
  assert.equal(sectionsAndSymbolsArgs("/o/x.bpf.o"), ["-W", "-S", "-s", "/o/x.bpf.o"]);
});

t("the programs of an object from readelf's listings: each function in an executable section but .text, with its section", () => {
  assert.equal(parsePrograms(THREE), [
    { name: "tc_hits", section: "tc" },
    { name: "xdp_first", section: "xdp" },
    { name: "xdp_second", section: "xdp" },
  ]);
  assert.equal(parsePrograms(OLD), [{ name: "xdp_pass_all", section: "xdp_foo" }]);
  // A static function in .text is a subprogram, not a program.
  assert.equal(parsePrograms(OLD.replace("3 xdp_pass_all", "2 helper")), []);
});

t("a program the object lacks is named with the programs it has; the first XDP program is the default; tc takes a name or a section", () => {
  const three = parsePrograms(THREE);
  assert.equal(programProblems("/o/three.bpf.o", three, "xdp", "nope"), [
    { field: "program", message: "/o/three.bpf.o has no program or section named 'nope': it has tc_hits (section tc), xdp_first (section xdp), xdp_second (section xdp)" },
  ]);
  assert.equal(programProblems("/o/three.bpf.o", three, "xdp"), []);
  assert.equal(programProblems("/o/three.bpf.o", three, "xdp", "xdp_second"), []);
  assert.equal(programProblems("/o/three.bpf.o", three, "tc", "tc"), []);
  assert.equal(programProblems("/o/three.bpf.o", three, "tc", "tc_hits"), []);
  assert.match(programProblems("/o/tc.bpf.o", [three[0]!], "xdp")[0]!.message, /^\/o\/tc\.bpf\.o has no XDP program: it has tc_hits \(section tc\)\. Fix: name one with program:/);
});

t("an XDP section of libbpf 0.x's days (xdp_foo) is named with the fix, SEC(\"xdp\") or xdp.frags; libbpf 1.x's own sections pass", () => {
  const old = parsePrograms(OLD);
  const want = `program xdp_pass_all is in section "xdp_foo", a name libbpf 1.x no longer takes (it fails the load: "missing BPF prog type, check ELF section name 'xdp_foo'"). Fix: SEC("xdp") in its source (SEC("xdp.frags") if it takes multi-buffer frames), and compile it again`;
  assert.equal(oldSectionProblem(old[0]!), want);
  assert.equal(programProblems("/o/old.bpf.o", old, "xdp"), [{ field: "object", message: `/o/old.bpf.o: ${want}` }]);
  assert.equal(programProblems("/o/old.bpf.o", old, "xdp", "xdp_pass_all"), [{ field: "program", message: `/o/old.bpf.o: ${want}` }]);
  // tc's bpftool loads every program of the object: an old name anywhere fails it.
  assert.equal(programProblems("/o/old.bpf.o", [...parsePrograms(THREE), ...old], "tc", "tc"), [{ field: "object", message: `/o/old.bpf.o: ${want}` }]);
  // Beside an XDP program of a name libbpf takes, the app never loads the old one.
  assert.equal(programProblems("/o/both.bpf.o", [...old, { name: "ok", section: "xdp" }], "xdp"), []);
  for (const section of ["xdp", "xdp.frags", "xdp/devmap", "xdp.frags/cpumap", "tc", "classifier"]) assert.is(oldSectionProblem({ name: "p", section }), undefined, section);
  for (const section of ["xdp_prog", "xdp/foo", "xdp-drop", "xdp.frags/x"]) assert.ok(oldSectionProblem({ name: "p", section }), section);
});

t.run();
