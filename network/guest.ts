// The lab's VM seen from the host: its initrd overlay and qemu configuration, starting qemu under
// its supervisor, waiting until it answers ssh, and how it ended when it is gone.
import { readFile } from "node:fs/promises";
import type { Client } from "ssh2";
import { netnsExec } from "../src/tools/ip.ts";
import { GUEST_NICS, queuesFor } from "./contract.ts";
import { ConsoleWatch } from "./vm/console.ts";
import type { CpioEntry } from "./cpio.ts";
import { ADDR, guestEnv, hostsFile, type LabPlan } from "./plan.ts";
import { connect, type VmLink } from "../src/tools/ssh.ts";
import { pidAlive, readPid, type LabState } from "./state.ts";
import { DEFAULT_VM, qemuArgs, qemuBinary, type VmConfig, type VmOptions } from "./vm/qemu.ts";
import { awaitQemuEnding, qemuEnding, supervisedArgv } from "./vm/supervisor.ts";

/** The console log's last lines, quoted as the console model quotes them. */
export async function consoleTail(plan: LabPlan): Promise<string> {
  const watch = new ConsoleWatch();
  watch.push(await readFile(plan.files.consoleLog).catch(() => ""));
  watch.flush();
  return watch.quote();
}

/** The files the guest gets on top of the build's initramfs: lab config, keys, hosts. */
export function overlay(authorizedKey: string, hostKey: Buffer): CpioEntry[] {
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

/** The qemu configuration of the lab's VM: the user's options (defaults from DEFAULT_VM), OUT's kernel (or KERNEL) and the lab's initrd. */
export function vmConfig(plan: LabPlan, out: string, o: Partial<VmOptions> & Pick<VmOptions, "accel"> & Pick<VmConfig, "cpuOff">, kernel = `${out}/bzImage`): VmConfig {
  const vm = { ...DEFAULT_VM, shares: [], ...withoutUndefined(o), accel: o.accel };
  return {
    ...vm,
    kernel,
    initrd: plan.files.initrd,
    hostname: "xdp",
    nics: GUEST_NICS.map((n) => ({ id: n.name, tap: n.tap, mac: n.mac, queues: queuesFor(n, vm.cpus) })),
    consoleSocket: { path: plan.files.console, log: plan.files.consoleLog },
    pidfile: plan.files.pid,
  };
}

/** O without its undefined fields, so that they do not hide the defaults they are spread over. */
export function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function vmLink(plan: LabPlan, privateKey: Buffer, hostPublic: string): VmLink {
  return { ns: plan.ns.lab, address: ADDR.mgmt.vm, privateKey, hostPublic };
}

/** How the lab's VM ended, or undefined while qemu runs. */
export async function vmEnding(plan: LabPlan, state: LabState | undefined): Promise<string | undefined> {
  if (pidAlive(state?.qemuPid ?? (await readPid(plan)))) return undefined;
  return qemuEnding(qemuFiles(plan)) ?? "qemu is gone; how it ended was not recorded";
}

/**
 * Starts qemu in the lab namespace under its supervisor, detached from this process (a runner killed
 * during `up` leaves it to `down`), and waits for its PID file; fails with qemu's words if it exits first.
 */
export async function startQemu(plan: LabPlan, vm: VmConfig, out: string): Promise<number> {
  const qemu = qemuBinary();
  const argv = supervisedArgv([qemu, ...qemuArgs(vm)], qemuFiles(plan));
  const child = netnsExec(plan.ns.lab, argv, { detached: true, stdio: "ignore" });
  child.unref();
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    const ended = qemuEnding(qemuFiles(plan));
    if (ended) throw new Error(`The VM failed to start (${ended}).\nConsole:\n${await consoleTail(plan)}\nFix: check ${out} holds a good build (./xdp-lab build)${vm.accel === "kvm" ? ", or try --accel tcg" : ""}`);
    const pid = await readPid(plan);
    if (pid) return pid;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`qemu wrote no PID file (${plan.files.pid}) within 30 s. Fix: check that ${qemu} runs (${qemu} --version)`);
}

/** Retries ssh until the VM answers; fails with the console's tail when qemu exits, the guest panics or time runs out. */
export async function waitForSsh(plan: LabPlan, link: VmLink, pid: number | undefined, timeoutS: number): Promise<Client> {
  const deadline = performance.now() + timeoutS * 1000;
  const watch = new ConsoleWatch();
  let read = 0;
  let last = "";
  // The console log grows while qemu runs: feed what is new since the last look.
  const feed = async (): Promise<void> => {
    const log = await readFile(plan.files.consoleLog).catch(() => Buffer.alloc(0));
    if (log.length > read) watch.push(log.subarray(read));
    read = Math.max(read, log.length);
  };
  while (performance.now() < deadline) {
    await feed();
    const alive = pidAlive(pid);
    // qemu can write its last lines (a panic's) and exit between the read and the check: read what it left.
    if (!alive) {
      await feed();
      watch.flush();
    }
    if (watch.panicked || !alive) {
      const how = alive ? "" : ` (${(await awaitQemuEnding(qemuFiles(plan))) ?? "qemu exited; its supervisor recorded no status"})`;
      const what = watch.panicked ? "The VM's kernel panicked during boot" : "The VM stopped during boot";
      throw new Error(`${what}${how}. Last console lines:\n${watch.quote()}\nFull console log: ${plan.files.consoleLog}`);
    }
    if (watch.ready) {
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

/** Where the supervisor records how qemu ended. */
function qemuFiles(plan: LabPlan): { stderr: string; exit: string } {
  return { stderr: plan.files.qemuStderr, exit: plan.files.qemuExit };
}
