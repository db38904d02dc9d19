// `xdp-lab cache ls|prune|export|import|push|pull|key`: what the build cache holds, removing what is
// no longer used, moving entries between machines (a file or an OCI registry), a stage's key.
import { resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { defaultCacheDir } from "../build/cache.ts";
import { DEFAULT_PARAMS, STAGE_NAMES, type StageName } from "../build/stages.ts";
import { REPO } from "../paths.ts";

export const command = "cache <action> [args..]";
export const describe = "List (ls), prune, export FILE / push REF [STAGE[=KEY]...|image], import FILE / pull REF, or print the key of a STAGE (or of the build image)";

export function builder(y: Argv) {
  return y
    .positional("action", { choices: ["ls", "prune", "export", "import", "push", "pull", "key"] as const, demandOption: true })
    .positional("args", { type: "string", array: true, describe: "export: FILE then stages (default all) and/or image (the lock's build image); import: FILE; push: REF then stages or image; pull: REF; key: STAGE or image" })
    .option("cache-dir", { type: "string", default: defaultCacheDir(), defaultDescription: "$XDG_CACHE_HOME/xdp-lab, else ~/.cache/xdp-lab", describe: "build cache" })
    .option("keep", { type: "number", default: 2, describe: "prune: entries to keep per stage and kernel version, most recently used first" })
    .option("kernel", { type: "string", default: "6.1", describe: "key: the key of build --kernel VERSION (6.1, 6.12)" })
    .option("all", { type: "boolean", default: false, describe: "prune: remove everything, kernel work trees and ccache included" })
    .option("container", { type: "boolean", default: false, describe: "key: the key of build --container (the lock's image), not of this host" })
    .option("insecure", { type: "boolean", default: false, describe: "push/pull: plain HTTP, no TLS check (a registry on localhost)" })
    .option("lock", { type: "string", describe: "the package lock of build --container and its image", defaultDescription: "src/build/packages.lock" })
    .option("json", { type: "boolean", default: false, describe: "ls: print JSON" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;

/** A stage of the table, or `image` (the build image of build --container, keyed by its lock). */
type EntryName = StageName | typeof IMAGE;
const IMAGE = "image";

function entryArg(name: string, action: string): EntryName {
  if (name === IMAGE || (STAGE_NAMES as readonly string[]).includes(name)) return name as EntryName;
  throw new Error(`cache ${action}: unknown stage "${name}". Fix: use one of ${STAGE_NAMES.join(", ")}, or ${IMAGE} for the build image`);
}

function stageArg(name: string, action: string): StageName {
  const e = entryArg(name, action);
  if (e === IMAGE) throw new Error(`cache ${action}: the build image has no stage key of its own here. Fix: ./xdp-lab cache key ${IMAGE} prints its key, the lock's hash`);
  return e;
}

export async function handler(argv: Args): Promise<void> {
  const [{ Cache }, { planKeys }, { exportEntries, importEntries, pullEntries, pushEntries }, { findEngine }, { lockHash, LOCK_PATH, readLock }] = await Promise.all([
    import("../build/cache.ts"),
    import("../build/executor.ts"),
    import("../build/transfer.ts"),
    import("../tools/podman.ts"),
    import("../build/lock.ts"),
  ]);
  const cache = new Cache(resolve(argv.cacheDir));
  const args = (argv.args ?? []).map(String);
  const lockPath = argv.lock ? resolve(argv.lock) : LOCK_PATH;
  /** `image` without a key is the lock's image: its entry is keyed by the lock's hash. */
  const wantedEntries = (names: string[], action: string) =>
    names.map((w) => {
      const [name, key] = w.split("=");
      const stage = entryArg(name!, action);
      return { stage, key: key ?? (stage === IMAGE ? lockHash(readLock(lockPath)) : undefined) };
    });
  if (argv.action === "ls") {
    const entries = await cache.list();
    if (argv.json) {
      process.stdout.write(JSON.stringify(entries.map(({ stage, key, kernel, bytes, created, lastUsed, dir }) => ({ stage, key, ...(kernel ? { kernel } : {}), bytes, created, lastUsed, dir })), null, 2) + "\n");
      return;
    }
    if (entries.length === 0) process.stdout.write(`cache ${cache.root} is empty\n`);
    for (const e of entries) {
      process.stdout.write(`${e.stage.padEnd(8)} ${e.key.slice(0, 16)}  ${(e.kernel ?? "").padEnd(5)} ${mib(e.bytes).padStart(10)}  built ${e.created}  used ${e.lastUsed.toISOString()}\n`);
    }
    return;
  }
  if (argv.action === "export") {
    const [file, ...wanted] = args;
    if (!file) throw new Error("cache export: name the archive to write. Fix: ./xdp-lab cache export FILE [STAGE[=KEY]...]");
    const list = wantedEntries(wanted.length ? wanted : [...STAGE_NAMES], "export");
    for (const e of await exportEntries(cache, resolve(file), list)) process.stdout.write(`exported ${e.stage.padEnd(8)} ${e.key}\n`);
    return;
  }
  if (argv.action === "import") {
    if (args.length !== 1) throw new Error("cache import: name one archive. Fix: ./xdp-lab cache import FILE");
    for (const e of await importEntries(cache, resolve(args[0]!))) process.stdout.write(`imported ${e.stage.padEnd(8)} ${e.key}${e.replaced ? " (replaced)" : ""}\n`);
    return;
  }
  if (argv.action === "push") {
    const [ref, ...wanted] = args;
    if (!ref) throw new Error("cache push: name the image reference. Fix: ./xdp-lab cache push registry.example/xdp-lab/kernel:$(./xdp-lab cache key kernel) kernel");
    const list = wantedEntries(wanted.length ? wanted : [...STAGE_NAMES], "push");
    for (const e of await pushEntries(cache, await findEngine(), ref, list, argv.insecure)) process.stdout.write(`pushed ${e.stage.padEnd(8)} ${e.key} to ${ref}\n`);
    return;
  }
  if (argv.action === "pull") {
    if (args.length !== 1) throw new Error("cache pull: name one image reference. Fix: ./xdp-lab cache pull registry.example/xdp-lab/kernel:KEY");
    for (const e of await pullEntries(cache, await findEngine(), args[0]!, argv.insecure)) process.stdout.write(`imported ${e.stage.padEnd(8)} ${e.key}${e.replaced ? " (replaced)" : ""}\n`);
    return;
  }
  if (argv.action === "key") {
    if (args.length !== 1) throw new Error("cache key: name one stage. Fix: ./xdp-lab cache key kernel");
    if (args[0] === IMAGE) {
      process.stdout.write(`${lockHash(readLock(lockPath))}\n`);
      return;
    }
    const stage = stageArg(args[0]!, "key");
    const { BUILT_KERNELS, BUILT_VERSIONS } = await import("../build/kernels.ts");
    const built = BUILT_KERNELS[argv.kernel];
    if (!built) throw new Error(`cache key --kernel ${argv.kernel}: not a kernel this lab builds. Fix: give ${BUILT_VERSIONS.join(" or ")}`);
    const params = { ...DEFAULT_PARAMS, kernelSrc: built.tarball };
    const keys = await planKeys({ repo: REPO, cacheDir: cache.root, params, stages: [stage], container: argv.container, lockPath });
    process.stdout.write(`${keys[stage]}\n`);
    return;
  }
  if (!Number.isInteger(argv.keep) || argv.keep < 0) throw new Error(`--keep ${argv.keep} is not a count: pass a whole number, 0 or more`);
  const removed = await cache.prune({ keep: argv.keep, all: argv.all });
  process.stdout.write(removed.length ? removed.map((d) => `removed ${d}\n`).join("") : "nothing to prune\n");
}
