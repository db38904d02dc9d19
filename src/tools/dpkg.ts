// Wraps dpkg-query: installed package versions, part of the cache key of stages that copy Debian binaries.
import { execa } from "execa";

/** `package=version` for each installed package of the list; packages not installed are left out. */
export async function packageVersions(packages: string[]): Promise<string[]> {
  if (packages.length === 0) return [];
  const r = await execa("dpkg-query", ["-W", "-f=${Package}=${Version}\\n", ...packages], { reject: false });
  return r.stdout
    .split("\n")
    .filter((l) => /=./.test(l))
    .sort();
}
