// Moving cache entries between machines: `cache export` writes chosen entries and the sha256 of
// every file into one archive; `cache import` takes an entry in only when every file matches.
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Cache } from "./cache.ts";
import { hashInputs } from "./hash.ts";
import { tarCreate, tarExtract } from "../tools/tar.ts";
import { pullFile, pushFile, type Engine } from "../tools/podman.ts";

const INDEX = "xdp-lab-cache.json";
const SCHEMA = "xdp-lab-cache/1";

interface ArchiveIndex {
  schema: typeof SCHEMA;
  entries: { stage: string; key: string; files: Record<string, string> }[];
}

/** The entries to export: each (stage, key) asked for, or the most recently used entry of each stage asked for. */
export async function exportEntries(cache: Cache, archive: string, wanted: { stage: string; key?: string }[]): Promise<{ stage: string; key: string }[]> {
  const all = await cache.entries();
  const picked = wanted.map((w) => {
    const e = all.find((x) => x.stage === w.stage && (w.key === undefined || x.key === w.key));
    if (!e) throw new Error(`No cache entry for ${w.stage}${w.key ? ` with key ${w.key}` : ""} in ${cache.root}. Fix: build it first (./xdp-lab build ${w.stage}), or see ./xdp-lab cache ls`);
    return e;
  });
  const index: ArchiveIndex = { schema: SCHEMA, entries: [] };
  for (const e of picked) {
    const { files } = await hashInputs(join(cache.root, "stages"), [`${e.stage}/${e.key}`]);
    index.entries.push({ stage: e.stage, key: e.key, files });
  }
  const staging = await cache.scratch("export");
  try {
    await writeFile(join(staging, INDEX), JSON.stringify(index, null, 2) + "\n");
    await tarCreate(archive, [[staging, INDEX], ...picked.map((e): [string, string] => [join(cache.root, "stages"), `${e.stage}/${e.key}`])]);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return picked.map(({ stage, key }) => ({ stage, key }));
}

/**
 * Imports every entry of ARCHIVE: unpacked beside the cache, each file checked against the
 * archive's sha256 list (no file missing, none extra), each entry's own record naming its stage and
 * key, then moved in whole. Throws, importing nothing, when any check fails.
 */
export async function importEntries(cache: Cache, archive: string): Promise<{ stage: string; key: string; replaced: boolean }[]> {
  if (!existsSync(archive)) throw new Error(`Cache archive ${archive} does not exist. Fix: pass a file written by ./xdp-lab cache export`);
  const staging = await cache.scratch("import");
  try {
    await tarExtract(archive, staging);
    let index: ArchiveIndex;
    try {
      index = JSON.parse(await readFile(join(staging, INDEX), "utf8")) as ArchiveIndex;
    } catch {
      throw new Error(`${archive} is not an xdp-lab cache archive (no ${INDEX}). Fix: pass a file written by ./xdp-lab cache export`);
    }
    if (index.schema !== SCHEMA || !Array.isArray(index.entries)) throw new Error(`${archive} is not an xdp-lab cache archive of schema ${SCHEMA}`);
    for (const e of index.entries) {
      if (!/^[a-z]+$/.test(e.stage) || !/^[0-9a-f]{64}$/.test(e.key)) throw new Error(`${archive} names a bad entry ${JSON.stringify(`${e.stage}/${e.key}`)}; refused`);
      const dir = join(staging, e.stage, e.key);
      if (!existsSync(dir)) throw new Error(`${archive} lists ${e.stage}/${e.key} but does not hold it; refused`);
      const { files } = await hashInputs(staging, [`${e.stage}/${e.key}`]);
      const bad = [...new Set([...Object.keys(files), ...Object.keys(e.files)])].filter((f) => files[f] !== e.files[f]).sort();
      if (bad.length) {
        throw new Error(
          `${archive} is corrupt: ${bad.length} file(s) of ${e.stage}/${e.key.slice(0, 12)} do not match their sha256 (${bad.slice(0, 3).join(", ")}${bad.length > 3 ? ", ..." : ""}); nothing imported. Fix: export it again`,
        );
      }
      const meta = JSON.parse(await readFile(join(dir, "xdp-lab-entry.json"), "utf8").catch(() => "{}")) as { stage?: string; key?: string };
      if (meta.stage !== e.stage || meta.key !== e.key) throw new Error(`${archive}: entry ${e.stage}/${e.key.slice(0, 12)} records stage ${meta.stage} key ${meta.key}; refused`);
    }
    const done: { stage: string; key: string; replaced: boolean }[] = [];
    for (const e of index.entries) {
      const target = cache.entryDir(e.stage, e.key);
      const replaced = existsSync(target);
      await mkdir(join(cache.root, "stages", e.stage), { recursive: true });
      if (replaced) await rm(target, { recursive: true, force: true });
      await rename(join(staging, e.stage, e.key), target);
      done.push({ stage: e.stage, key: e.key, replaced });
    }
    return done;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Exports the entries and pushes the archive to an OCI registry as REF (`cache push`). */
export async function pushEntries(cache: Cache, engine: Engine, ref: string, wanted: { stage: string; key?: string }[], insecure: boolean): Promise<{ stage: string; key: string }[]> {
  const staging = await cache.scratch("push");
  try {
    const archive = join(staging, "entries.tar.gz");
    const done = await exportEntries(cache, archive, wanted);
    await pushFile(engine, archive, ref, insecure);
    return done;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Pulls REF from an OCI registry and imports its entries, verified as `cache import` does (`cache pull`). */
export async function pullEntries(cache: Cache, engine: Engine, ref: string, insecure: boolean): Promise<{ stage: string; key: string; replaced: boolean }[]> {
  const staging = await cache.scratch("pull");
  try {
    const archive = join(staging, "entries.tar.gz");
    await pullFile(engine, ref, archive, insecure);
    return await importEntries(cache, archive);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
