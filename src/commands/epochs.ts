// `xdp-lab epochs`: each stage's SOURCE_DATE_EPOCH (the last commit that touched its inputs), as
// JSON, for builds that have no git history of their own: `dagger call build --epochs=...`.
import type { ArgumentsCamelCase, Argv } from "yargs";
import { REPO } from "../paths.ts";

export const command = "epochs";
export const describe = "Print each stage's SOURCE_DATE_EPOCH as JSON (what the Dagger build needs to match the host build)";

export function builder(y: Argv) {
  return y;
}

export async function handler(_argv: ArgumentsCamelCase): Promise<void> {
  const [{ STAGES }, { stageEpochs }] = await Promise.all([import("../build/stages.ts"), import("../build/epochs.ts")]);
  process.stdout.write(JSON.stringify(await stageEpochs(REPO, STAGES)) + "\n");
}
