// A lab's state on the host: the record under /run/xdp-lab/NAME, the labs that exist, and whether
// a process still runs. Everything else about a lab is derived from its name (plan.ts).
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { namespaces } from "../src/tools/ip.ts";
import { containerLabs } from "./containers.ts";
import { labOfNamespace, RUN_DIR, type LabPlan, type LinkName, type NsHost } from "./plan.ts";
import type { Accel } from "./vm/qemu.ts";
import type { GuestRoot } from "./contract.ts";
import type { Impairment } from "./impair.ts";

export interface LabState {
  name: string;
  /** "starting" until every host answered; a lab found "starting" was interrupted or is booting. */
  phase: "starting" | "up";
  startedAt: string;
  /** Artifacts the VM booted from. */
  out: string;
  /** The kernel the VM runs: built (OUT's bzImage) or a stock kernel's name, its release and package version. */
  kernel?: { name: string; release?: string; version?: string };
  /** The guest's root file system (--guest-root); absent: the initramfs. */
  guestRoot?: GuestRoot;
  accel: Accel;
  /** Real host interface NAT'd through (--uplink), if any. */
  uplink?: string;
  /** The host's ip_forward before --uplink set it, restored by down. */
  hostForwardBefore?: string;
  hostPublic?: string;
  qemuPid?: number;
  /** Seconds from the start of `up` to every host ready. */
  upSeconds?: number;
  /** The hosts `up` ran as containers, with their images; the others are of their plan's kind. */
  hosts?: Partial<Record<NsHost, { kind: "podman"; image: string; netAdmin?: boolean }>>;
  /** Each impaired link's impairment (`up --impair`, `link`); unimpaired links are absent. */
  impair?: Partial<Record<LinkName, Impairment>>;
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(`${what} needs root: it creates network namespaces, bridges and tap devices. Fix: run it as root (sudo ./xdp-lab ...)`);
  }
}

export async function readState(plan: LabPlan): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(plan.files.state, "utf8")) as LabState;
  } catch {
    return undefined;
  }
}

export async function writeState(plan: LabPlan, state: LabState): Promise<void> {
  const tmp = `${plan.files.state}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n");
  await rename(tmp, plan.files.state);
}

/** Names of the labs that exist, from their state directories, their namespaces and their containers. */
export async function labNames(runDir = RUN_DIR): Promise<string[]> {
  const names = new Set<string>();
  if (existsSync(runDir)) for (const d of await readdir(runDir)) names.add(d);
  for (const ns of await namespaces().catch(() => [] as string[])) {
    const lab = labOfNamespace(ns);
    if (lab) names.add(lab);
  }
  // Containers outlive both when their namespaces were deleted by hand: found by their label.
  for (const lab of await containerLabs()) names.add(lab);
  return [...names].sort();
}

/** True while PID runs; a zombie (dead, waiting for its parent to reap it) counts as gone. */
export function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

export async function readPid(plan: LabPlan): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(plan.files.pid, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
