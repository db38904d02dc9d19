// `xdp-lab cache ls|prune`: what the build cache holds, and removing what is no longer used.
import { resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { defaultCacheDir } from "../build/cache.ts";

export const command = "cache <action>";
export const describe = "List (ls) or prune the build cache";

export function builder(y: Argv) {
  return y
    .positional("action", { choices: ["ls", "prune"] as const, demandOption: true })
    .option("cache-dir", { type: "string", default: defaultCacheDir(), describe: "build cache" })
    .option("keep", { type: "number", default: 2, describe: "prune: entries to keep per stage, most recently used first" })
    .option("all", { type: "boolean", default: false, describe: "prune: remove everything, kernel work trees and ccache included" })
    .option("json", { type: "boolean", default: false, describe: "ls: print JSON" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

export async function handler(argv: Args): Promise<void> {
  const { Cache } = await import("../build/cache.ts");
  const cache = new Cache(resolve(argv.cacheDir));
  if (argv.action === "ls") {
    const entries = await cache.list();
    if (argv.json) {
      process.stdout.write(JSON.stringify(entries.map(({ stage, key, bytes, created, lastUsed, dir }) => ({ stage, key, bytes, created, lastUsed, dir })), null, 2) + "\n");
      return;
    }
    if (entries.length === 0) process.stdout.write(`cache ${cache.root} is empty\n`);
    for (const e of entries) {
      process.stdout.write(`${e.stage.padEnd(8)} ${e.key.slice(0, 16)}  ${mib(e.bytes).padStart(10)}  built ${e.created}  used ${e.lastUsed.toISOString()}\n`);
    }
    return;
  }
  if (!Number.isInteger(argv.keep) || argv.keep < 0) throw new Error(`--keep ${argv.keep} is not a count: pass a whole number, 0 or more`);
  const removed = await cache.prune({ keep: argv.keep, all: argv.all });
  process.stdout.write(removed.length ? removed.map((d) => `removed ${d}\n`).join("") : "nothing to prune\n");
}
