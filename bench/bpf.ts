// ns per packet of each XDP program under BPF_PROG_TEST_RUN on the host kernel, printed as JSON.
//
//   npm run bench:bpf
//
// The kernel runs the program `repeat` times on one 64-byte UDP frame and reports the mean; each
// figure is the median of 5 such runs. Needs root (it mounts a BPF file system in a temp dir).
import { execa } from "execa";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../src/paths.ts";
import { loadXdp, runXdp, updateMap } from "../src/tools/bpftool.ts";
import { ipKey, udpFrame } from "../test/system/frames.ts";

const repeat = 1_000_000;
const runs = 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const root = await mkdtemp(join(tmpdir(), "xdp-lab-bench-bpf-"));
const fs = join(root, "bpffs");
const out = join(root, "out");
await mkdir(fs);
try {
  const built = await execa(join(REPO, "xdp-lab"), ["build", "bpf", "--quiet", "--out", out], { reject: false });
  if (built.exitCode !== 0) throw new Error(`build bpf failed:\n${built.stderr}`);
  await execa("mount", ["-t", "bpf", "xdp-lab-bench", fs]);
  const frame = join(root, "frame.bin");
  await writeFile(frame, udpFrame("192.168.1.66", "10.0.2.2", 4000, 53, 64 - 42));

  const measure = async (name: string, setup?: (maps: string) => Promise<void>) => {
    const dir = join(fs, name + (setup ? "-hit" : ""));
    await mkdir(dir);
    await loadXdp(join(out, `${name}.bpf.o`), join(dir, "prog"), join(dir, "maps"));
    if (setup) await setup(join(dir, "maps"));
    const ns: number[] = [];
    let verdict = -1;
    for (let i = 0; i < runs; i++) {
      const r = await runXdp(join(dir, "prog"), frame, repeat);
      ns.push(r.ns);
      verdict = r.verdict;
    }
    return { nsPerPacket: median(ns), runs: ns, verdict };
  };

  const results = {
    method: `bpftool prog run (BPF_PROG_TEST_RUN), ${repeat} repeats per run, median of ${runs} runs, 64-byte UDP frame`,
    kernel: (await execa("uname", ["-r"])).stdout,
    pass: { ...(await measure("pass")), targetNs: 10 },
    drop: { ...(await measure("drop")), targetNs: 10 },
    firewallNotBlocked: { ...(await measure("firewall")), targetNs: 30 },
    firewallBlocked: {
      ...(await measure("firewall", (maps) => updateMap(join(maps, "sources"), ipKey("192.168.1.66"), [1, 0, ...new Array(14).fill(0)]))),
      targetNs: 30,
    },
  };
  console.log(JSON.stringify(results, null, 2));
} finally {
  await execa("umount", [fs], { reject: false });
  await rm(root, { recursive: true, force: true });
}
