import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { hostOf, parseEnd } from "../../network/hosts/index.ts";
import { localCopy } from "../../network/copy.ts";
import { labPlan } from "../../network/plan.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("network/hosts");
t.after(cleanup);

t("each host is of its plan's kind unless up ran it as a container", () => {
  const plan = labPlan("h");
  assert.is(hostOf(plan, "vm", undefined).kind, "vm");
  for (const h of ["client", "server", "internet"] as const) assert.is(hostOf(plan, h, undefined).kind, "netns");
  const state = { name: "h", phase: "up", startedAt: "", out: "/o", accel: "tcg", hosts: { server: { kind: "podman", image: "localhost/x:1" } } } as const;
  assert.is(hostOf(plan, "server", state).kind, "podman");
  assert.is(hostOf(plan, "client", state).kind, "netns");
  assert.is(hostOf(plan, "client", state).name, "client");
});

t("cp's ends: HOST:/PATH for every host, a plain path here; a relative host path is refused with the fix", () => {
  assert.equal(parseEnd("vm:/root/x"), { host: "vm", path: "/root/x" });
  assert.equal(parseEnd("client:/tmp/a b"), { host: "client", path: "/tmp/a b" });
  assert.equal(parseEnd("./prog.o"), { path: "./prog.o" });
  assert.throws(() => parseEnd("vm:relative"), /vm:relative: a VM path must be absolute/);
  // Not a host: a path here that happens to hold a colon.
  assert.equal(parseEnd("router:/x"), { path: "router:/x" });
  assert.throws(() => parseEnd("server:tmp/x"), /server:tmp\/x: a server path must be absolute\. Fix: server:\/root\/tmp\/x/);
});

t("a namespace host shares this machine's files: a copy lands like cp -a, into a directory when the target is one", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "f"), "hello");
  await mkdir(join(dir, "into"));
  const r = await localCopy(join(dir, "f"), join(dir, "into"));
  assert.equal(r, { target: join(dir, "into", "f"), bytes: 5, kind: "file" });
  assert.is(await readFile(join(dir, "into", "f"), "utf8"), "hello");
  const missing = await localCopy(join(dir, "missing"), dir).then(() => undefined, (e: Error) => e.message);
  assert.match(missing ?? "", /No such file or directory: .*missing/);
});

t.run();
