// Cache entries through an OCI registry: `cache push` to Debian's docker-registry on localhost, `cache
// pull` into an empty cache (verified as `cache import` does); an image that is not a cache is refused.
// Needs root and podman; installs docker-registry when missing. In CI it fails rather than skip.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { Cache } from "../../src/build/cache.ts";
import { which } from "../../src/tools/ensure.ts";
import { aptInstall } from "../../src/tools/apt.ts";
import { PODMAN_GLOBAL } from "../../src/tools/podman.ts";
import { cleanup, tempDir } from "../helpers.ts";
import { xdpLab } from "./cli.ts";

const t = suite("cache push/pull through a registry (system)");
const port = 15000 + (process.pid % 1000);
const repo = `localhost:${port}/xdp-lab/cache`;
let registry: ResultPromise | undefined;
let dir = "";

t.before(async () => {
  try {
    if (!which("docker-registry") || (!which("podman") && !which("docker"))) await aptInstall(["docker-registry", "podman", "runc"]);
  } catch (error) {
    if (process.env.CI === "true") throw error;
    console.log(`SKIPPED registry: cannot install docker-registry (${(error as Error).message.split("\n")[0]})`);
    return;
  }
  dir = await tempDir();
  const config = join(dir, "registry.yml");
  await writeFile(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, "store")}\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  registry = execa("docker-registry", ["serve", config], { reject: false, stdin: "ignore" });
  for (let i = 0; i < 50; i++) {
    const r = await execa("curl", ["-sf", `http://127.0.0.1:${port}/v2/`], { reject: false });
    if (r.exitCode === 0) return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error("docker-registry did not start");
});

t.after(async () => {
  registry?.kill();
  await cleanup();
});

t("push two stages' entries, pull them into an empty cache: the same keys and files", async () => {
  if (!dir) return;
  const from = new Cache(join(dir, "from"));
  for (const [stage, key] of [["bpf", "c".repeat(64)], ["kernel", "d".repeat(64)]] as const) {
    const s = await from.scratch(stage);
    await writeFile(join(s, "artifact"), `${stage} ${key}`);
    await from.store(s, { stage, key, created: "2026-01-01T00:00:00Z", seconds: 1 });
  }
  const push = await xdpLab(["cache", "push", "--insecure", "--cache-dir", from.root, `${repo}:k1`, "bpf", "kernel"]);
  assert.is(push.exitCode, 0, push.stderr);
  const pull = await xdpLab(["cache", "pull", "--insecure", "--cache-dir", join(dir, "to"), `${repo}:k1`]);
  assert.is(pull.exitCode, 0, pull.stderr);
  assert.match(pull.stdout, /imported bpf +c{64}\nimported kernel +d{64}/);
  const to = new Cache(join(dir, "to"));
  assert.ok(await to.lookup("kernel", "d".repeat(64)));
});

t("pulling an image that is not an xdp-lab cache, or a tag that is not there, fails naming it", async () => {
  if (!dir) return;
  const pull = await xdpLab(["cache", "pull", "--insecure", "--cache-dir", join(dir, "to2"), `${repo}:missing`]);
  assert.is(pull.exitCode, 1);
  assert.match(pull.stderr, new RegExp(`Failed to pull ${repo}:missing`));
  // Some other image: one file that is not the cache archive.
  await writeFile(join(dir, "hello"), "hi");
  await execa("tar", ["-C", dir, "-cf", join(dir, "layer.tar"), "hello"]);
  const podman = (args: string[]) => execa("podman", [...PODMAN_GLOBAL, ...args]);
  await podman(["import", join(dir, "layer.tar"), `${repo}:foreign`]);
  await podman(["push", "--tls-verify=false", `${repo}:foreign`]);
  await podman(["rmi", `${repo}:foreign`]);
  const foreign = await xdpLab(["cache", "pull", "--insecure", "--cache-dir", join(dir, "to2"), `${repo}:foreign`]);
  assert.is(foreign.exitCode, 1);
  assert.match(foreign.stderr, /is it an xdp-lab cache image\?/);
});

t.run();
