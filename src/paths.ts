// Where the checkout is and where outputs go by default.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout root: stages run their commands from here. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Default output directory: out/ in the checkout. */
export const DEFAULT_OUT = join(REPO, "out");
