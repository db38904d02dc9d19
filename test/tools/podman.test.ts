// Choosing a container engine: only one whose engine answers `info`, podman first; when none does,
// the error names each one tried and why.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { findEngine, PODMAN_GLOBAL, probeEngine } from "../../src/tools/podman.ts";
import { cleanup, failure, tempDir } from "../helpers.ts";

const t = suite("container engine");
t.after(cleanup);

/** A directory for PATH holding stand-ins: each prints SAID on stderr for `info` and exits CODE. */
async function bin(engines: Record<string, { code: number; said?: string }>): Promise<string> {
  const dir = join(await tempDir(), "bin");
  await mkdir(dir);
  for (const [name, { code, said }] of Object.entries(engines)) {
    await writeFile(join(dir, name), `#!/bin/sh\necho "$*" >> "${dir}/${name}.log"\n${said ? `echo '${said}' >&2\n` : ""}exit ${code}\n`);
    await chmod(join(dir, name), 0o755);
  }
  // Nothing else on PATH: a podman or docker the machine has is not found.
  return dir;
}

t("a docker client without an engine is not chosen; the error names each engine and why", async () => {
  const path = await bin({ docker: { code: 1, said: "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" } });
  const e = await failure(findEngine(path));
  assert.match(e.message, /^No container engine answers for build --container: podman: not installed; docker: `docker info` failed \(exit 1\): Cannot connect to the Docker daemon at unix:\/\/\/var\/run\/docker\.sock/);
  assert.match(e.message, /Fix: apt-get install podman runc/);
});

t("podman that answers is chosen, with the options these hosts need; docker is not asked", async () => {
  const path = await bin({ podman: { code: 0 }, docker: { code: 0 } });
  const engine = await findEngine(path);
  assert.equal(engine, { file: "podman", global: PODMAN_GLOBAL });
  const probe = await probeEngine({ file: "docker", global: [] }, path);
  assert.ok(probe.ok);
});

t("podman installed but failing falls back to a docker engine that answers, and says why podman did not", async () => {
  const path = await bin({ podman: { code: 125, said: "Error: default OCI runtime \"crun\" not found" }, docker: { code: 0 } });
  assert.equal(await findEngine(path), { file: "docker", global: [] });
  const probe = await probeEngine({ file: "podman", global: PODMAN_GLOBAL }, path);
  assert.equal(probe.reason, '`podman info` failed (exit 125): Error: default OCI runtime "crun" not found');
});

t.run();
