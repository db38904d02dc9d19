// The qemu command line, built from one small pure function per concern and composed in qemuArgs().
import { accessSync, constants } from "node:fs";
import { resolve } from "node:path";
import { CMDLINE, GUEST_ROOT_TAG, type GuestRoot } from "../contract.ts";

export type Accel = "kvm" | "tcg";

/** Everything that shapes the guest; defaults in DEFAULT_VM beside each field. */
export interface VmConfig {
  /** bzImage to boot. */
  kernel: string;
  /** gzip'd cpio initramfs; the guest runs from it (no disk). */
  initrd: string;
  /** kvm when /dev/kvm is usable, tcg (software emulation) otherwise. */
  accel: Accel;
  /** Guest memory in MiB. Default 256: the initramfs unpacks into RAM. */
  memoryMiB: number;
  /** Virtual CPUs. Default 2. */
  cpus: number;
  /** Extra kernel command line arguments, appended last so they win. Default none. */
  append: string[];
  /** Shell command the guest's init runs after it is ready, then powers off. Default: an interactive shell. */
  command?: string;
  /** Guest hostname. Default "xdp". */
  hostname: string;
  /**
   * Unix socket for the command's output: the guest's second serial port (ttyS1), so kernel
   * messages on the console never mix into it. Default none: output goes to the console.
   */
  commandSocket?: string;
  /** NICs on host tap devices. Default none: the guest has no network but loopback. */
  nics?: Nic[];
  /**
   * Serial console on a Unix socket qemu listens on, logged to a file, instead of stdio: for a guest
   * that runs in the background (`xdp-lab up`). Default: the console is qemu's stdio.
   */
  consoleSocket?: { path: string; log: string };
  /** qemu writes its PID here (the lab runs it in the background under a supervisor). Default none. */
  pidfile?: string;
  /** Host directories the guest mounts over virtio 9p. Default none. */
  shares?: Share[];
  /** CPU features turned off under TCG (`-cpu max,F=off`); see TCG_STOCK_CPU_OFF. Default none. */
  cpuOff?: string[];
  /**
   * The guest's root file system: the lab's initramfs, or the host's own root, shared read-only over
   * 9p under a writable overlay in the guest's RAM, with the lab's files on top (rootfs/init). Default initramfs.
   */
  guestRoot?: GuestRoot;
}

/**
 * What a stock Debian kernel needs turned off under TCG: QEMU 7.2 (Debian bookworm's) mis-emulates
 * cmpxchg16b with a %gs prefix, which SLUB's per-CPU fast path in Debian's 6.12 uses; the guest
 * double-faults in kmem_cache_alloc within seconds. Without cx16 SLUB takes its locked path.
 */
export const TCG_STOCK_CPU_OFF = ["cx16"];

/**
 * What a user chooses about the guest: `up` and `boot` take the same options (lab-options.ts reads
 * them from the command line). Every other field of VmConfig follows from the lab or the build.
 */
export type VmOptions = Pick<VmConfig, "accel" | "memoryMiB" | "cpus" | "append" | "shares" | "guestRoot">;

/** A host directory shared with the guest (`--share HOST[:GUEST][:ro]`). */
export interface Share {
  host: string;
  /** Where the guest mounts it (absolute). */
  guest: string;
  readOnly: boolean;
}

/** Guest paths go on the kernel command line, split on spaces and commas by init: keep them plain. */
const GUEST_PATH = /^\/[A-Za-z0-9._+\/-]*$/;

/**
 * Reads `HOST[:GUEST][:ro|:rw]`: GUEST defaults to HOST's absolute path, so paths mean the same on
 * both sides. Throws naming the argument and the fix; whether HOST exists is the caller's check.
 */
export function parseShare(arg: string): Share {
  const parts = arg.split(":");
  const mode = parts.length > 1 && ["ro", "rw"].includes(parts[parts.length - 1]!) ? parts.pop() : undefined;
  if (parts.length > 2 || !parts[0]) throw new Error(`--share ${arg}: expected HOST_DIR[:GUEST_DIR][:ro]. Fix: e.g. --share ./build:/mnt/build:ro`);
  const host = resolve(parts[0]);
  const guest = parts[1] ?? host;
  if (!GUEST_PATH.test(guest)) {
    throw new Error(`--share ${arg}: the guest path ${guest} must be absolute and plain (letters, digits, . _ + - /). Fix: name one, e.g. --share ${host}:/mnt/share`);
  }
  return { host, guest, readOnly: mode === "ro" };
}

/** A host directory as a virtio 9p device (fsdev ID) the guest's init mounts by TAG. */
function ninePArgs(id: string, path: string, tag: string, readOnly: boolean): string[] {
  return ["-fsdev", `local,id=${id},path=${path},security_model=none,multidevs=remap${readOnly ? ",readonly=on" : ""}`, "-device", `virtio-9p-pci,fsdev=${id},mount_tag=${tag}`];
}

/** Each share as a 9p file system device; the guest's init mounts them by tag (see kernelCmdline). */
export function shareArgs(shares: Share[]): string[] {
  return shares.flatMap((sh, i) => ninePArgs(`fs${i}`, sh.host, `share${i}`, sh.readOnly));
}

/** --guest-root host: this machine's / as a read-only 9p device the guest's init mounts by tag. */
export function guestRootArgs(root: GuestRoot | undefined): string[] {
  return root === "host" ? ninePArgs("fsroot", "/", GUEST_ROOT_TAG, true) : [];
}

/** A virtio-net NIC on an existing tap device. */
export interface Nic {
  /** netdev id, unique in the VM. */
  id: string;
  /** Host tap device (created with `multi_queue` when queues > 1). */
  tap: string;
  mac: string;
  /** Queue pairs. Native XDP on virtio-net wants one spare TX queue per guest CPU: 2 x cpus. */
  queues: number;
}

export const DEFAULT_VM: Omit<VmConfig, "kernel" | "initrd" | "accel"> = {
  memoryMiB: 256,
  cpus: 2,
  append: [],
  hostname: "xdp",
};

/** The qemu binary: XDP_LAB_QEMU when set (a stand-in for tests, or another build), else from PATH. */
export function qemuBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.XDP_LAB_QEMU || "qemu-system-x86_64";
}

/**
 * The first line of qemu's stderr that reads as an error ("failed to set MSR", an assertion), past
 * warnings such as TCG's unsupported CPU features and the shell's "Killed"; undefined if none does.
 */
export function firstErrorLine(stderr: string): string | undefined {
  return stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /error|fail|assert|could not|cannot|invalid/i.test(l) && !/warning/i.test(l));
}

/** kvm if this process can open /dev/kvm for reading and writing, else tcg. */
export function detectAccel(dev = "/dev/kvm"): Accel {
  try {
    accessSync(dev, constants.R_OK | constants.W_OK);
    return "kvm";
  } catch {
    return "tcg";
  }
}

/** No default devices, no config files, no graphics; power-off and panics end qemu instead of rebooting. */
export function baseArgs(): string[] {
  return ["-nodefaults", "-no-user-config", "-display", "none", "-no-reboot"];
}

/**
 * q35 with the accelerator. Under TCG the CPU model is qemu's own `max`; with KVM the host's,
 * so the guest sees the real CPU features XDP's JIT can use.
 */
export function machineArgs(accel: Accel, cpus: number, memoryMiB: number, cpuOff: string[] = []): string[] {
  const cpu = accel === "kvm" ? "host" : ["max", ...cpuOff.map((f) => `${f}=off`)].join(",");
  return ["-machine", `q35,accel=${accel}`, "-cpu", cpu, "-smp", String(cpus), "-m", `${memoryMiB}M`];
}

/** The kernel command line: serial console, quiet boot, panic stops the VM, then the lab's own arguments. */
export function kernelCmdline(c: Pick<VmConfig, "command" | "append" | "hostname" | "commandSocket" | "shares" | "guestRoot">): string {
  const args = [
    "console=ttyS0",
    "quiet",
    "panic=-1",
    // Skip the delay-loop calibration: it spins for a long time under TCG.
    "lpj=1000000",
    `${CMDLINE.hostname}=${c.hostname}`,
  ];
  if (c.command !== undefined) args.push(`${CMDLINE.command}=${Buffer.from(c.command).toString("base64")}`);
  if (c.commandSocket !== undefined) args.push(`${CMDLINE.output}=ttyS1`);
  if (c.guestRoot === "host") args.push(`${CMDLINE.root}=host`);
  if (c.shares?.length) args.push(`${CMDLINE.share}=${c.shares.map((sh, i) => `share${i}:${sh.guest}`).join(",")}`);
  return [...args, ...c.append].join(" ");
}

export function kernelArgs(c: Pick<VmConfig, "kernel" | "initrd" | "command" | "append" | "hostname" | "commandSocket" | "shares" | "guestRoot">): string[] {
  return ["-kernel", c.kernel, "-initrd", c.initrd, "-append", kernelCmdline(c)];
}

/** Host entropy through virtio-rng, so nothing in the guest waits for the crng. */
export function rngArgs(): string[] {
  return ["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-pci,rng=rng0"];
}

/** The serial console on qemu's stdio; signal=off passes Ctrl-C to the guest instead of killing qemu. */
export function consoleArgs(): string[] {
  return ["-chardev", "stdio,id=con0,signal=off", "-serial", "chardev:con0"];
}

/**
 * The command channel: ttyS1 on a Unix socket qemu listens on. wait=on holds the guest until the
 * host is connected, so no output is lost.
 */
export function commandChannelArgs(socket: string | undefined): string[] {
  if (socket === undefined) return [];
  return ["-chardev", `socket,id=cmd0,path=${socket},server=on,wait=on`, "-serial", "chardev:cmd0"];
}

/**
 * One NIC. Native XDP on virtio-net needs the guest's GRO offloads off, which the driver does itself
 * through the control queue (ctrl_guest_offloads, on by default), and spare TX queues (mq).
 */
export function nicArgs(n: Nic): string[] {
  const netdev = [`tap`, `id=${n.id}`, `ifname=${n.tap}`, "script=no", "downscript=no", ...(n.queues > 1 ? [`queues=${n.queues}`] : [])];
  const device = ["virtio-net-pci", `netdev=${n.id}`, `mac=${n.mac}`, ...(n.queues > 1 ? ["mq=on", `vectors=${2 * n.queues + 2}`] : [])];
  return ["-netdev", netdev.join(","), "-device", device.join(",")];
}

/** The console on a Unix socket (wait=off: the guest runs whether or not anybody is attached), logged. */
export function socketConsoleArgs(path: string, log: string): string[] {
  return ["-chardev", `socket,id=con0,path=${path},server=on,wait=off,logfile=${log}`, "-serial", "chardev:con0"];
}

/** The PID file is how `down` and `status` find qemu again. */
export function pidfileArgs(pidfile: string | undefined): string[] {
  return pidfile === undefined ? [] : ["-pidfile", pidfile];
}

/** The whole qemu argv for a guest. */
export function qemuArgs(c: VmConfig): string[] {
  return [
    ...baseArgs(),
    ...machineArgs(c.accel, c.cpus, c.memoryMiB, c.cpuOff),
    ...kernelArgs(c),
    ...rngArgs(),
    ...(c.consoleSocket ? socketConsoleArgs(c.consoleSocket.path, c.consoleSocket.log) : consoleArgs()),
    ...commandChannelArgs(c.commandSocket),
    ...(c.nics ?? []).flatMap(nicArgs),
    ...shareArgs(c.shares ?? []),
    ...guestRootArgs(c.guestRoot),
    ...pidfileArgs(c.pidfile),
  ];
}
