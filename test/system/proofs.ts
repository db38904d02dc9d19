// Expensive proofs (a cold container build identical to the host's) are re-proven only when one of
// their inputs changed: a passed proof is recorded under the key of its inputs, like a build cache
// entry, and a later run with the same key takes the record instead, saying from which run.
// XDP_LAB_REPROVE=1 ignores the records. A fresh machine has none, so it proves everything.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { defaultCacheDir } from "../../src/build/cache.ts";
import { REPO } from "../../src/paths.ts";

/** A passed proof: what it was proven from, by which run, and what it saw. */
export interface ProofRecord<E = unknown> {
  proof: string;
  key: string;
  inputs: Record<string, string>;
  /** The run that proved it (test/runner.ts names each run by its start and commit). */
  run: string;
  proved: string;
  evidence: E;
}

/** Where the records are kept: beside the build cache's entries. */
export function proofDir(root = defaultCacheDir()): string {
  return join(root, "proofs");
}

/** The key of INPUTS: the same inputs in any order give the same key. */
export function proofKey(inputs: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(inputs).sort(([a], [b]) => a.localeCompare(b)));
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/** One digest of the files under PATHS (files or directories, relative to the checkout), by path and content. */
export function filesDigest(paths: string[], repo = REPO): string {
  const h = createHash("sha256");
  const walk = (p: string): string[] => (statSync(p).isDirectory() ? readdirSync(p).sort().flatMap((c) => walk(join(p, c))) : [p]);
  for (const file of paths.flatMap((p) => walk(join(repo, p)))) {
    h.update(relative(repo, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return h.digest("hex");
}

/** The names of the inputs whose values differ between A and B, or that only one has. */
export function changedInputs(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
}

/**
 * The record of proof NAME for INPUTS, when one passed before and reproving was not asked for.
 * Either way it prints one `proof NAME: ...` line, which test/runner.ts collects into its table:
 * taken from which run, or proving now and why (no record, or which inputs changed since the last).
 */
export async function takeProof<E>(name: string, inputs: Record<string, string>, root = defaultCacheDir()): Promise<ProofRecord<E> | undefined> {
  const key = proofKey(inputs);
  const dir = join(proofDir(root), name);
  const say = (s: string) => console.log(`proof ${name}: ${s}`);
  if (process.env.XDP_LAB_REPROVE === "1") {
    say(`proving (XDP_LAB_REPROVE=1), key ${key.slice(0, 12)}`);
    return undefined;
  }
  const file = join(dir, `${key}.json`);
  if (existsSync(file)) {
    const rec = JSON.parse(await readFile(file, "utf8")) as ProofRecord<E>;
    if (rec.key === key) {
      say(`taken from the record of run ${rec.run} (proved ${rec.proved}), key ${key.slice(0, 12)}`);
      return rec;
    }
  }
  const last = await newest<E>(dir);
  say(
    last
      ? `proving: inputs changed since run ${last.run} (${changedInputs(last.inputs, inputs).join(", ")}), key ${key.slice(0, 12)}`
      : `proving: no record on this machine, key ${key.slice(0, 12)}`,
  );
  return undefined;
}

/** Records that proof NAME passed for INPUTS, with what it saw; written whole or not at all. */
export async function recordProof<E>(name: string, inputs: Record<string, string>, evidence: E, root = defaultCacheDir()): Promise<ProofRecord<E>> {
  const key = proofKey(inputs);
  const dir = join(proofDir(root), name);
  await mkdir(dir, { recursive: true });
  const now = new Date().toISOString();
  const rec: ProofRecord<E> = { proof: name, key, inputs, run: process.env.XDP_LAB_TEST_RUN ?? `${now} (outside test/runner.ts)`, proved: now, evidence };
  const tmp = join(dir, `.${key}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify(rec, null, 2) + "\n");
  await rename(tmp, join(dir, `${key}.json`));
  console.log(`proof ${name}: proved and recorded, key ${key.slice(0, 12)}`);
  return rec;
}

async function newest<E>(dir: string): Promise<ProofRecord<E> | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const recs = await Promise.all(names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map(async (n) => JSON.parse(await readFile(join(dir, n), "utf8")) as ProofRecord<E>));
  return recs.sort((a, b) => b.proved.localeCompare(a.proved))[0];
}
