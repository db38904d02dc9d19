// Where the checkout is and where outputs go by default.
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The checkout root: stages run their commands from here. This file runs as src/paths.ts (tsx,
 * the Dagger module) or compiled as dist/src/paths.js (the CLI), one level deeper.
 */
export const REPO = resolve(here, import.meta.url.endsWith(".js") && basename(dirname(here)) === "dist" ? "../.." : "..");

/** Default output directory: out/ in the checkout. */
export const DEFAULT_OUT = join(REPO, "out");
