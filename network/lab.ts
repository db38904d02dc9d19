// The lab: `up` builds it from the plan, `down` removes it, `exec`, `load` and `status` use it.
// Everything it creates lives in namespaces named after the lab (see plan.ts), so labs never touch
// each other or the host; the state directory under /run records what needs more than the name.
import { existsSync, readFileSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { execa } from "execa";
import type { Client } from "ssh2";
import { ip, ipBatch, namespacePids, namespaces, netnsExecArgs, sysctl } from "./ip.ts";
import { deleteHostTable, edgeRuleset, hostUplinkRuleset, nft } from "./nft.ts";
import { appendOverlay, type CpioEntry } from "./cpio.ts";
import { generateKeys } from "./keys.ts";
import {
  ADDR,
  GUEST_CONTROL,
  GUEST_NICS,
  HOST_MACS,
  NAMESPACE_ROLES,
  NETNS_ETC,
  RUN_DIR,
  guestEnv,
  hostsFile,
  labOfNamespace,
  labPlan,
  type HostName,
  type LabPlan,
  type Role,
} from "./plan.ts";
import { connect, exec as sshExec, type ExecResult, type VmLink } from "./ssh.ts";
import { shellCommand, shellQuote } from "../src/tools/shell.ts";
import { DEFAULT_VM, qemuArgs, qemuBinary, type Accel, type VmConfig } from "../src/vm/qemu.ts";
import { MARKERS } from "../src/vm/boot.ts";
import { qemuEnding, supervisedArgv } from "./qemu-process.ts";

export interface LabState {
  name: string;
  /** "starting" until every host answered; a lab found "starting" was interrupted or is booting. */
  phase: "starting" | "up";
  startedAt: string;
  /** Artifacts the VM booted from. */
  out: string;
  accel: Accel;
  /** Real host interface NAT'd through (--uplink), if any. */
  uplink?: string;
  /** The host's ip_forward before --uplink set it, restored by down. */
  hostForwardBefore?: string;
  hostPublic?: string;
  qemuPid?: number;
  /** Seconds from the start of `up` to every host ready. */
  upSeconds?: number;
}

export interface UpOptions {
  name: string;
  /** Directory with bzImage and rootfs.cpio.gz. */
  out: string;
  accel: Accel;
  /** NAT through this real host interface instead of the simulated internet. */
  uplink?: string;
  /** Extra kernel command line arguments. */
  append?: string[];
  /** Seconds to wait for the VM's ssh. Default 60. */
  readyTimeout?: number;
  memoryMiB?: number;
  cpus?: number;
  log?: (line: string) => void;
}

export interface UpResult {
  plan: LabPlan;
  state: LabState;
  /** Seconds spent in each step, for the benchmark. */
  timings: Record<string, number>;
}

const BUSYBOX = "busybox";

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

async function writeState(plan: LabPlan, state: LabState): Promise<void> {
  const tmp = `${plan.files.state}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2) + "\n");
  await execa("mv", ["-f", tmp, plan.files.state]);
}

/** Namespace of a host run by the host kernel, or undefined for the VM. */
function namespaceOf(plan: LabPlan, host: HostName): string | undefined {
  return host === "vm" ? undefined : plan.ns[host];
}

/** Names of the labs that exist, from their state directories and their namespaces. */
export async function labNames(runDir = RUN_DIR): Promise<string[]> {
  const names = new Set<string>();
  if (existsSync(runDir)) for (const d of await readdir(runDir)) names.add(d);
  for (const ns of await namespaces().catch(() => [] as string[])) {
    const lab = labOfNamespace(ns);
    if (lab) names.add(lab);
  }
  return [...names].sort();
}

/** True while PID runs; a zombie (dead, waiting for its parent to reap it) counts as gone. */
function pidAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function readPid(plan: LabPlan): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(plan.files.pid, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function consoleTail(plan: LabPlan, lines = 25): Promise<string> {
  try {
    const text = (await readFile(plan.files.consoleLog, "utf8")).replace(/\r/g, "");
    return text.split("\n").slice(-lines).map((l) => `  | ${l}`).join("\n");
  } catch {
    return "  | (no console output)";
  }
}

/** The files the guest gets on top of the build's initramfs: lab config, keys, hosts. */
function overlay(authorizedKey: string, hostKey: Buffer): CpioEntry[] {
  return [
    { path: "etc", mode: 0o755 },
    { path: "etc/xdp-lab", mode: 0o755 },
    { path: "etc/xdp-lab/lab.env", mode: 0o644, content: guestEnv() },
    { path: "etc/hosts", mode: 0o644, content: hostsFile("vm") },
    { path: "etc/dropbear", mode: 0o700 },
    { path: "etc/dropbear/host_ed25519", mode: 0o600, content: hostKey },
    { path: "root", mode: 0o700 },
    { path: "root/.ssh", mode: 0o700 },
    { path: "root/.ssh/authorized_keys", mode: 0o600, content: authorizedKey + "\n" },
  ];
}

/** The ip commands that wire a lab, per namespace (pure: unit-tested, and one `ip -batch` each). */
export function wiring(plan: LabPlan, uplink: boolean): Record<Role, string[][]> {
  const { ns } = plan;
  const [lan, wan] = GUEST_NICS;
  const lab: string[][] = [
    ["link", "set", "lo", "up"],
    ["link", "add", "br-lan", "type", "bridge"],
    ["link", "add", "br-wan", "address", HOST_MACS.edge, "type", "bridge"],
    ["addr", "add", `${ADDR.wan.edge}/${ADDR.wan.len}`, "dev", "br-wan"],
    ["link", "add", "veth-client", "type", "veth", "peer", "name", "eth0", "netns", ns.client],
    ["link", "add", "veth-server", "type", "veth", "peer", "name", "eth0", "netns", ns.server],
    ["link", "set", "veth-client", "master", "br-lan"],
    ["link", "set", "veth-server", "master", "br-wan"],
    ...GUEST_NICS.flatMap((n) => [
      ["tuntap", "add", "dev", n.tap, "mode", "tap", ...(n.queues > 1 ? ["multi_queue"] : [])],
      ...(n.bridge ? [["link", "set", n.tap, "master", n.bridge]] : []),
      ["link", "set", n.tap, "up"],
    ]),
    ["addr", "add", `${ADDR.mgmt.host}/${ADDR.mgmt.len}`, "dev", "tap-mgmt"],
    ["link", "set", "br-lan", "up"],
    ["link", "set", "br-wan", "up"],
    ["link", "set", "veth-client", "up"],
    ["link", "set", "veth-server", "up"],
    // Replies for the LAN come back through the VM.
    ["route", "add", ADDR.lan.prefix, "via", ADDR.wan.vm],
    ["neigh", "replace", ADDR.wan.vm, "lladdr", wan.mac, "dev", "br-wan", "nud", "permanent"],
  ];
  if (uplink) {
    lab.push(["addr", "add", `${plan.uplink.lab}/${plan.uplink.len}`, "dev", plan.uplink.labVeth], ["link", "set", plan.uplink.labVeth, "up"]);
    lab.push(["route", "add", "default", "via", plan.uplink.host]);
  } else {
    lab.push(
      ["link", "add", "uplink0", "type", "veth", "peer", "name", "eth0", "netns", ns.internet],
      ["addr", "add", `${ADDR.internet.edge}/${ADDR.internet.len}`, "dev", "uplink0"],
      ["link", "set", "uplink0", "up"],
    );
  }
  const host = (addr: string, len: number, routes: string[][], mac?: string, neigh?: [string, string]): string[][] => [
    ["link", "set", "lo", "up"],
    ...(mac ? [["link", "set", "eth0", "address", mac]] : []),
    ["addr", "add", `${addr}/${len}`, "dev", "eth0"],
    ["link", "set", "eth0", "up"],
    ...(neigh ? [["neigh", "replace", neigh[0], "lladdr", neigh[1], "dev", "eth0", "nud", "permanent"]] : []),
    ...routes.map((r) => ["route", "add", ...r]),
  ];
  return {
    lab,
    client: host(ADDR.lan.client, ADDR.lan.len, [["default", "via", ADDR.lan.vm]], HOST_MACS.client, [ADDR.lan.vm, lan.mac]),
    server: host(
      ADDR.wan.server,
      ADDR.wan.len,
      [
        [ADDR.lan.prefix, "via", ADDR.wan.vm],
        ["default", "via", ADDR.wan.edge],
      ],
      HOST_MACS.server,
      [ADDR.wan.vm, wan.mac],
    ),
    // The internet knows nothing of the lab's private subnets: it only ever sees the edge's address.
    internet: uplink ? [] : host(ADDR.internet.host, ADDR.internet.len, []),
  };
}

/** The qemu configuration of the lab's VM. */
export function vmConfig(plan: LabPlan, o: Pick<UpOptions, "out" | "accel" | "append" | "memoryMiB" | "cpus">): VmConfig {
  return {
    ...DEFAULT_VM,
    kernel: `${o.out}/bzImage`,
    initrd: plan.files.initrd,
    accel: o.accel,
    memoryMiB: o.memoryMiB ?? DEFAULT_VM.memoryMiB,
    cpus: o.cpus ?? DEFAULT_VM.cpus,
    append: o.append ?? [],
    hostname: "xdp",
    nics: GUEST_NICS.map((n) => ({ id: n.name, tap: n.tap, mac: n.mac, queues: n.queues })),
    consoleSocket: { path: plan.files.console, log: plan.files.consoleLog },
    pidfile: plan.files.pid,
  };
}

export function vmLink(plan: LabPlan, privateKey: Buffer, hostPublic: string): VmLink {
  return { ns: plan.ns.lab, address: ADDR.mgmt.vm, privateKey, hostPublic };
}

/** `--name NAME` for a fix line, empty for the default lab. */
function nameFlag(name: string): string {
  return name === "lab" ? "" : ` --name ${name}`;
}

/** How the lab's VM ended, or undefined while qemu runs. */
async function vmEnding(plan: LabPlan, state: LabState | undefined): Promise<string | undefined> {
  if (pidAlive(state?.qemuPid ?? (await readPid(plan)))) return undefined;
  return qemuEnding({ stderr: plan.files.qemuStderr, exit: plan.files.qemuExit }) ?? "qemu is gone; how it ended was not recorded";
}

/**
 * Throws unless the lab is up with its VM running: a dead VM is named as such at once, with how qemu
 * ended, the console log and the fix, instead of an ssh timeout.
 */
export async function requireVm(name: string): Promise<LabState> {
  const plan = labPlan(name);
  const state = await readState(plan);
  if (!state?.hostPublic || !existsSync(plan.files.key)) {
    throw new Error(`Lab "${name}" is not up. Fix: ./xdp-lab up${nameFlag(name)}`);
  }
  const ended = await vmEnding(plan, state);
  if (ended) {
    throw new Error(
      `The VM of lab ${name} is not running (${ended}). Console log: ${plan.files.consoleLog}\n` +
        `Fix: ./xdp-lab down${nameFlag(name)} && ./xdp-lab up${nameFlag(name)}`,
    );
  }
  return state;
}

async function linkOf(plan: LabPlan): Promise<VmLink> {
  const state = await requireVm(plan.name);
  return vmLink(plan, await readFile(plan.files.key), state.hostPublic!);
}

/** Opens an ssh session to a running lab's VM. */
export async function connectVm(name: string): Promise<Client> {
  return connect(await linkOf(labPlan(name)));
}

/** Runs FN with an ssh session to the lab's VM, closed afterwards whatever happens. */
export async function withVm<T>(name: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = await connectVm(name);
  try {
    return await fn(client);
  } finally {
    client.end();
  }
}

/** Brings a lab up; on failure everything it created is removed again and the error says why. */
export async function up(o: UpOptions): Promise<UpResult> {
  requireRoot("xdp-lab up");
  const plan = labPlan(o.name);
  const log = o.log ?? (() => undefined);
  for (const f of ["bzImage", "rootfs.cpio.gz"]) {
    if (!existsSync(`${o.out}/${f}`)) throw new Error(`No build to boot: ${o.out}/${f} is missing. Fix: run ./xdp-lab build first`);
  }
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
  const state: LabState = { name: plan.name, phase: "starting", startedAt: new Date().toISOString(), out: o.out, accel: o.accel, uplink: o.uplink };
  await writeState(plan, state);
  try {
    const keys = await generateKeys(plan.files.key, plan.files.hostKey, plan.name);
    state.hostPublic = keys.hostPublic;
    await writeState(plan, state);
    await writeFile(plan.files.initrd, appendOverlay(await readFile(`${o.out}/rootfs.cpio.gz`), overlay(keys.authorizedKey, keys.hostKey)));
    step("keys and initrd");

    for (const role of NAMESPACE_ROLES) {
      if (role === "internet" && o.uplink !== undefined) continue;
      await ip(undefined, "netns", "add", plan.ns[role]);
    }
    // IPv4 only, like the guest: no router solicitations or DAD frames in the programs' counters.
    await Promise.all(
      NAMESPACE_ROLES.filter((r) => r !== "internet" || o.uplink === undefined).flatMap((r) =>
        ["all", "default"].map((scope) => sysctl(plan.ns[r], `net.ipv6.conf.${scope}.disable_ipv6`, "1")),
      ),
    );
    if (o.uplink !== undefined) await hostUplink(plan, state, o.uplink);
    const w = wiring(plan, o.uplink !== undefined);
    await ipBatch(plan.ns.lab, w.lab);
    await Promise.all((["client", "server", "internet"] as const).map((r) => ipBatch(plan.ns[r], w[r])));
    await sysctl(plan.ns.lab, "net.ipv4.ip_forward", "1");
    // Bridged frames must not go through the lab namespace's IP filter (br_netfilter, if loaded).
    await sysctl(plan.ns.lab, "net.bridge.bridge-nf-call-iptables", "0");
    await nft(plan.ns.lab, edgeRuleset(o.uplink !== undefined ? plan.uplink.labVeth : "uplink0"));
    await hostFiles(plan);
    await services(plan, o.uplink !== undefined);
    step("namespaces");

    state.qemuPid = await startQemu(plan, vmConfig(plan, o), o.out);
    await writeState(plan, state);
    step("qemu started");
    log(`lab ${plan.name}: VM booting under ${o.accel.toUpperCase()} (pid ${state.qemuPid}), waiting for ssh`);

    const client = await waitForSsh(plan, vmLink(plan, keys.privateKey, keys.hostPublic), state.qemuPid, o.readyTimeout ?? 60);
    client.end();
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

/**
 * Starts qemu in the lab namespace under its supervisor, detached from this process (a runner killed
 * during `up` leaves it to `down`), and waits for its PID file; fails with qemu's words if it exits first.
 */
async function startQemu(plan: LabPlan, vm: VmConfig, out: string): Promise<number> {
  const qemu = qemuBinary();
  const argv = supervisedArgv([qemu, ...qemuArgs(vm)], { stderr: plan.files.qemuStderr, exit: plan.files.qemuExit });
  const child = execa("ip", netnsExecArgs(plan.ns.lab, argv), { detached: true, stdio: "ignore", reject: false });
  child.unref();
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const ended = qemuEnding({ stderr: plan.files.qemuStderr, exit: plan.files.qemuExit });
    if (ended) throw new Error(`The VM failed to start (${ended}).\nConsole:\n${await consoleTail(plan)}\nFix: check ${out} holds a good build (./xdp-lab build)${vm.accel === "kvm" ? ", or try --accel tcg" : ""}`);
    const pid = await readPid(plan);
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`qemu wrote no PID file (${plan.files.pid}) within 30 s. Fix: check that ${qemu} runs (${qemu} --version)`);
}

/** Retries ssh until the VM answers; fails with the console's tail when qemu exits, the guest panics or time runs out. */
async function waitForSsh(plan: LabPlan, link: VmLink, pid: number | undefined, timeoutS: number): Promise<Client> {
  const deadline = performance.now() + timeoutS * 1000;
  let last = "";
  while (performance.now() < deadline) {
    const log = await readFile(plan.files.consoleLog, "utf8").catch(() => "");
    const panicked = MARKERS.panic.test(log);
    if (panicked || !pidAlive(pid)) {
      const how = pidAlive(pid) ? "" : ` (${qemuEnding({ stderr: plan.files.qemuStderr, exit: plan.files.qemuExit }) ?? "qemu exited"})`;
      const what = panicked ? "The VM's kernel panicked during boot" : "The VM stopped during boot";
      throw new Error(`${what}${how}. Last console lines:\n${await consoleTail(plan)}\nFull console log: ${plan.files.consoleLog}`);
    }
    if (MARKERS.ready.test(log)) {
      try {
        return await connect(link, 5_000);
      } catch (e) {
        last = (e as Error).message;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`The VM did not answer ssh within ${timeoutS} s${last ? ` (${last})` : ""}. Last console lines:\n${await consoleTail(plan)}\nFull console log: ${plan.files.consoleLog}`);
}

/** Each namespace's /etc/hosts (iproute2 bind-mounts /etc/netns/NS/hosts for `ip netns exec`). */
async function hostFiles(plan: LabPlan): Promise<void> {
  for (const role of NAMESPACE_ROLES) {
    const dir = `${NETNS_ETC}/${plan.ns[role]}`;
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/hosts`, hostsFile(role));
  }
}

/** A web server on the server (a page and a 4 MiB file) and on the internet (it echoes who asks). */
async function services(plan: LabPlan, uplink: boolean): Promise<void> {
  const server = `${plan.files.www}/server`;
  await mkdir(server, { recursive: true });
  await writeFile(`${server}/index.html`, `xdp-lab ${plan.name}: hello from the server\n`);
  const blob = Buffer.alloc(4 << 20);
  for (let i = 0; i < blob.length; i += 4) blob.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(`${server}/blob`, blob);
  await execa("ip", netnsExecArgs(plan.ns.server, [BUSYBOX, "httpd", "-p", "0.0.0.0:80", "-h", server]));
  if (uplink) return;
  const internet = `${plan.files.www}/internet`;
  await mkdir(`${internet}/cgi-bin`, { recursive: true });
  await writeFile(`${internet}/index.html`, "the simulated internet\n");
  await writeFile(`${internet}/cgi-bin/ip`, '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n');
  await chmod(`${internet}/cgi-bin/ip`, 0o755);
  await execa("ip", netnsExecArgs(plan.ns.internet, [BUSYBOX, "httpd", "-p", "0.0.0.0:80", "-h", internet]));
}

/** --uplink: a veth from the lab namespace to the host, NAT'd out of IFACE by a table of the lab's own. */
async function hostUplink(plan: LabPlan, state: LabState, iface: string): Promise<void> {
  const u = plan.uplink;
  await ip(undefined, "link", "add", u.hostVeth, "type", "veth", "peer", "name", u.labVeth, "netns", plan.ns.lab);
  await ip(undefined, "addr", "add", `${u.host}/${u.len}`, "dev", u.hostVeth);
  await ip(undefined, "link", "set", u.hostVeth, "up");
  state.hostForwardBefore = (await readFile("/proc/sys/net/ipv4/ip_forward", "utf8")).trim();
  await writeState(plan, state);
  await writeFile("/proc/sys/net/ipv4/ip_forward", "1");
  await nft(undefined, hostUplinkRuleset(plan, iface));
}

/** Removes everything a lab created; idempotent, and works from the name alone. */
export async function down(name: string): Promise<string[]> {
  const plan = labPlan(name);
  const state = await readState(plan);
  const removed: string[] = [];
  await execa("tmux", ["kill-session", "-t", plan.tmux], { reject: false }).catch(() => undefined);
  const present = new Set(await namespaces().catch(() => [] as string[]));
  // Every process in the lab's namespaces (qemu, web servers, relays), then qemu by its pidfile.
  const pids = new Set<number>();
  for (const role of NAMESPACE_ROLES) if (present.has(plan.ns[role])) for (const p of await namespacePids(plan.ns[role])) pids.add(p);
  const pid = await readPid(plan);
  if (pid && (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(plan.dir)) pids.add(pid);
  for (const p of pids) {
    try {
      process.kill(p, "SIGKILL");
      removed.push(`process ${p}`);
    } catch {
      // already gone
    }
  }
  for (let i = 0; i < 100 && [...pids].some(pidAlive); i++) await new Promise((r) => setTimeout(r, 10));
  for (const role of NAMESPACE_ROLES) {
    if (present.has(plan.ns[role])) {
      await ip(undefined, "netns", "del", plan.ns[role]);
      removed.push(`namespace ${plan.ns[role]}`);
    }
    const etc = `${NETNS_ETC}/${plan.ns[role]}`;
    if (existsSync(etc)) {
      await rm(etc, { recursive: true, force: true });
      removed.push(etc);
    }
  }
  if (state?.uplink !== undefined) {
    await deleteHostTable("ip", plan.uplink.table);
    if (existsSync(`/sys/class/net/${plan.uplink.hostVeth}`)) await ip(undefined, "link", "del", plan.uplink.hostVeth);
    if (state.hostForwardBefore !== undefined) await writeFile("/proc/sys/net/ipv4/ip_forward", state.hostForwardBefore);
    removed.push(`uplink through ${state.uplink}`);
  }
  if (existsSync(plan.dir)) {
    await rm(plan.dir, { recursive: true, force: true });
    removed.push(plan.dir);
  }
  // The parents too, once no lab uses them (rmdir refuses a directory that is not empty).
  for (const dir of [RUN_DIR, NETNS_ETC]) await rmdir(dir).catch(() => undefined);
  return removed;
}

/** Runs ARGV on a lab host; output streams to the callbacks and is returned with the status. */
export async function execOn(
  name: string,
  host: HostName,
  argv: string[],
  o: { onStdout?: (b: Buffer) => void; onStderr?: (b: Buffer) => void; stdin?: string } = {},
): Promise<ExecResult> {
  const plan = labPlan(name);
  const ns = namespaceOf(plan, host);
  if (ns === undefined) return withVm(name, (client) => sshExec(client, shellCommand(argv), o));
  if (!(await namespaces()).includes(ns)) {
    throw new Error(`Lab "${name}" is not up (no namespace ${ns}). Fix: ./xdp-lab up${name === "lab" ? "" : ` --name ${name}`}`);
  }
  const child = execa("ip", netnsExecArgs(ns, argv.length === 1 ? ["sh", "-c", argv[0]!] : argv), {
    reject: false,
    input: o.stdin,
    stdin: o.stdin === undefined ? "ignore" : undefined,
  });
  child.stdout?.on("data", (b: Buffer) => o.onStdout?.(b));
  child.stderr?.on("data", (b: Buffer) => o.onStderr?.(b));
  const r = await child;
  return { code: r.exitCode ?? 128, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** What the app's control socket answers: one JSON object per command. */
export interface AppAnswer {
  ok: boolean;
  command?: string;
  error?: string;
  result?: unknown;
}

/** Sends one command to the app in the VM through its control socket. */
export async function appCommand(client: Client, command: string[]): Promise<AppAnswer> {
  const r = await sshExec(client, ["xdp-lab-app", "ctl", "--control", GUEST_CONTROL, ...command].map(shellQuote).join(" "));
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as AppAnswer;
  } catch {
    throw new Error(`The app in the VM did not answer "${command.join(" ")}" (exit ${r.code}): ${(r.stderr || r.stdout).trim()}. See /var/log/xdp-lab-app.log in the VM`);
  }
}

/** One attached program in the app's `stats` answer. */
export interface ProgramStats {
  iface: string;
  program: string;
  object: string;
  mode: "native" | "generic";
  id: number;
  /** aborted, drop, pass, tx and redirect, always all five. */
  verdicts: Record<string, { packets: number; bytes: number; pps: number; bps: number }>;
}

/** The app's `stats` result: every attached program, and the events read from ring buffers. */
export interface AppStats {
  programs: ProgramStats[];
  events: number;
  lua_events: number;
}

/** The app's counters, through an open session to the VM. */
export async function appStats(client: Client): Promise<AppStats> {
  const a = await appCommand(client, ["stats"]);
  if (!a.ok) throw new Error(`The app in the VM refused stats: ${a.error}`);
  return a.result as AppStats;
}

export interface LoadOptions {
  iface: "lan" | "wan";
  mode: "native" | "generic";
}

/** Copies an XDP object into the VM and attaches it with the app (replacing what was attached there, atomically). */
export async function load(name: string, object: string, o: LoadOptions): Promise<AppAnswer> {
  if (!existsSync(object)) {
    throw new Error(`No such XDP object: ${object}. Fix: build it (./xdp-lab build bpf, objects land in out/) or give the path of a .bpf.o`);
  }
  const data = await readFile(object);
  return withVm(name, async (client) => {
    const remote = `/run/xdp-lab/obj/${basename(object)}`;
    const copy = await sshExec(client, `mkdir -p /run/xdp-lab/obj && cat > ${shellQuote(remote)}`, { stdin: data });
    if (copy.code !== 0) throw new Error(`Failed to copy ${object} into the VM: ${copy.stderr.trim()}`);
    const iface = `${o.iface}0`;
    // The app replaces what runs there in one step: a rejected object leaves the old one attached.
    const answer = await appCommand(client, ["load", remote, iface, o.mode]);
    if (!answer.ok) throw new Error(`Failed to load ${object} on ${iface} (${o.mode}): ${answer.error}`);
    return answer;
  });
}

/** Detaches what the app attached to a VM port. */
export function unload(name: string, iface: LoadOptions["iface"]): Promise<AppAnswer> {
  return withVm(name, (client) => appCommand(client, ["unload", `${iface}0`]));
}

export interface LabStatus {
  name: string;
  phase: LabState["phase"] | "absent";
  namespaces: Record<Role, boolean>;
  vm: { pid?: number; running: boolean; accel?: Accel; upSeconds?: number; ended?: string; consoleLog?: string };
  /** Set when the lab is up but not whole: what is wrong and the fix. */
  degraded?: string;
  hosts: Record<HostName, string[]>;
  uplink: string;
  /** The app's `stats` answer: attached programs, their mode and counters (or why it refused). */
  programs?: AppStats | { error: string };
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
    vm: { pid, running: pidAlive(pid), accel: state?.accel, upSeconds: state?.upSeconds },
    hosts: {
      vm: [`lan0 ${ADDR.lan.vm}/${ADDR.lan.len}`, `wan0 ${ADDR.wan.vm}/${ADDR.wan.len}`, `mgmt0 ${ADDR.mgmt.vm}/${ADDR.mgmt.len}`],
      client: [`eth0 ${ADDR.lan.client}/${ADDR.lan.len} via ${ADDR.lan.vm}`],
      server: [`eth0 ${ADDR.wan.server}/${ADDR.wan.len}`],
      internet: state?.uplink ? [] : [`eth0 ${ADDR.internet.host}/${ADDR.internet.len}`],
    },
    uplink: state?.uplink ? `NAT through host interface ${state.uplink}` : `simulated internet ${ADDR.internet.prefix}, NAT at ${ADDR.internet.edge}`,
  };
  if (state?.phase === "up" && !s.vm.running) {
    s.vm.ended = await vmEnding(plan, state);
    s.vm.consoleLog = plan.files.consoleLog;
    s.degraded = `the VM is not running (${s.vm.ended}). Fix: ./xdp-lab down${nameFlag(name)} && ./xdp-lab up${nameFlag(name)}`;
  }
  if (state?.phase === "up" && s.vm.running) {
    try {
      const answer = await withVm(name, (client) => appCommand(client, ["stats"]));
      s.programs = answer.ok ? (answer.result as AppStats) : { error: answer.error ?? "" };
    } catch (e) {
      s.error = (e as Error).message;
    }
  }
  return s;
}
