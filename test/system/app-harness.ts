// The host-side bench of xdp-lab-app's system tests: two network namespaces joined by a veth (xa in
// A, xb in B) with static neighbours, the app started on A's console or as a daemon with a control
// socket, and ping from B. Shared by app.test.ts and app-replace.test.ts; each registers its suite.
import type { Context, Test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { cleanup, tempDir } from "../helpers.ts";
import { xdpLab } from "./cli.ts";

export const A = `xdplab-app-${process.pid}-a`;
export const B = `xdplab-app-${process.pid}-b`;
export let out = "";

export const ip = (...args: string[]) => execa("ip", args);
export const inB = (...args: string[]) => execa("ip", ["netns", "exec", B, ...args], { reject: false });

/** Builds every stage and makes the namespaces before the suite; removes them and the apps after. */
export function registerAppSuite(t: Test<Context>): void {
  t.before(async () => {
    out = await tempDir();
    // Every stage, not only app and bpf: on a fresh machine this installs what the tests use too
    // (busybox for ping, iproute2).
    const r = await xdpLab(["build", "--quiet", "--out", out]);
    assert.is(r.exitCode, 0, r.stderr);
    await ip("netns", "add", A);
    await ip("netns", "add", B);
    await ip("link", "add", "xa", "netns", A, "type", "veth", "peer", "name", "xb", "netns", B);
    for (const [ns, dev, addr] of [[A, "xa", "10.98.0.1/24"], [B, "xb", "10.98.0.2/24"]] as const) {
      await execa("ip", ["netns", "exec", ns, "sh", "-c", `echo 1 > /proc/sys/net/ipv6/conf/${dev}/disable_ipv6`]);
      await ip("-n", ns, "addr", "add", addr, "dev", dev);
      await ip("-n", ns, "link", "set", dev, "up");
    }
    // Static neighbours: no ARP, so the counters see exactly the pings.
    const mac = async (ns: string, dev: string) => JSON.parse((await ip("-j", "-n", ns, "link", "show", dev)).stdout)[0].address as string;
    await ip("-n", A, "neigh", "add", "10.98.0.2", "lladdr", await mac(B, "xb"), "dev", "xa");
    await ip("-n", B, "neigh", "add", "10.98.0.1", "lladdr", await mac(A, "xa"), "dev", "xb");
    // A second source on B, for "another source still gets through".
    await ip("-n", B, "addr", "add", "10.98.0.3/24", "dev", "xb");
    await ip("-n", A, "neigh", "add", "10.98.0.3", "lladdr", await mac(B, "xb"), "dev", "xa");
  });

  t.after(async () => {
    for (const p of running) p.kill("SIGKILL");
    await Promise.allSettled(running);
    await execa("ip", ["netns", "del", A], { reject: false });
    await execa("ip", ["netns", "del", B], { reject: false });
    await cleanup();
  });
}

const running: ResultPromise[] = [];

/** The app in namespace A, driven line by line on its console; killed after the suite if a test failed early. */
export function startApp(intervalMs = 1000): { proc: ResultPromise; send(cmd: string): Promise<string>; output(): string } {
  const proc = execa("ip", ["netns", "exec", A, join(out, "xdp-lab-app"), "--interval-ms", String(intervalMs)], {
    stdin: "pipe",
    reject: false,
    buffer: true,
    all: true,
  });
  running.push(proc);
  let text = "";
  proc.all!.on("data", (c: Buffer) => (text += c.toString()));
  return {
    proc,
    output: () => text,
    // Each command answers with at least one line; `stats` with one line per verdict shown. The
    // first waits for the ready line, which would otherwise pass for its answer on a busy machine.
    async send(cmd: string) {
      for (let i = 0; i < 500 && !text.includes("xdp-lab-app ready"); i++) await new Promise((r) => setTimeout(r, 10));
      const before = text.length;
      proc.stdin!.write(cmd + "\n");
      for (let i = 0; i < 200 && !text.slice(before).endsWith("\n"); i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 50));
      return text.slice(before);
    },
  };
}

export const ping = (count: number) => inB("busybox", "ping", "-c", String(count), "-i", "0.2", "-W", "1", "10.98.0.1");
export const counter = (stats: string, verdict: string) => Number(new RegExp(`stats xa ${verdict} packets=(\\d+)`).exec(stats)?.[1]);

/** The app as a daemon: no console (stdin at EOF), commands only through its control socket. */
export async function startDaemon(
  sock: string,
  ...options: string[]
): Promise<{ proc: ResultPromise; output(): string; ctl(...args: string[]): Promise<{ code: number; answer: Record<string, any> }> }> {
  const proc = execa("ip", ["netns", "exec", A, join(out, "xdp-lab-app"), "--control", sock, ...options], { stdin: "ignore", reject: false, all: true });
  running.push(proc);
  let text = "";
  proc.all!.on("data", (c: Buffer) => (text += c.toString()));
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
  return {
    proc,
    output: () => text,
    async ctl(...args: string[]) {
      const r = await execa("ip", ["netns", "exec", A, join(out, "xdp-lab-app"), "ctl", "--control", sock, ...args], { reject: false });
      return { code: r.exitCode ?? -1, answer: r.stdout ? JSON.parse(r.stdout) : {} };
    },
  };
}

/** One raw client on the socket: sends lines, returns the JSON lines it got. */
export function rawClient(sock: string): Promise<{ ask(line: string): Promise<Record<string, any>>; close(): void }> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let buf = "";
    const waiters: ((l: string) => void)[] = [];
    c.on("data", (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        waiters.shift()?.(line);
      }
    });
    c.once("error", reject);
    c.once("connect", () =>
      resolve({
        ask: (line) =>
          new Promise((res) => {
            waiters.push((l) => res(JSON.parse(l)));
            c.write(line + "\n");
          }),
        close: () => c.end(),
      }),
    );
  });
}

/**
 * N clients connected one after another and then left idle; closed() lists, in connection order,
 * those the app has disconnected. Connections are refused only by the app's words, so each must
 * connect.
 */
export async function idleClients(sock: string, n: number): Promise<{ closed(): number[]; close(): void }> {
  const sockets: Socket[] = [];
  const gone = new Set<number>();
  for (let i = 0; i < n; i++) {
    const c = connect(sock);
    await new Promise<void>((res, rej) => {
      c.once("connect", res);
      c.once("error", rej);
    });
    c.on("close", () => gone.add(i));
    c.on("error", () => undefined);
    c.resume();
    sockets.push(c);
  }
  return { closed: () => [...gone].sort((a, b) => a - b), close: () => sockets.forEach((c) => c.destroy()) };
}
