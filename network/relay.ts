// The impairment relay (network/relay/xdp-lab-impair.c): delay, jitter, loss, duplication,
// reordering, corruption and rate in user space, on every kernel. netem would do it in the kernel,
// but kernels without sch_netem are common where labs run (this project's own machines' kernel has
// none, nor fq), and a lab should impair the same everywhere.
//
// How a direction of a link is impaired, in the lab namespace only:
// - egress of a device (toward the VM, or toward a host): a clsact egress filter steals every
//   packet but the relay's own (classic BPF on skb->mark) into a veth pair; the relay reads them
//   at the pair's far end, holds each until its time, and sends it on the device, marked, so the
//   same filter lets it through;
// - ingress of a device (the uplink's edge side, which has no device toward the lab): a clsact
//   ingress filter steals what arrives but ARP and neighbour discovery (they must stay on the
//   device, or the neighbour would be learnt on the wrong one); the relay sends it back into the
//   pair, whose near end has the device's MAC address, so the lab namespace takes it in as it
//   would have.
// One relay process serves both directions of a link; SIGHUP reloads its parameters. Its binary
// is built by the caller (src/relay-binary.ts, into the build cache) and named here.
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ip, netnsExec, netnsExecArgs } from "../src/tools/ip.ts";
import { tc, tcMaybe } from "../src/tools/tc.ts";

/** The mark on the packets the relay sends: the steal filter lets these through. "XL". */
export const RELAY_MARK = 0x584c;


/** One direction's values, in the relay's units. */
export interface RelayValues {
  delayUs: number;
  jitterUs: number;
  lossPpm: number;
  duplicatePpm: number;
  corruptPpm: number;
  reorderPpm: number;
  rateBps: number;
  /** Packets held at most (netem's default limit). */
  limit: number;
}

/** One direction of a link: the device whose egress (or ingress) is impaired, and how. */
export interface RelayDirection {
  /** A word naming the direction (`inward`, `outward`), in the counters. */
  name: string;
  dev: string;
  hook: "egress" | "ingress";
  values: RelayValues;
}

/** A direction's steal pair: the near end (where packets are stolen to) and the far end (the relay's). */
export function stealPair(link: string, name: string): { near: string; far: string } {
  const base = `xr-${link.slice(0, 6)}-${name.slice(0, 3)}`;
  return { near: `${base}0`, far: `${base}1` };
}

/**
 * Classic BPF for a device's egress: match (steal) every packet but those carrying MARK.
 * `ld #mark; jeq #MARK, pass, steal; pass: ret #0; steal: ret #-1` (SKF_AD_MARK is at -4096 + 20).
 */
export function egressStealBytecode(mark = RELAY_MARK): string {
  return `4,32 0 0 ${2 ** 32 - 4096 + 20},21 0 1 ${mark},6 0 0 0,6 0 0 ${2 ** 32 - 1}`;
}

/**
 * Classic BPF for a device's ingress: steal everything but ARP (ethertype 0x0806) and ICMPv6
 * neighbour discovery (IPv6 next header 58, ICMPv6 type 133 to 137). Offsets from the Ethernet
 * header: cls_bpf runs ingress programs with the MAC header pushed back.
 */
export const INGRESS_STEAL_BYTECODE = [
  "10",
  "40 0 0 12", // ldh [12]          ethertype
  "21 7 0 2054", // jeq #0x0806      ARP: pass
  "21 0 5 34525", // jeq #0x86dd     not IPv6: steal
  "48 0 0 20", // ldb [20]           next header
  "21 0 3 58", // jeq #58            not ICMPv6: steal
  "48 0 0 54", // ldb [54]           ICMPv6 type
  "53 0 1 133", // jge #133          below: steal
  "37 0 1 137", // jgt #137          above: steal, else pass
  "6 0 0 4294967295", // steal
  "6 0 0 0", // pass
].join(",");

/** The relay's parameters file: one line per direction (see xdp-lab-impair.c). */
export function paramsText(link: string, dirs: RelayDirection[]): string {
  return dirs
    .map((d) => {
      const pair = stealPair(link, d.name);
      const out = d.hook === "egress" ? d.dev : pair.far;
      const v = d.values;
      return [d.name, pair.far, out, v.delayUs, v.jitterUs, v.lossPpm, v.duplicatePpm, v.corruptPpm, v.reorderPpm, v.rateBps, v.limit].join(" ");
    })
    .join("\n")
    .concat("\n");
}

/** The ip commands that make a direction's steal pair (the ingress one taking the device's MAC), still down. */
export function pairCommands(link: string, d: RelayDirection, mac?: string): string[][] {
  const { near, far } = stealPair(link, d.name);
  return [
    ["link", "add", near, "type", "veth", "peer", "name", far],
    ["link", "set", far, "arp", "off"],
    ...(d.hook === "ingress" && mac ? [["link", "set", near, "address", mac]] : []),
  ];
}

/**
 * The sysctls of a pair, set before it comes up: no IPv6 of its own on either end (no link-local
 * address, so no DAD or router solicitation for the relay to carry); the ingress pair's near end
 * keeps IPv6 on, without an address, to forward what comes back, and takes any source.
 */
export function pairSysctls(link: string, d: RelayDirection): string[] {
  const { near, far } = stealPair(link, d.name);
  const off = (dev: string) => `net.ipv6.conf.${dev}.disable_ipv6=1`;
  if (d.hook === "egress") return [off(near), off(far)];
  // A lab namespace may turn IPv6 off for new devices by default: this one needs it on.
  return [off(far), `net.ipv6.conf.${near}.addr_gen_mode=1`, `net.ipv6.conf.${near}.accept_dad=0`, `net.ipv6.conf.${near}.disable_ipv6=0`, `net.ipv4.conf.${near}.rp_filter=0`];
}

/** The tc commands that steal the directions' packets into their pairs: clsact once per device, a filter per direction. */
export function stealCommands(link: string, dirs: RelayDirection[]): string[][] {
  const devices = [...new Set(dirs.map((d) => d.dev))];
  return [
    ...devices.map((dev) => ["qdisc", "add", "dev", dev, "clsact"]),
    ...dirs.map((d) => {
      const bytecode = d.hook === "egress" ? egressStealBytecode() : INGRESS_STEAL_BYTECODE;
      return ["filter", "add", "dev", d.dev, d.hook, "prio", "1", "protocol", "all", "bpf", "bytecode", bytecode, "action", "mirred", "egress", "redirect", "dev", stealPair(link, d.name).near];
    }),
  ];
}

/** Where a link's relay keeps its files, in the lab's state directory. */
export function relayFiles(labDir: string, link: string): { params: string; stats: string; log: string; pid: string } {
  const base = join(labDir, `relay-${link}`);
  return { params: `${base}.params`, stats: `${base}.stats.json`, log: `${base}.log`, pid: `${base}.pid` };
}

/** The pid of LINK's relay when it runs, else undefined. */
export async function relayPid(labDir: string, link: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(relayFiles(labDir, link).pid, "utf8").catch(() => ""), 10);
  if (!Number.isFinite(pid)) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  return cmdline.includes("xdp-lab-impair") && cmdline.includes(relayFiles(labDir, link).params) ? pid : undefined;
}

/**
 * Impairs a link's directions through its relay, in namespace NS: a relay already running gets
 * the new values (SIGHUP, nothing stolen is lost); otherwise the pairs are made, the relay started
 * and, once it says it is ready, the filters that feed it added. On any failure, the link is left
 * unimpaired (clearRelay).
 */
export async function applyRelay(ns: string, labDir: string, link: string, dirs: RelayDirection[], bin: string): Promise<void> {
  const files = relayFiles(labDir, link);
  const running = await relayPid(labDir, link);
  if (running) {
    await writeFile(`${files.params}.tmp`, paramsText(link, dirs));
    await rename(`${files.params}.tmp`, files.params);
    process.kill(running, "SIGHUP");
    return;
  }
  await clearRelay(ns, labDir, link, dirs);
  try {
    for (const d of dirs) {
      const mac = d.hook === "ingress" ? await macOf(ns, d.dev) : undefined;
      for (const c of pairCommands(link, d, mac)) await ip(ns, ...c);
      const set = await netnsExec(ns, ["sysctl", "-q", ...pairSysctls(link, d)]);
      if (set.exitCode !== 0) throw new Error(`Failed to set ${pairSysctls(link, d).join(" ")} in namespace ${ns}: ${String(set.stderr).trim()}`);
      const { near, far } = stealPair(link, d.name);
      for (const dev of [near, far]) await ip(ns, "link", "set", dev, "up");
    }
    await writeFile(files.params, paramsText(link, dirs));
    await startRelay(ns, bin, files);
    for (const c of stealCommands(link, dirs)) await tc(ns, ...c);
  } catch (error) {
    await clearRelay(ns, labDir, link, dirs);
    throw error;
  }
}

async function macOf(ns: string, dev: string): Promise<string> {
  return (JSON.parse(await ip(ns, "-j", "link", "show", dev)) as { address: string }[])[0]!.address;
}

/** Starts the relay detached in NS and waits for its ready line; throws with its log when it does not come. */
async function startRelay(ns: string, bin: string, files: ReturnType<typeof relayFiles>): Promise<void> {
  const log = openSync(files.log, "w");
  let exited: string | undefined;
  try {
    const argv = netnsExecArgs(ns, [bin, "--params", files.params, "--stats", files.stats, "--mark", String(RELAY_MARK)]);
    // A daemon of the lab's, not of this command: detached, in its own session, outliving us.
    const child = spawn("ip", argv, { detached: true, stdio: ["ignore", log, log] });
    child.on("exit", (code, signal) => (exited = `exit ${code ?? signal}`));
    child.on("error", (e) => (exited = e.message));
    child.unref();
    await writeFile(files.pid, `${child.pid}\n`);
    for (let i = 0; i < 200; i++) {
      const said = await readFile(files.log, "utf8").catch(() => "");
      if (/^ready$/m.test(said)) return;
      if (exited) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const said = (await readFile(files.log, "utf8").catch(() => "")).trim();
    throw new Error(`The impairment relay did not start (${exited ?? "no ready line within 5 s"}): ${said || "it said nothing"}. See ${files.log}`);
  } finally {
    closeSync(log);
  }
}

/** Removes a link's filters, relay and pairs, whatever of them is there. */
export async function clearRelay(ns: string, labDir: string, link: string, dirs: Pick<RelayDirection, "name" | "dev">[]): Promise<void> {
  for (const dev of new Set(dirs.map((d) => d.dev))) await tcMaybe(ns, "qdisc", "del", "dev", dev, "clsact");
  const pid = await relayPid(labDir, link);
  if (pid) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone already
    }
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 10));
  }
  for (const d of dirs) await ip(ns, "link", "del", stealPair(link, d.name).near).catch(() => undefined);
  const files = relayFiles(labDir, link);
  await rm(files.pid, { force: true });
}

/** Each direction's counters, as the relay reports them on SIGUSR1; undefined when no relay runs. */
export type RelayCounters = Record<string, { received: number; sent: number; lost: number; duplicated: number; corrupted: number; reordered: number; overlimit: number; failed: number; queued: number }>;

export async function relayCounters(labDir: string, link: string): Promise<RelayCounters | undefined> {
  const pid = await relayPid(labDir, link);
  if (!pid) return undefined;
  const files = relayFiles(labDir, link);
  // Gone first, so what appears is the answer to this signal (the relay writes it whole, by rename).
  await rm(files.stats, { force: true });
  process.kill(pid, "SIGUSR1");
  for (let i = 0; i < 200; i++) {
    const now = await readFile(files.stats, "utf8").catch(() => "");
    if (now) return JSON.parse(now) as RelayCounters;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}
