// The Dagger build, as data: the container steps of each stage come from src/build/steps.ts (the
// same list `xdp-lab build --container` replays with podman); this file adds what only the Dagger
// module needs: the base image, epochs from the CLI, and out/'s manifest. Pure, with no import of
// the Dagger SDK, so the tests record the steps on a fake container.
import { STAGES, type StageName } from "../../src/build/stages.ts";
import type { Manifest } from "../../src/build/manifest.ts";
export { CACHE_VOLUMES, CONTAINER, applySteps, containerPaths, stageSteps, type ContainerLike, type Step, type StepInputs } from "../../src/build/steps.ts";

/**
 * Debian bookworm pinned by digest. The digest is the one pinned for `debian:bookworm` in public
 * Dockerfiles found with this project's code search (2026-11-23); no container engine runs on this
 * project's machines, so it was not pulled here. Refresh it with
 * `docker buildx imagetools inspect debian:bookworm` and keep the tag for readers.
 */
export const BASE_IMAGE = "debian:bookworm@sha256:8a8cd02c5912770b4980228a54d4aff9e4f986f1eb2525d2d371dec5232cefcc";

/** Each stage's SOURCE_DATE_EPOCH from `xdp-lab epochs` (JSON); a stage not named gets 0. */
export function parseEpochs(json: string): Record<StageName, number> {
  let given: unknown;
  try {
    given = JSON.parse(json || "{}");
  } catch (error) {
    throw new Error(`--epochs is not JSON (${(error as Error).message}). Fix: pass --epochs="$(./xdp-lab epochs)"`, { cause: error });
  }
  if (typeof given !== "object" || given === null || Array.isArray(given)) throw new Error('--epochs must be a JSON object like {"kernel": 1700000000}. Fix: pass --epochs="$(./xdp-lab epochs)"');
  const epochs = Object.fromEntries(STAGES.map((s) => [s.name, 0])) as Record<StageName, number>;
  for (const [k, v] of Object.entries(given)) {
    if (!(k in epochs)) throw new Error(`--epochs names an unknown stage "${k}". Fix: use the stages of ./xdp-lab epochs: ${STAGES.map((s) => s.name).join(", ")}`);
    if (!Number.isInteger(v) || (v as number) < 0) throw new Error(`--epochs: ${k} must be a whole number of seconds, not ${JSON.stringify(v)}`);
    epochs[k as StageName] = v as number;
  }
  return epochs;
}

/** The artifacts `build` publishes, in out/'s layout: each stage's, as the host executor publishes them. */
export function publishedArtifacts(): { name: string; stage: StageName }[] {
  return STAGES.flatMap((s) => s.artifacts.map((name) => ({ name, stage: s.name })));
}

/** Prints "sha256 bytes name" for each file of the current directory; parsed by manifestFromListing. */
export const LISTING_SCRIPT = 'for f in *; do printf "%s %s %s\\n" "$(sha256sum <"$f" | cut -d" " -f1)" "$(stat -c %s "$f")" "$f"; done';

/**
 * out/manifest.json of a Dagger build: the artifacts as the host executor lists them (what
 * `xdp-lab build --verify` compares); stage records say which executor and image built them.
 */
export function manifestFromListing(listing: string, epochs: Record<StageName, number>): Manifest {
  const stageOf = new Map(publishedArtifacts().map((a) => [a.name, a.stage]));
  const artifacts: Manifest["artifacts"] = {};
  const rows = listing.split("\n").filter(Boolean).map((l) => l.split(" "));
  for (const [sha256, bytes, name] of rows.sort((a, b) => a[2]!.localeCompare(b[2]!))) {
    const stage = stageOf.get(name!);
    if (!stage) continue;
    artifacts[name!] = { sha256: sha256!, bytes: Number(bytes), stage };
  }
  const missing = [...stageOf.keys()].filter((n) => !(n in artifacts));
  if (missing.length) throw new Error(`The Dagger build lacks ${missing.join(", ")}`);
  const stages: Manifest["stages"] = {};
  for (const s of STAGES) {
    stages[s.name] = { key: `dagger:${s.name}`, sourceDateEpoch: epochs[s.name], inputs: {}, identity: { executor: "dagger", image: BASE_IMAGE } };
  }
  return { schema: 1, artifacts, stages };
}
