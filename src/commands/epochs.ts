// `xdp-lab epochs`: each stage's SOURCE_DATE_EPOCH (the last commit that touched its inputs), as
// JSON, for builds that have no git history of their own: `dagger call build --epochs=...`.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { STAGES } from "../build/stages.ts";
import { stageEpochs } from "../build/epochs.ts";
import { REPO } from "../paths.ts";

export const command = "epochs";
export const describe = "Print each stage's SOURCE_DATE_EPOCH as JSON (what the Dagger build needs to match the host build)";

export function builder(y: Argv) {
  return y;
}

export async function handler(_argv: ArgumentsCamelCase): Promise<void> {
  process.stdout.write(JSON.stringify(await stageEpochs(REPO, STAGES)) + "\n");
}
