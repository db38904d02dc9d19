// SOURCE_DATE_EPOCH of a stage: the time of the last commit that touched its inputs, so its
// timestamps only move when they do. The host executor uses it for the cache key and the build;
// `xdp-lab epochs` prints it for builds without git history (the Dagger module).
import type { Stage } from "./stages.ts";
import { lastCommitTime } from "../tools/git.ts";

export function stageEpoch(repo: string, stage: Stage): Promise<number> {
  return lastCommitTime(repo, stage.inputs);
}

/** Every stage's SOURCE_DATE_EPOCH, by name. */
export async function stageEpochs(repo: string, table: readonly Stage[]): Promise<Record<string, number>> {
  const epochs: Record<string, number> = {};
  for (const s of table) epochs[s.name] = await stageEpoch(repo, s);
  return epochs;
}
