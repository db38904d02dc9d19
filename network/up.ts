// `up`: builds a lab from its plan; on failure everything it created is removed again.
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { ip, ipBatch, sysctls } from "../src/tools/ip.ts";
import { nft } from "../src/tools/nft.ts";
import { edgeRuleset } from "./rulesets.ts";
import { appendOverlay } from "./cpio.ts";
import { generateKeys } from "./keys.ts";
import { NAMESPACE_ROLES, NS_HOSTS, labPlan, type LabPlan, type LinkName, type NsHost } from "./plan.ts";
import { hostOf } from "./hosts/index.ts";
import { unimpaired, type Impairment } from "./impair.ts";
import { applyImpairment } from "./links.ts";
import { labNames, pidAlive, writeState, type LabState } from "./state.ts";
import { hostFiles, hostUplink, services, wiring } from "./wiring.ts";
import { overlay, startQemu, vmConfig, vmLink, waitForSsh } from "./guest.ts";
import { down } from "./down.ts";
import type { VmOptions } from "./vm/qemu.ts";
import { retryPanic } from "./vm/boot.ts";

export interface UpOptions {
  name: string;
  /** Directory with bzImage and initramfs.img. */
  out: string;
  /**
   * The kernel to boot and the initramfs the lab's overlay goes after, when not OUT's bzImage and
   * initramfs.img (a stock kernel: its vmlinuz, and initramfs.img with its modules appended); its
   * name and release go in the lab's state.
   */
  kernel?: { name: string; image: string; initrd: string; release?: string; version?: string; cpuOff?: string[] };
  /** The guest's options; unset ones take DEFAULT_VM's. */
  vm: Partial<VmOptions> & Pick<VmOptions, "accel">;
  /** NAT through this real host interface instead of the simulated internet. */
  uplink?: string;
  /** Seconds to wait for the VM's ssh. Default 60. */
  readyTimeout?: number;
  /** Hosts run as podman containers, each from IMAGE (a local one: the Lab handle checks it is there). */
  hosts?: Partial<Record<NsHost, { kind: "podman"; image: string }>>;
  /** Hosts whose containers get NET_ADMIN (to change their own addresses or routes); nothing else gets more than podman's defaults and NET_RAW. */
  netAdmin?: NsHost[];
  /** Links impaired from the start (impair.ts), before the VM boots. */
  impair?: Partial<Record<LinkName, Impairment>>;
  /** The impairment relay's binary, needed when `impair` impairs a link (the Lab handle builds it). */
  relay?: string;
  log?: (line: string) => void;
}

export interface UpResult {
  plan: LabPlan;
  state: LabState;
  /** Seconds spent in each step, for the benchmark. */
  timings: Record<string, number>;
}

/**
 * Builds the lab's namespaces, links and VM from its plan; on failure everything it created is
 * removed again and the error says why. The checks before it (root, the build, the accelerator)
 * are the Lab handle's (lab.ts), which every caller goes through.
 */
export async function up(o: UpOptions): Promise<UpResult> {
  const plan = labPlan(o.name);
  const log = o.log ?? (() => undefined);
  const existing = (await labNames()).includes(plan.name);
  if (existing) {
    throw new Error(`Lab "${plan.name}" is already up (or left over). Fix: pick another --name, or ./xdp-lab down --name ${plan.name} first`);
  }
  if (o.uplink !== undefined && !existsSync(`/sys/class/net/${o.uplink}`)) {
    throw new Error(`--uplink ${o.uplink}: no such host interface. Fix: name one of: ${(await readdir("/sys/class/net")).join(", ")}`);
  }
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  let mark = t0;
  const step = (what: string): void => {
    const now = performance.now();
    timings[what] = Number(((now - mark) / 1000).toFixed(3));
    mark = now;
  };
  // Written before anything is created: `down` after a kill -9 knows about the uplink.
  await mkdir(plan.dir, { recursive: true, mode: 0o700 });
  const state: LabState = {
    name: plan.name,
    phase: "starting",
    startedAt: new Date().toISOString(),
    out: o.out,
    accel: o.vm.accel,
    uplink: o.uplink,
    kernel: o.kernel ? { name: o.kernel.name, release: o.kernel.release, version: o.kernel.version } : undefined,
    guestRoot: o.vm.guestRoot,
  };
  await writeState(plan, state);
  try {
    const keys = await generateKeys(plan.files.key, plan.files.hostKey, plan.name);
    state.hostPublic = keys.hostPublic;
    await writeState(plan, state);
    await writeFile(plan.files.initrd, appendOverlay(await readFile(o.kernel?.initrd ?? `${o.out}/initramfs.img`), overlay(keys.authorizedKey, keys.hostKey)));
    step("keys and initrd");

    for (const role of NAMESPACE_ROLES) {
      if (role === "internet" && o.uplink !== undefined) continue;
      await ip(undefined, "netns", "add", plan.ns[role]);
    }
    // IPv6 beside IPv4, but no frame the lab did not ask for: no DAD, no router solicitations or
    // advertisements taken, so the programs' counters count only what users and tests send. In the
    // lab namespace only the edge's links get IPv6 (the bridges and their ports need none).
    const roles = NAMESPACE_ROLES.filter((r) => r !== "internet" || o.uplink === undefined);
    await Promise.all(roles.map((r) => sysctls(plan.ns[r], [...IPV6_QUIET, ...(r === "lab" ? LAB_IPV6_OFF : [])])));
    if (o.uplink !== undefined) await hostUplink(plan, state, o.uplink);
    const w = wiring(plan, o.uplink !== undefined);
    await ipBatch(plan.ns.lab, w.lab);
    const edge6 = [plan.links.wan.bridge!, ...(o.uplink === undefined ? [plan.links.uplink.outward] : [])].map((dev): [string, string] => [`net.ipv6.conf.${dev}.disable_ipv6`, "0"]);
    await sysctls(plan.ns.lab, edge6);
    await ipBatch(plan.ns.lab, w.lab6);
    await Promise.all((["client", "server", "internet"] as const).map((r) => ipBatch(plan.ns[r], w[r])));
    await sysctls(plan.ns.lab, [
      ["net.ipv6.conf.all.forwarding", "1"],
      ["net.ipv4.ip_forward", "1"],
      // Bridged frames must not go through the lab namespace's IP filter (br_netfilter, if loaded).
      ["net.bridge.bridge-nf-call-iptables", "0"],
      ["net.bridge.bridge-nf-call-ip6tables", "0"],
    ]);
    await nft(plan.ns.lab, edgeRuleset(plan.links.uplink.outward, plan.links.wan.bridge!));
    await hostFiles(plan);
    // Recorded before they start: `down` after a kill -9 knows what ran each host.
    if (o.hosts && Object.keys(o.hosts).length) {
      state.hosts = Object.fromEntries(Object.entries(o.hosts).map(([h, c]) => [h, { ...c, netAdmin: o.netAdmin?.includes(h as NsHost) }]));
      await writeState(plan, state);
    }
    for (const h of NS_HOSTS) if (h !== "internet" || o.uplink === undefined) await hostOf(plan, h, state).start();
    await services(plan, state, o.uplink !== undefined);
    for (const [link, imp] of Object.entries(o.impair ?? {}) as [LinkName, Impairment][]) {
      await applyImpairment(plan, link, imp, o.relay);
      if (!unimpaired(imp)) state.impair = { ...state.impair, [link]: imp };
    }
    await writeState(plan, state);
    step("namespaces");

    for (let attempt = 1; ; attempt++) {
      state.qemuPid = await startQemu(plan, vmConfig(plan, o.out, { ...o.vm, cpuOff: o.kernel?.cpuOff }, o.kernel?.image), o.out);
      await writeState(plan, state);
      step("qemu started");
      log(`lab ${plan.name}: VM booting under ${o.vm.accel.toUpperCase()} (pid ${state.qemuPid}), waiting for ssh`);
      try {
        const client = await waitForSsh(plan, vmLink(plan, keys.privateKey, keys.hostPublic), state.qemuPid, o.readyTimeout ?? 60);
        client.end();
        break;
      } catch (error) {
        if (!retryPanic((error as Error).message, o.vm.accel, attempt)) throw error;
        const kept = await clearQemu(plan, state.qemuPid);
        log(`lab ${plan.name}: the guest's kernel panicked during boot under TCG (console log kept as ${kept}); booting it once more`);
      }
    }
    step("vm ready");
    state.phase = "up";
    state.upSeconds = Number(((performance.now() - t0) / 1000).toFixed(3));
    await writeState(plan, state);
    return { plan, state, timings };
  } catch (error) {
    // Keep the console log (the lab's directory goes with the rest) and point the error at the copy.
    const kept = `${o.out}/logs/lab-${plan.name}.console.log`;
    const e = error as Error;
    if (existsSync(plan.files.consoleLog)) {
      await mkdir(`${o.out}/logs`, { recursive: true })
        .then(() => copyFile(plan.files.consoleLog, kept))
        .then(() => (e.message = e.message.split(plan.files.consoleLog).join(kept)))
        .catch(() => undefined);
    }
    await down(plan.name).catch(() => undefined);
    throw e;
  }
}

/** The sysctls that keep IPv6 from sending anything by itself (DAD, router solicitations) or taking RAs. */
const IPV6_QUIET: [string, string][] = ["all", "default"].flatMap((scope) =>
  ["accept_dad", "router_solicitations", "accept_ra"].map((k): [string, string] => [`net.ipv6.conf.${scope}.${k}`, "0"]),
);

/** In the lab namespace links get no IPv6 unless asked for (the bridges and their ports need none). */
const LAB_IPV6_OFF: [string, string][] = [["net.ipv6.conf.default.disable_ipv6", "1"]];

/** After a failed boot: waits for qemu to be gone, keeps its console log beside, removes its pid and exit files. */
async function clearQemu(plan: LabPlan, pid: number | undefined): Promise<string> {
  for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  const kept = `${plan.files.consoleLog}.panic`;
  await rename(plan.files.consoleLog, kept).catch(() => undefined);
  for (const f of [plan.files.pid, plan.files.qemuExit, plan.files.qemuStderr]) await rm(f, { force: true });
  return kept;
}
