// `xdp-lab epochs`: each stage's SOURCE_DATE_EPOCH (the last commit that touched its inputs), as
// JSON, for builds that have no git history of their own: `dagger call build --epochs=...`.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { STAGES } from "../build/stages.ts";
import { lastCommitTime } from "../tools/git.ts";
import { REPO } from "../paths.ts";

export const command = "epochs";
export const describe = "Print each stage's SOURCE_DATE_EPOCH as JSON (what the Dagger build needs to match the host build)";

export function builder(y: Argv) {
  return y;
}

/** SOURCE_DATE_EPOCH of every stage, as the host executor computes it. */
export async function stageEpochs(repo = REPO): Promise<Record<string, number>> {
  const epochs: Record<string, number> = {};
  for (const s of STAGES) epochs[s.name] = await lastCommitTime(repo, s.inputs);
  return epochs;
}

export async function handler(_argv: ArgumentsCamelCase): Promise<void> {
  process.stdout.write(JSON.stringify(await stageEpochs()) + "\n");
}
