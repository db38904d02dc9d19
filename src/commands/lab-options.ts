// Options every lab command shares.
import type { Argv } from "yargs";
import { DEFAULT_LAB, validateName } from "../../network/plan.ts";

export function withName<T>(y: Argv<T>) {
  return y.option("name", {
    alias: "n",
    type: "string",
    default: DEFAULT_LAB,
    describe: "which lab (several can run side by side)",
    coerce: (n: string) => validateName(n),
  });
}
