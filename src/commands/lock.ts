// `xdp-lab lock`: writes the build packages' versions installed here (or apt's candidates) to src/build/packages.lock.
import { readFile, writeFile } from "node:fs/promises";
import type { ArgumentsCamelCase, Argv } from "yargs";
import { buildPackages } from "../build/packages.ts";

export const command = "lock";
export const describe = "Lock the build packages to the versions installed on this machine (src/build/packages.lock)";

export function builder(y: Argv) {
  return y
    .option("candidate", { type: "boolean", default: false, describe: "lock what apt would install now from this machine's sources (apt-cache policy), not what is installed" })
    .option("check", { type: "boolean", default: false, describe: "only compare: exit 1 naming the packages whose installed version differs" });
}

type Args = ArgumentsCamelCase<ReturnType<typeof builder> extends Argv<infer T> ? T : never>;

export async function handler(argv: Args): Promise<void> {
  const [{ formatLock, lockDifferences, lockFromInstalled, lockHash, LOCK_PATH, parseLock }, { candidateVersions }, { packageVersions }] = await Promise.all([
    import("../build/lock.ts"),
    import("../tools/apt.ts"),
    import("../tools/dpkg.ts"),
  ]);
  const installed = await packageVersions(buildPackages());
  if (argv.check) {
    const diffs = lockDifferences(parseLock(await readFile(LOCK_PATH, "utf8")), installed);
    for (const d of diffs) process.stdout.write(`${d.package.padEnd(18)} installed ${d.installed ?? "-"}  locked ${d.locked}\n`);
    if (diffs.length) throw new Error(`${diffs.length} package(s) differ from ${LOCK_PATH}. Fix: install the locked versions, or run ./xdp-lab lock to move the lock`);
    process.stdout.write(`every build package matches ${LOCK_PATH}\n`);
    return;
  }
  const lock = lockFromInstalled(argv.candidate ? await candidateVersions(buildPackages()) : installed);
  const before = await readFile(LOCK_PATH, "utf8").catch(() => "");
  const text = formatLock(lock);
  if (text !== before) await writeFile(LOCK_PATH, text);
  process.stdout.write(`${text !== before ? "wrote" : "unchanged:"} ${LOCK_PATH} (${Object.keys(lock).length} packages, lock ${lockHash(lock).slice(0, 12)})\n`);
}
