// The Lab handle: the one owner of a lab's lifecycle. The commands (up, demo, down), the benchmarks
// and the tests bring a lab up, reset it and take it down through it, and get its hosts from it;
// none of them spells the sequence out again.
import { appCommand, appStats } from "./app-client.ts";
import { down } from "./down.ts";
import { labHost, type Host } from "./hosts/index.ts";
import { LINKS, labPlan, type HostName, type LabPlan, type LinkName } from "./plan.ts";
import { linkDevices, notUpError, unimpaired, type Impairment } from "./impair.ts";
import { applyImpairment, linkRelay } from "./links.ts";
import { namespaces } from "./ip.ts";
import type { RelayCounters } from "./relay.ts";
import { withVm } from "./session.ts";
import { readState, requireRoot, writeState, type LabState } from "./state.ts";
import { up, type UpResult } from "./up.ts";
import type { AccelDecision } from "./vm/accel.ts";
import { accelFor, artifacts } from "./vm/artifacts.ts";
import type { VmOptions } from "./vm/qemu.ts";

export interface LabUpOptions {
  /** Directory with the build's bzImage and initramfs.img. */
  out: string;
  /** auto, kvm or tcg (--accel). Default: XDP_LAB_ACCEL, else auto (KVM only if a test boot works). */
  accel?: string;
  /** The guest's options but the accelerator; unset ones take DEFAULT_VM's. */
  vm?: Partial<Omit<VmOptions, "accel">>;
  /** NAT through this real host interface instead of the simulated internet. */
  uplink?: string;
  /** Seconds to wait for the VM's ssh. Default 60. */
  readyTimeout?: number;
  /** Links impaired from the start (impair.ts). */
  impair?: Partial<Record<LinkName, Impairment>>;
  /** Install missing host packages (needs root). Default true. */
  install?: boolean;
  /** Progress lines for the user (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface LabUp extends UpResult {
  /** The accelerator the VM runs under, and why. */
  accel: AccelDecision;
}

export class Lab {
  readonly plan: LabPlan;

  /** The lab NAME, whether it is up or not (the name is checked: see validateName). */
  constructor(readonly name: string) {
    this.plan = labPlan(name);
  }

  /** One of its hosts, as the kind that runs it. */
  host(name: HostName): Host {
    return labHost(this.plan, name);
  }

  state(): Promise<LabState | undefined> {
    return readState(this.plan);
  }

  /** True once `up` finished (the VM may have died since: status says so). */
  async isUp(): Promise<boolean> {
    return (await this.state())?.phase === "up";
  }

  /**
   * Brings the lab up, in this order: the host packages it needs, root, the build in OUT, the
   * accelerator (probing KVM needs the build's kernel), then namespaces, links and the VM. On
   * failure nothing of it is left and the error says why.
   */
  async up(o: LabUpOptions): Promise<LabUp> {
    const log = o.log ?? (() => undefined);
    const [{ ensure }, { LAB_RUNTIME }] = await Promise.all([import("../src/build/requirements.ts"), import("../src/build/packages.ts")]);
    await ensure(LAB_RUNTIME, { install: o.install ?? true, purpose: "the lab", log });
    requireRoot("xdp-lab up");
    artifacts(o.out);
    const accel = await accelFor(o.accel, o.out);
    log(`accelerator: ${accel.why}`);
    const r = await up({ name: this.name, out: o.out, vm: { ...o.vm, accel: accel.accel }, uplink: o.uplink, readyTimeout: o.readyTimeout, impair: o.impair, log });
    return { ...r, accel };
  }

  /** Removes everything the lab created; idempotent, and works after the runner was killed. Returns what it removed. */
  down(): Promise<string[]> {
    return down(this.name);
  }

  /** Impairs LINK (replacing what it had; an empty IMP removes it) and records it in the lab's state. */
  async impair(link: LinkName, imp: Impairment): Promise<void> {
    const state = await this.requireUp();
    await applyImpairment(this.plan, link, imp);
    const impair = { ...state.impair };
    if (unimpaired(imp)) delete impair[link];
    else impair[link] = imp;
    // Read again: another command may have written the state meanwhile.
    await writeState(this.plan, { ...((await this.state()) ?? state), impair });
  }

  /** Each link: its impairment as recorded, its two devices, and its relay's counters. */
  async links(): Promise<LinkReport[]> {
    const state = await this.requireUp();
    return Promise.all(
      LINKS.map(async (name) => ({
        link: name,
        impairment: state.impair?.[name] ?? {},
        devices: linkDevices(this.plan.links[name]),
        relay: await linkRelay(this.plan, name),
      })),
    );
  }

  /**
   * Back to how `up` left it, without a reboot: every link unimpaired and every program the app
   * attached in the VM detached. Returns the ports it detached.
   */
  async reset(): Promise<string[]> {
    for (const link of LINKS) await this.impair(link, {});
    return withVm(this.name, async (client) => {
      const detached: string[] = [];
      for (const p of (await appStats(client)).programs) {
        const answer = await appCommand(client, "unload", p.iface);
        if (!answer.ok) throw new Error(`Failed to detach the program on ${p.iface}: ${answer.error}`);
        detached.push(p.iface);
      }
      return detached;
    });
  }

  /** The lab's state once it is up, or the refusal with the fix. */
  private async requireUp(): Promise<LabState> {
    const state = await this.state();
    if (state?.phase !== "up" || !(await namespaces().catch(() => [] as string[])).includes(this.plan.ns.lab)) throw notUpError(this.name);
    return state;
  }
}

export interface LinkReport {
  link: LinkName;
  impairment: Impairment;
  /** The lab namespace's devices its traffic leaves by, toward the VM (or the edge) and toward the host. */
  devices: { inward: string; outward: string };
  /** The link's impairment relay, when it is impaired: its pid and each direction's counters. */
  relay?: { pid: number; counters?: RelayCounters };
}
