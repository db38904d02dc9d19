// load's host-side check that a file is a BPF object (ELF magic, 64-bit, little-endian, EM_BPF), before
// anything is copied into the VM, with the user's path and the fix in the message.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { bpfHeaderProblem, checkBpfObject, EM_BPF } from "../../network/bpf-object.ts";
import { load, loadFailure } from "../../network/app-client.ts";
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

t.run();
