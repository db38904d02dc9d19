// `status`: what a lab is made of, whether its VM runs (and how it ended if not), and its programs.
import { namespaces } from "../src/tools/ip.ts";
import { ADDR, HOSTS, NAMESPACE_ROLES, labPlan, nameFlag, type HostName, type LinkName, type Role } from "./plan.ts";
import { hostOf, type HostStatus } from "./hosts/index.ts";
import type { Impairment } from "./impair.ts";
import { pidAlive, readPid, readState, type LabState } from "./state.ts";
import { vmEnding } from "./guest.ts";
import { openVm, useVm } from "./session.ts";
import { appCommand } from "./app-client.ts";
import type { AppResults } from "./contract.ts";
import { listPrograms, type AttachedProgram } from "./programs.ts";
import type { Accel } from "./vm/qemu.ts";

export interface LabStatus {
  name: string;
  phase: LabState["phase"] | "absent";
  namespaces: Record<Role, boolean>;
  vm: { pid?: number; running: boolean; accel?: Accel; upSeconds?: number; ended?: string; consoleLog?: string; kernel?: LabState["kernel"]; guestRoot?: LabState["guestRoot"] };
  /** Set when the lab is up but not whole: what is wrong and the fix. */
  degraded?: string;
  /** Each host: its kind, whether it runs, what runs it and its addresses. */
  hosts: Partial<Record<HostName, HostStatus>>;
  uplink: string;
  /** Each impaired link's impairment (the others are unimpaired). */
  links: Partial<Record<LinkName, Impairment>>;
  /** The app's `stats` answer: the programs it attached, their mode and counters (or why it refused). */
  programs?: AppResults["stats"] | { error: string };
  /** Every program attached in the VM, whoever attached it, with the kernel's run statistics. */
  attached?: AttachedProgram[];
  error?: string;
}

export async function status(name: string): Promise<LabStatus> {
  const plan = labPlan(name);
  const state = await readState(plan);
  const present = new Set(await namespaces().catch(() => [] as string[]));
  const pid = state?.qemuPid ?? (await readPid(plan));
  const s: LabStatus = {
    name,
    phase: state?.phase ?? "absent",
    namespaces: Object.fromEntries(NAMESPACE_ROLES.map((r) => [r, present.has(plan.ns[r])])) as Record<Role, boolean>,
    vm: { pid, running: pidAlive(pid), accel: state?.accel, upSeconds: state?.upSeconds, kernel: state?.kernel, guestRoot: state?.guestRoot ?? "initramfs" },
    // With --uplink there is no simulated internet.
    hosts: Object.fromEntries(
      await Promise.all(HOSTS.filter((h) => h !== "internet" || !state?.uplink).map(async (h) => [h, await hostOf(plan, h, state).status()] as const)),
    ),
    links: state?.impair ?? {},
    uplink: state?.uplink ? `NAT through host interface ${state.uplink}` : `simulated internet ${ADDR.internet.prefix}, NAT at ${ADDR.internet.edge}`,
  };
  if (state?.phase === "up" && !s.vm.running) {
    s.vm.ended = await vmEnding(plan, state);
    s.vm.consoleLog = plan.files.consoleLog;
    s.degraded = `the VM is not running (${s.vm.ended}). Fix: ./xdp-lab down${nameFlag(name)} && ./xdp-lab up${nameFlag(name)}`;
  }
  if (state?.phase === "up" && s.vm.running) {
    try {
      // Found running just above: no second state read and liveness check (requireVm).
      await useVm(await openVm(plan, state), async (client) => {
        const answer = await appCommand(client, "stats");
        s.programs = answer.ok ? answer.result : { error: answer.error };
        s.attached = await listPrograms(client);
      });
    } catch (e) {
      s.error = (e as Error).message;
    }
  }
  return s;
}
