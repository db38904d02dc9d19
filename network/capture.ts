// `capture`: packets at a VM port, as tcpdump prints them or as a pcap. By default on the lab side
// of the port (the tap in the lab namespace, where the bridges are): what the VM really sent and
// received. With xdp: at the XDP hook in the guest with xdpdump (what the program saw, drops
// included), streamed over ssh into the host's tcpdump. tcpdump is run from here only.
import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { PassThrough } from "node:stream";
import { execa } from "execa";
import { GUEST_NICS } from "./contract.ts";
import { netnsExec } from "../src/tools/ip.ts";
import { labPlan } from "./plan.ts";
import { openVm, requireVm, useVm } from "./session.ts";
import { exec as sshExec } from "../src/tools/ssh.ts";
import { shellQuote } from "./shell.ts";

export interface CaptureOptions {
  port: "lan" | "wan";
  /** Stop after this many packets. Default: until interrupted. */
  count?: number;
  /** A pcap file on the host instead of text. */
  write?: string;
  /** At the XDP hook in the guest (xdpdump) instead of on the wire. */
  xdp?: boolean;
  /** A tcpdump filter expression (not with xdp: xdpdump has no filter, tcpdump filters what it gets). */
  filter?: string[];
  /** tcpdump's text lines, when not writing a file. */
  onText?: (b: Buffer) => void;
  /** tcpdump's and xdpdump's messages ("listening on ..."). */
  onInfo?: (b: Buffer) => void;
  /** Aborts a capture without a count. */
  signal?: AbortSignal;
}

/**
 * tcpdump's argv (pure): from an interface or from a pcap on stdin; text, or a pcap on stdout
 * (`write` set) or into `file`. `immediate` counts a frame as it passes (not when a buffer fills)
 * and keeps root (Debian's tcpdump drops to its own user, which could not write the file).
 */
export function tcpdumpArgs(
  from: { iface: string } | { stdin: true },
  o: Pick<CaptureOptions, "count" | "write" | "filter"> & { file?: string; immediate?: boolean; snaplen?: number },
): string[] {
  return [
    ...("iface" in from ? ["-i", from.iface] : ["-r", "-"]),
    "-n",
    ...(o.immediate ? ["-Z", "root", "--immediate-mode"] : []),
    ...(o.file ? ["-U", "-w", o.file] : o.write ? ["-U", "-w", "-"] : ["-l"]),
    ...(o.snaplen !== undefined ? ["-s", String(o.snaplen)] : []),
    ...(o.count !== undefined ? ["-c", String(o.count)] : []),
    ...(o.filter ?? []),
  ];
}

/** Where a port is: the tap on the host side, the NIC's name in the guest. */
export function portDevices(port: CaptureOptions["port"]): { tap: string; guest: string } {
  const nic = GUEST_NICS.find((n) => n.name === `${port}0`)!;
  return { tap: nic.tap, guest: nic.name };
}

/** Runs a capture until its count or its signal; returns how many packets tcpdump reported. */
export async function capture(name: string, o: CaptureOptions): Promise<{ packets?: number; file?: string }> {
  const plan = labPlan(name);
  const state = await requireVm(name);
  const dev = portDevices(o.port);
  const tmp = o.write ? `${o.write}.xdp-lab-tmp.${process.pid}` : undefined;
  const file = tmp ? createWriteStream(tmp) : undefined;
  const written = file ? new Promise<void>((res, rej) => file.once("finish", res).once("error", rej)) : Promise.resolve();
  try {
    const run = async (tcpdump: ReturnType<typeof netnsExec>): Promise<number | undefined> => {
      if (file) tcpdump.stdout!.pipe(file);
      else tcpdump.stdout!.on("data", (b: Buffer) => o.onText?.(b));
      let info = "";
      tcpdump.stderr!.on("data", (b: Buffer) => {
        info += b.toString();
        o.onInfo?.(b);
      });
      const r = await tcpdump;
      if (r.exitCode !== 0 && !r.isTerminated) throw new Error(`tcpdump failed (exit ${r.exitCode}): ${info.trim().split("\n").pop()}`);
      const n = /(\d+) packets? captured/.exec(info)?.[1];
      return n === undefined ? undefined : Number(n);
    };
    let packets: number | undefined;
    if (!o.xdp) {
      const tcpdump = netnsExec(plan.ns.lab, ["tcpdump", ...tcpdumpArgs({ iface: dev.tap }, o)], {
        stdout: "pipe",
        stderr: "pipe",
        buffer: false,
        cancelSignal: o.signal,
        killSignal: "SIGINT",
      });
      packets = await run(tcpdump);
    } else {
      packets = await useVm(await openVm(plan, state), async (client) => {
        const pcap = new PassThrough();
        const tcpdump = execa("tcpdump", tcpdumpArgs({ stdin: true }, o), { stdin: "pipe", stdout: "pipe", stderr: "pipe", buffer: false, reject: false });
        pcap.pipe(tcpdump.stdin!);
        tcpdump.stdin!.on("error", () => undefined);
        // When tcpdump has its count, the guest's xdpdump is stopped by closing the session.
        const counted = run(tcpdump).finally(() => client.end());
        o.signal?.addEventListener("abort", () => client.end());
        const guest = sshExec(client, `exec xdpdump -i ${shellQuote(dev.guest)} --rx-capture entry,exit -w -`, { stdout: pcap, onStderr: o.onInfo }).catch(
          () => undefined,
        );
        const n = await counted;
        await guest;
        return n;
      });
    }
    file?.end();
    await written;
    if (tmp && o.write) await rename(tmp, o.write);
    return { packets, file: o.write };
  } finally {
    if (tmp) await rm(tmp, { force: true });
  }
}
