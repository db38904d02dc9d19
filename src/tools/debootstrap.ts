// Wraps debootstrap: a minimal Debian root file system from Debian's archive, the container's base.
import { execa } from "execa";

export const DEBIAN_MIRROR = "http://deb.debian.org/debian";

export function debootstrapArgs(suite: string, dir: string, mirror = DEBIAN_MIRROR): string[] {
  return ["--variant=minbase", suite, dir, mirror];
}

export async function debootstrap(suite: string, dir: string, mirror = DEBIAN_MIRROR): Promise<void> {
  const r = await execa("debootstrap", debootstrapArgs(suite, dir, mirror), { reject: false, all: true, stdin: "ignore" });
  if (r.exitCode !== 0) {
    const tail = String(r.all ?? "").trimEnd().split("\n").slice(-10).join("\n");
    throw new Error(`Failed to debootstrap ${suite} into ${dir} (exit ${r.exitCode}):\n${tail}\nFix: check that ${mirror} is reachable (apt-get update works here; XDP_LAB_DEBIAN_MIRROR names another mirror)`);
  }
}
