// Objects a loader must refuse, for the tests of atomic replace: one the verifier rejects
// (test/fixtures/unbounded.bpf.c reads the packet without a bounds check) and 5 kB of random bytes.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { REPO } from "../../src/paths.ts";

/** Compiles the verifier-rejected fixture with clang and writes the random file into DIR. */
export async function badObjects(dir: string): Promise<{ unbounded: string; random: string }> {
  const unbounded = join(dir, "unbounded.bpf.o");
  const random = join(dir, "random.bpf.o");
  await execa("clang", ["-g", "-O2", "-target", "bpf", "-I/usr/include/x86_64-linux-gnu", "-c", join(REPO, "test/fixtures/unbounded.bpf.c"), "-o", unbounded]);
  await writeFile(random, randomBytes(5000));
  return { unbounded, random };
}
