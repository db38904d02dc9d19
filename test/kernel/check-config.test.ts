// kernel/check-config.sh on a made-up Kconfig tree: requested vs effective, later fragments winning.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("kernel/check-config.sh");
t.after(cleanup);

async function check(config: string, fragments: Record<string, string>) {
  const dir = await tempDir();
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "src", "Kconfig"), "config BTF\n\tbool\n\tdepends on DWARF\nconfig DWARF\n\tbool\nconfig VETH\n\tbool\n");
  await writeFile(join(dir, ".config"), config);
  const files = [];
  for (const [name, text] of Object.entries(fragments)) {
    await writeFile(join(dir, name), text);
    files.push(join(dir, name));
  }
  const report = join(dir, "report");
  const r = await execa(join(REPO, "kernel", "check-config.sh"), [join(dir, ".config"), join(dir, "src"), report, ...files], { reject: false });
  return { code: r.exitCode, stderr: r.stderr, report: await readFile(report, "utf8") };
}

t("every request in effect: ok lines, exit 0", async () => {
  const r = await check("CONFIG_BTF=y\nCONFIG_DWARF=y\n", { "lab.config": "CONFIG_BTF=y\nCONFIG_DWARF=y\n# CONFIG_VETH is not set\n" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.report, /ok {7}CONFIG_BTF=y\nok {7}CONFIG_DWARF=y\nok {7}CONFIG_VETH=n/);
});

t("a dropped option is named with what it depends on and the fragment that asked", async () => {
  const r = await check("CONFIG_DWARF=y\n", { "lab.config": "CONFIG_BTF=y\n", "more.config": "CONFIG_NOPE=y\n" });
  assert.is(r.code, 1);
  assert.match(r.stderr, /DROPPED {2}CONFIG_BTF=y \(effective: n; depends on: DWARF; from lab\.config\)/);
  assert.match(r.stderr, /UNKNOWN {2}CONFIG_NOPE=y \(no such Kconfig symbol in this kernel; from more\.config\)/);
});

t("a later fragment overrides an earlier one, as the merge does: turning an option off is no drop", async () => {
  const r = await check("CONFIG_DWARF=y\n", { "lab.config": "CONFIG_BTF=y\nCONFIG_DWARF=y\n", "nobtf.config": "# CONFIG_BTF is not set\n" });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.report, /ok {7}CONFIG_BTF=n\nok {7}CONFIG_DWARF=y\n/);
  assert.not.match(r.report, /CONFIG_BTF=y/);
});

t.run();
