// `xdp-lab image`: the lock's build image of build --container, made ready (from the engine, the
// build cache or Debian's archive) without building any stage, and named by tag and id.
import { resolve } from "node:path";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { defaultCacheDir } from "../build/cache.ts";

export const command = "image";
export const describe = "Make the lock's build image ready (engine, build cache, or Debian's archive) and print its tag and id";

export function builder(y: Argv) {
  return y
    .option("lock", { type: "string", describe: "the package lock the image is made from", defaultDescription: "src/build/packages.lock" })
    .option("cache-dir", { type: "string", default: defaultCacheDir(), defaultDescription: "$XDG_CACHE_HOME/xdp-lab, else ~/.cache/xdp-lab", describe: "build cache, where the image is kept and looked for" })
    .option("install", { type: "boolean", default: true, describe: "install podman, runc and debootstrap when missing (root); --no-install only reports them" })
    .option("json", { type: "boolean", default: false, describe: "print the result as JSON" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ Cache }, { containerEngine, ensureImage }, { lockHash, LOCK_PATH, readLock }] = await Promise.all([
    import("../build/cache.ts"),
    import("../build/image.ts"),
    import("../build/lock.ts"),
  ]);
  const lockPath = argv.lock ? resolve(argv.lock) : LOCK_PATH;
  const lock = readLock(lockPath);
  const log = (m: string) => process.stderr.write(`  ${m}\n`);
  const engine = await containerEngine({ install: argv.install, log });
  const image = await ensureImage(engine, lock, { cache: new Cache(resolve(argv.cacheDir)), lockPath, install: argv.install, log });
  if (argv.json) process.stdout.write(JSON.stringify({ ...image, engine: engine.file, lockHash: lockHash(lock) }) + "\n");
  else process.stdout.write(`${image.tag} ${image.id} (${image.source})\n`);
}
