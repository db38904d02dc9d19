// Wraps apt-get: the only place that installs Debian packages.
import { execa } from "execa";

/** argv of the install step, non-interactive and without recommends to keep installs small. */
export function aptInstallArgs(packages: string[]): string[] {
  return ["install", "-y", "--no-install-recommends", ...packages];
}

/** Runs `apt-get update` once, then installs the packages. */
export async function aptInstall(packages: string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  try {
    await execa("apt-get", ["update"], { env, all: true });
    await execa("apt-get", aptInstallArgs(packages), { env, all: true });
  } catch (error) {
    const out = (error as { all?: string }).all ?? "";
    throw new Error(
      `Failed to install ${packages.join(" ")} with apt-get:\n${out.split("\n").slice(-10).join("\n")}\n` +
        `Fix: check the machine's apt sources, then run: apt-get install ${packages.join(" ")}`,
      { cause: error },
    );
  }
}
