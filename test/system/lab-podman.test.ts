// Container hosts: a lab whose client and server are podman containers of the lab's own image in
// the lab's namespaces (ping both families, curl, exec with stdin, cp both ways, capture, status),
// a mixed lab, the errors for a missing image and one without a shell, and `down` leaving no
// container, also after a kill -9 of `up`. Needs root and podman (installed when missing; in CI
// it fails rather than skip). No image is pulled: the default one is built from Debian's archive.
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { hostImageTag } from "../../src/host-image.ts";
import { labContainers } from "../../network/containers.ts";
import { podmanArgs } from "../../src/tools/podman.ts";
import { labPlan } from "../../network/plan.ts";
import { labNames } from "../../network/state.ts";
import { namespacePids } from "../../src/tools/ip.ts";
import { which } from "../../src/tools/ensure.ts";
import { aptInstall } from "../../src/tools/apt.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { XDP_LAB, ok, xdpLab } from "./cli.ts";
import { leftovers } from "./lab-leftovers.ts";

const t = suite("lab: podman hosts");
const P = `p${process.pid}`.slice(0, 12);
const M = `m${process.pid}`.slice(0, 12);
const K = `k${process.pid}`.slice(0, 12);
const NOSHELL = `localhost/xdp-lab-test-noshell:${process.pid}`;
let out = "";

const on = (lab: string, host: string, ...cmd: string[]) => xdpLab(["exec", host, "--name", lab, "--", ...cmd]);

t.before(async () => {
  if (!which("podman")) await aptInstall(["podman", "runc", "debootstrap"]);
  out = await tempDir();
  await ok(["build", "--quiet", "--out", out]);
  await ok(["up", "--name", P, "--out", out, "--hosts", "podman"]);
});

t.after(async () => {
  for (const n of [P, M, K]) await xdpLab(["down", "--name", n]);
  await execa("podman", podmanArgs(["rmi", "-f", NOSHELL]), { reject: false });
  await cleanup();
});

t("client and server are containers of the lab's image: ping in both families, curl, the internet through NAT", async () => {
  for (const family of ["-4", "-6"]) {
    const r = await on(P, "client", "ping", family, "-c", "3", "-W", "2", "server");
    assert.is(r.exitCode, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /3 packets transmitted, 3 received/);
    // One router between them: the VM.
    assert.match(r.stdout, family === "-4" ? /ttl=63/ : /ttl=63|hlim=63/);
  }
  assert.is((await on(P, "client", "curl", "-sS", "http://server/")).stdout, `xdp-lab ${P}: hello from the server`);
  assert.is((await on(P, "client", "curl", "-sS", "--max-time", "10", "http://internet/cgi-bin/ip")).stdout.trim(), "198.51.100.1");
  // The container's own file system: the host's files are not there.
  assert.is((await on(P, "client", "sh", "-c", `test -e ${out}/bzImage; echo $?`)).stdout.trim(), "1");
});

t("exec passes stdin; cp copies in and out; status names the image, the container and its state", async () => {
  for (const host of ["client", "server"]) {
    const r = await execa(XDP_LAB, ["exec", host, "--name", P, "--", "cat > /tmp/xl-stdin; cat /tmp/xl-stdin; hostname"], { input: `hello ${host}\n`, reject: false });
    assert.is(r.exitCode, 0, r.stderr);
    assert.is(r.stdout, `hello ${host}\n${host}`);
  }
  const dir = await tempDir();
  await writeFile(join(dir, "in.txt"), "into the container\n");
  await ok(["cp", "--name", P, join(dir, "in.txt"), "client:/tmp/"]);
  assert.is((await on(P, "client", "cat", "/tmp/in.txt")).stdout, "into the container");
  await on(P, "server", "sh", "-c", "echo out of the container > /tmp/out.txt");
  await ok(["cp", "--name", P, "server:/tmp/out.txt", dir]);
  assert.is(await readFile(join(dir, "out.txt"), "utf8"), "out of the container\n");
  const missing = await xdpLab(["cp", "--name", P, "server:/nothere", dir]);
  assert.is(missing.exitCode, 1);
  assert.match(missing.stderr, /No such file or directory on server: server:\/nothere/);
  const s = JSON.parse(await ok(["status", "--name", P, "--json"])) as { hosts: Record<string, { kind: string; running: boolean; container?: { id: string; image: string; state: string } }> };
  for (const host of ["client", "server"]) {
    assert.is(s.hosts[host]!.kind, "podman");
    assert.equal(s.hosts[host]!.container?.image, hostImageTag());
    assert.is(s.hosts[host]!.container?.state, "running");
    assert.match(s.hosts[host]!.container!.id, /^[0-9a-f]{12}$/);
  }
  assert.is(s.hosts.internet!.kind, "netns");
});

t("capture at the VM's LAN port sees the container client's pings; the container has NET_RAW for tcpdump but no NET_ADMIN", async () => {
  const cap = execa(XDP_LAB, ["capture", "lan", "--name", P, "--count", "2", "--", "icmp"], { reject: false, timeout: 30_000 });
  await new Promise((r) => setTimeout(r, 1500));
  await on(P, "client", "ping", "-4", "-c", "2", "-W", "2", "server");
  const c = await cap;
  assert.is(c.exitCode, 0, c.stderr);
  assert.match(c.stdout, /10\.10\.1\.10 > 10\.10\.2\.10: ICMP echo request/);
  const addr = await on(P, "client", "ip", "addr", "add", "10.10.1.11/24", "dev", "eth0");
  assert.is.not(addr.exitCode, 0);
  assert.match(addr.stderr, /Operation not permitted/);
});

t("a mixed lab: a container server from a named local image, a namespace client", async () => {
  await ok(["up", "--name", M, "--out", out, "--server-image", hostImageTag()]);
  const s = JSON.parse(await ok(["status", "--name", M, "--json"])) as { hosts: Record<string, { kind: string }> };
  assert.equal([s.hosts.client!.kind, s.hosts.server!.kind], ["netns", "podman"]);
  assert.is((await on(M, "client", "curl", "-sS", "http://server/")).stdout, `xdp-lab ${M}: hello from the server`);
  await ok(["down", "--name", M]);
  assert.equal(await leftovers(M), []);
});

t("a missing image and one without a shell are named with the fix; nothing is left", async () => {
  let r = await xdpLab(["up", "--name", M, "--out", out, "--client-image", "localhost/no-such-image:1"]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, /--client-image localhost\/no-such-image:1: no such image on this machine\. Fix: podman pull/);
  assert.equal(await leftovers(M), []);
  const dir = await tempDir();
  await mkdir(join(dir, "root"));
  await writeFile(join(dir, "root", "hello"), "no shell here\n");
  await execa("tar", ["-C", join(dir, "root"), "-cf", join(dir, "root.tar"), "."]);
  await execa("podman", podmanArgs(["import", join(dir, "root.tar"), NOSHELL]));
  r = await xdpLab(["up", "--name", M, "--out", out, "--server-image", NOSHELL]);
  assert.is(r.exitCode, 1);
  assert.match(r.stderr, new RegExp(`Image ${NOSHELL} has no shell \\(sh\\)`));
  assert.equal(await leftovers(M), []);
});

t("down removes the containers, also after kill -9 of the runner during up and with its state and namespaces gone", async () => {
  const plan = labPlan(K);
  const runner = execa(XDP_LAB, ["up", "--name", K, "--out", out, "--hosts", "podman"], { reject: false, detached: true });
  for (let i = 0; i < 600 && !existsSync(plan.files.pid); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(plan.files.pid), "up never started qemu");
  process.kill(-runner.pid!, "SIGKILL");
  await runner;
  assert.equal((await labContainers(K)).sort(), [plan.hosts.client.container, plan.hosts.server.container].sort(), "the kill left no container: the test proves nothing");
  // As after a reboot (/run is a tmpfs): qemu, the state and the namespaces gone, the containers
  // still listed by podman. They alone name the lab for down --all.
  const gone = new Set([Number(await readFile(plan.files.pid, "utf8"))]);
  for (const ns of Object.values(plan.ns)) for (const pid of await namespacePids(ns).catch(() => [] as number[])) gone.add(pid);
  // The containers' processes too: they become exited containers, which podman still lists.
  for (const pid of gone) {
    try {
      if (pid) process.kill(pid, "SIGKILL");
    } catch {
      // ended meanwhile
    }
  }
  await rm(plan.dir, { recursive: true, force: true });
  for (const ns of Object.values(plan.ns)) await execa("ip", ["netns", "del", ns], { reject: false });
  assert.ok((await labNames()).includes(K), "down --all would not find the lab's containers");
  await ok(["down", "--name", K]);
  assert.equal(await leftovers(K), []);
  await ok(["down", "--name", P]);
  assert.equal(await leftovers(P), []);
});

t.run();
