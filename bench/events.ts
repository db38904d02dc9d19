// Events per second from the kernel to the app's Lua handler, on the host kernel, printed as JSON:
//   npm run bench:events
// firewall.bpf.o is attached by xdp-lab-app (with report_every_packet=1, so every packet is an
// event) to a veth in a namespace this bench creates and removes; a Lua script counts on_event
// calls. The kernel runs the attached program on a 64-byte UDP frame through BPF_PROG_TEST_RUN
// (bpftool prog run id ID ... repeat N) as fast as it can for a few seconds, so the ring buffer is
// always full: what reaches Lua per second is the app's ceiling. Needs root.
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../src/paths.ts";
import { udpFrame } from "../test/system/frames.ts";
import { report } from "./results.ts";

const SECONDS = 3;
const CHUNK = 50_000;
const NS = `xdplab-bench-ev-${process.pid}`;
const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-events-"));
const out = join(root, "out");
const sock = join(root, "app.sock");
let app: ReturnType<typeof execa> | undefined;

try {
  const built = await execa(join(REPO, "xdp-lab"), ["build", "bpf", "app", "--quiet", "--out", out], { reject: false });
  if (built.exitCode !== 0) throw new Error(`build failed:\n${built.stderr}`);
  await execa("ip", ["netns", "add", NS]);
  await execa("ip", ["-n", NS, "link", "add", "ev0", "type", "veth", "peer", "name", "ev1"]);
  await execa("ip", ["-n", NS, "link", "set", "ev0", "up"]);
  await execa("ip", ["-n", NS, "link", "set", "ev1", "up"]);
  await writeFile(join(root, "count.lua"), "n = 0\nfunction on_event(ev) n = n + 1 end\n");
  app = execa("ip", ["netns", "exec", NS, join(out, "xdp-lab-app"), "--control", sock], { stdin: "ignore", stdout: "ignore", stderr: "inherit", reject: false });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 10));
  const ctl = async (...args: string[]) => {
    const r = await execa(join(out, "xdp-lab-app"), ["ctl", "--control", sock, ...args], { reject: false });
    const a = JSON.parse(r.stdout) as { ok: boolean; error?: string; result: Record<string, any> };
    if (!a.ok) throw new Error(`${args.join(" ")}: ${a.error}`);
    return a.result;
  };
  const id = (await ctl("load", join(out, "firewall.bpf.o"), "ev0", "report_every_packet=1")).id as number;
  await ctl("lua", join(root, "count.lua"));
  const frame = join(root, "frame.bin");
  await writeFile(frame, udpFrame("192.168.1.66", "10.0.2.2", 4000, 53, 64 - 42));

  const luaEvents = async () => (await ctl("stats")).lua_events as number;
  const start = await luaEvents();
  const t0 = performance.now();
  let produced = 0;
  while (performance.now() - t0 < SECONDS * 1000) {
    await execa("ip", ["netns", "exec", NS, "bpftool", "prog", "run", "id", String(id), "data_in", frame, "repeat", String(CHUNK)]);
    produced += CHUNK;
  }
  const busy = (performance.now() - t0) / 1000;
  const delivered = (await luaEvents()) - start;
  // Then let the app drain what is left in the ring buffer.
  let drained = delivered;
  for (let last = -1; drained !== last; ) {
    last = drained;
    await new Promise((r) => setTimeout(r, 100));
    drained = (await luaEvents()) - start;
  }
  report("events", {
    method: `firewall.bpf.o with report_every_packet=1 attached by xdp-lab-app; bpftool prog run (BPF_PROG_TEST_RUN) repeat ${CHUNK} in a loop for ${SECONDS} s; Lua on_event counts`,
    kernel: (await execa("uname", ["-r"])).stdout,
    eventsToLuaPerSecond: Math.round(delivered / busy),
    runSeconds: Number(busy.toFixed(3)),
    packetsRun: produced,
    deliveredToLua: drained,
    lostRingBufferFull: produced - drained,
    targetPerSecond: 200_000,
  });
} finally {
  app?.kill("SIGTERM");
  await app;
  await execa("ip", ["netns", "del", NS], { reject: false });
  await rm(root, { recursive: true, force: true });
}
