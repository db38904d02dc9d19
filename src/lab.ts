// The Lab handle: the one owner of a lab's lifecycle (in src/: it joins the host's packages, the
// build's output and the lab images to the network/ layer, which imports nothing from src/). The commands (up, demo, down), the benchmarks
// and the tests bring a lab up, reset it and take it down through it, and get its hosts from it;
// none of them spells the sequence out again.
import type { Client } from "ssh2";
import { connectVm } from "../network/session.ts";
import { exec as sshExec, type ExecResult } from "./tools/ssh.ts";
import { offScript, parseReset, resetScript } from "../network/vm-reset.ts";
import { down } from "../network/down.ts";
import { labHost, type Host } from "../network/hosts/index.ts";
import { LINKS, labPlan, type HostName, type LabPlan, type LinkName, type NsHost } from "../network/plan.ts";
import { imageExists, PODMAN } from "./tools/podman.ts";
import { linkDevices, notUpError, unimpaired, type Impairment } from "../network/impair.ts";
import { applyImpairment, linkRelay } from "../network/links.ts";
import { namespaces } from "./tools/ip.ts";
import type { RelayCounters } from "../network/relay.ts";
import { readState, requireRoot, writeState, type LabState } from "../network/state.ts";
import { up, type UpOptions, type UpResult } from "../network/up.ts";
import type { AccelDecision } from "../network/vm/accel.ts";
import { accelFor, bootKernel } from "./build-out.ts";
import { describeFeatures } from "./build/stock-features.ts";
import { relayBinary } from "./relay-binary.ts";
import type { VmOptions } from "../network/vm/qemu.ts";

export interface LabUpOptions {
  /** Directory with the build's bzImage and initramfs.img. */
  out: string;
  /** built (default: OUT's bzImage) or a stock kernel, debian-6.1 or debian-6.12 (fetched when missing; build-out.ts bootKernel). */
  kernel?: string;
  /** auto, kvm or tcg (--accel). Default: XDP_LAB_ACCEL, else auto (KVM only if a test boot works). */
  accel?: string;
  /** The guest's options but the accelerator; unset ones take DEFAULT_VM's. */
  vm?: Partial<Omit<VmOptions, "accel">>;
  /** NAT through this real host interface instead of the simulated internet. */
  uplink?: string;
  /** Seconds to wait for the VM's ssh. Default 60. */
  readyTimeout?: number;
  /** Hosts run as podman containers, of IMAGE or of the lab's own (host-image.ts); and those whose containers get NET_ADMIN. */
  hosts?: Partial<Record<NsHost, { kind: "podman"; image?: string }>>;
  netAdmin?: UpOptions["netAdmin"];
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
  host(name: HostName): Promise<Host> {
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
    const [{ ensure }, { LAB_RUNTIME }] = await Promise.all([import("./tools/ensure.ts"), import("./build/packages.ts")]);
    await ensure(LAB_RUNTIME, { install: o.install ?? true, purpose: "the lab", log });
    requireRoot("xdp-lab up");
    const kernel = await bootKernel(o.out, o.kernel, { shares: o.vm?.shares, guestRoot: o.vm?.guestRoot, log });
    if (kernel.features) log(`kernel ${kernel.name} (${kernel.release}, Debian package ${kernel.version}): ${describeFeatures(kernel.features).join("; ")}`);
    // Images before anything is created: a missing one is named with its flag.
    const hosts = await this.images(o.hosts ?? {}, log);
    const accel = await accelFor(o.accel, o.out, process.env, kernel);
    log(`accelerator: ${accel.why}`);
    const relay = Object.values(o.impair ?? {}).some((imp) => !unimpaired(imp)) ? await relayBinary(undefined, o.install ?? true) : undefined;
    const r = await up({
      name: this.name,
      out: o.out,
      kernel: { name: kernel.name, image: kernel.kernel, initrd: kernel.initrd, release: kernel.release, version: kernel.version, cpuOff: kernel.cpuOff },
      vm: { ...o.vm, accel: accel.accel }, uplink: o.uplink, readyTimeout: o.readyTimeout, hosts, netAdmin: o.netAdmin, impair: o.impair, relay, log });
    return { ...r, accel };
  }

  /** Removes everything the lab created; idempotent, and works after the runner was killed. Returns what it removed. */
  down(): Promise<string[]> {
    this.close();
    return down(this.name);
  }

  /** Ends the ssh session the handle keeps to the VM (reset's); the lab stays as it is. */
  close(): void {
    const s = this.session;
    this.session = undefined;
    void s?.then((c) => c.end(), () => undefined);
  }

  /** An ssh session to the VM kept across resets and the runner's reads: a new one costs the guest a key exchange (0.2 to 0.4 s under TCG). */
  private session?: Promise<Client>;

  /** SCRIPT's stdout, run in the VM on the kept session; a non-zero exit is an error saying what failed (Failed to WHAT ...). */
  async vmText(script: string, what: string): Promise<string> {
    const r = await this.vmExec(script);
    if (r.code !== 0) throw new Error(`Failed to ${what} in the VM (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  /** Runs SCRIPT (a shell line) in the VM on the kept session, opening it (again, once, when it was lost). */
  async vmExec(script: string): Promise<ExecResult> {
    for (let attempt = 0; ; attempt++) {
      const s = (this.session ??= connectVm(this.name).then((c) => {
        const forget = (): void => {
          if (this.session === s) this.session = undefined;
        };
        c.on("error", forget).on("close", forget);
        return c;
      }));
      try {
        return await sshExec(await s, script);
      } catch (e) {
        if (this.session === s) this.session = undefined;
        if (attempt > 0) throw e;
      }
    }
  }

  /** Impairs LINK (replacing what it had; an empty IMP removes it) and records it in the lab's state. */
  async impair(link: LinkName, imp: Impairment): Promise<void> {
    const state = await this.requireUp();
    await applyImpairment(this.plan, link, imp, unimpaired(imp) ? undefined : await relayBinary());
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
   * Back to how `up` left it, without a reboot: every impaired link unimpaired, every program on
   * the VM's ports detached (the app's through the app; another loader's XDP and tc filters a test
   * attached around it), the app's Lua script unloaded and its budget at the default, pins a test
   * left removed, the app started again if it stopped answering; checked against the kernel's own
   * list. One command on a kept ssh session does the VM's part (network/vm-reset.ts), a second only
   * when something the app does not own is attached: every test starts from this state, so it is
   * paid once per test (bench:test measures it against a fresh lab). Returns the ports it
   * detached; throws when a program stays attached.
   */
  async reset(): Promise<string[]> {
    const state = await this.requireUp();
    // Only what is recorded as impaired: an unimpaired link has nothing to remove.
    for (const link of LINKS) if (state.impair?.[link] && !unimpaired(state.impair[link]!)) await this.impair(link, {});
    const r = await this.vmExec(resetScript());
    let { detached, refused, attached } = parseReset(r.stdout);
    if (refused.length || attached === undefined) {
      throw new Error(`Failed to reset lab ${this.name}: ${refused.length ? refused.join("; ") : `no program list from bpftool net (exit ${r.code}): ${(r.stderr || r.stdout).trim().split("\n").slice(-2).join(" | ")}`}`);
    }
    // What the app does not own: XDP off whoever attached it, clsact off with its filters.
    if (attached.length) {
      const xdp = [...new Set(attached.filter((a) => a.hook === "xdp").map((a) => a.port))];
      const tc = [...new Set(attached.filter((a) => a.hook === "tc").map((a) => a.port))];
      attached = parseReset((await this.vmExec(offScript(xdp, tc))).stdout).attached ?? attached;
      detached = [
        ...detached,
        ...xdp.filter((p) => !attached!.some((a) => a.port === p && a.hook === "xdp") && !detached.includes(p)),
        ...tc.filter((p) => !attached!.some((a) => a.port === p && a.hook === "tc")).map((p) => `${p} (tc)`),
      ];
    }
    if (attached.length) {
      throw new Error(
        `the lab is not clean: ${attached.map((a) => a.what).join(", ")} stayed attached after the reset (a bpf_link or a pin an earlier test's command left?): detach it in that test's last command`,
      );
    }
    return detached;
  }

  /** Each container host's image: the one named, which must be on this machine, or the lab's own (made when missing). */
  private async images(hosts: NonNullable<LabUpOptions["hosts"]>, log: (l: string) => void): Promise<UpOptions["hosts"]> {
    const out: UpOptions["hosts"] = {};
    for (const [h, c] of Object.entries(hosts) as [NsHost, { image?: string }][]) {
      if (c.image === undefined) {
        const { ensureHostImage } = await import("./host-image.ts");
        out[h] = { kind: "podman", image: (await ensureHostImage(log)).tag };
      } else if (await imageExists(PODMAN, c.image)) {
        out[h] = { kind: "podman", image: c.image };
      } else {
        throw new Error(`--${h}-image ${c.image}: no such image on this machine. Fix: podman pull ${c.image} (on a machine that can pull), build it, or leave --${h}-image out for the lab's own image`);
      }
    }
    return out;
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

