// Packet cases in the lab's VM (--guest-root host: the guest has this checkout, python3, scapy and
// libbpf), on the kernel the lab boots: the project's cases pass there as on the host, and where the
// two levels must disagree they do: fib_router, which passes on the host (no routes in the run's
// namespace), forwards in the VM, which has the lab's routes and neighbours. Needs root, qemu and the
// repository's out/ (./xdp-lab build); one lab, booted under TCG here.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as assert from "uvu/assert";
import type { RunResult } from "../../src/testing/report.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { suite } from "../suite.ts";
import { ok, xdpLab } from "./cli.ts";

const t = suite("packet cases in the lab's VM (--guest-root host)");

t.after(cleanup);

t("tests/packet-cases.yaml passes on the VM's kernel; the fib_router example forwards there (XDP_REDIRECT) where the host passes", async () => {
  await ok(["build", "--quiet"]);
  const dir = await tempDir();
  const json = join(dir, "r.json");
  const r = await xdpLab(["test", "tests/packet-cases.yaml", "examples/tests/packet-cases.yaml", "--guest-root", "host", "--keep-going", "--json", json, "--results", join(dir, "results")]);
  // One test fails on purpose: the example states the host's answer for fib_router.
  assert.is(r.exitCode, 1, r.stdout + r.stderr);
  const res = JSON.parse(await readFile(json, "utf8")) as RunResult;
  assert.ok(r.stdout.includes(`, lab ${res.lab})`), r.stdout);
  for (const x of res.tests) {
    assert.is(x.kernel, "built", x.name);
    for (const p of x.programs ?? []) assert.ok(p.verified_insns! > 0, `${x.name}: ${JSON.stringify(p)}`);
  }
  const failed = res.tests.filter((x) => x.verdict === "fail").map((x) => x.name);
  assert.equal(failed, ["fib_router on this machine passes what it cannot route (the lab's routes are in the VM)"]);
  const fib = res.tests.find((x) => x.name.startsWith("fib_router"))!;
  // In the VM: a route and a neighbour, so the frame is rewritten and redirected to wan0.
  assert.is(fib.packets![0]!.verdict, "XDP_REDIRECT");
  assert.match(fib.failures[0]!.what + fib.failures[0]!.got, /verdict.*XDP_REDIRECT/);
  // The TTL went down in the VM too: reflect's frame and fib_router's.
  assert.is(Buffer.from(fib.packets![0]!.output, "hex")[22], 63);
  const reflect = res.tests.find((x) => x.name.startsWith("reflect"))!;
  assert.is(reflect.packets![0]!.verdict, "XDP_TX");
});

t.run();
