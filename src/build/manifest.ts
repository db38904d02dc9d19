// out/manifest.json: every artifact's sha256 and each stage's inputs, and comparing two manifests.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { sha256File } from "./hash.ts";

export interface StageRecord {
  key: string;
  sourceDateEpoch: number;
  /** Hash of each input file, `mode:sha256`. */
  inputs: Record<string, string>;
  /** Other key material: toolchain versions, package versions, kernel source identity. */
  identity: Record<string, string>;
}

export interface Manifest {
  schema: 1;
  artifacts: Record<string, { sha256: string; bytes: number; stage: string }>;
  stages: Record<string, StageRecord>;
}

/** Builds the manifest from the published artifacts; no time or path goes in, so equal builds give equal files. */
export async function makeManifest(
  out: string,
  artifacts: { name: string; stage: string }[],
  stages: Record<string, StageRecord>,
): Promise<Manifest> {
  const list: Manifest["artifacts"] = {};
  for (const a of [...artifacts].sort((x, y) => x.name.localeCompare(y.name))) {
    const file = join(out, a.name);
    list[a.name] = { sha256: await sha256File(file), bytes: (await stat(file)).size, stage: a.stage };
  }
  return { schema: 1, artifacts: list, stages };
}

export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`Cannot read manifest ${path}: ${(error as Error).message}. Fix: pass the manifest.json of a finished build`, {
      cause: error,
    });
  }
  try {
    const m = JSON.parse(text) as Manifest;
    if (m.schema !== 1 || typeof m.artifacts !== "object") throw new Error("not an xdp-lab manifest (schema 1)");
    return m;
  } catch (error) {
    throw new Error(`Manifest ${path} is not valid: ${(error as Error).message}. Fix: pass out/manifest.json of an xdp-lab build`, {
      cause: error,
    });
  }
}

export interface Difference {
  artifact: string;
  status: "same" | "differs" | "only-here" | "only-there";
  here?: string;
  there?: string;
}

/** Compares artifacts by sha256: which are the same, which differ, which only one build has. */
export function compareManifests(here: Manifest, there: Manifest): Difference[] {
  const names = [...new Set([...Object.keys(here.artifacts), ...Object.keys(there.artifacts)])].sort();
  return names.map((artifact) => {
    const a = here.artifacts[artifact]?.sha256;
    const b = there.artifacts[artifact]?.sha256;
    const status = !a ? "only-there" : !b ? "only-here" : a === b ? "same" : "differs";
    return { artifact, status, here: a, there: b };
  });
}
