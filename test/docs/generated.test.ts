// The generated pages of docs/ (CLI reference, man page, test-file reference) are what their
// sources make today: edit src/commands/ or schema/, then run docs/gen/index.ts.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../../src/paths.ts";
import { generatedPages } from "../../docs/gen/index.ts";
import { COMMANDS } from "../../src/commands/index.ts";
import { commands, roff } from "../../docs/gen/cli.ts";

const t = suite("docs: generated pages");

for (const page of generatedPages()) {
  t(`${page.path} is what docs/gen/index.ts makes from its sources`, () => {
    const onDisk = readFileSync(join(REPO, page.path), "utf8");
    if (onDisk !== page.text) {
      const a = onDisk.split("\n");
      const b = page.text.split("\n");
      const i = a.findIndex((l, n) => l !== b[n]);
      assert.unreachable(
        `${page.path} is stale (first difference at line ${i + 1}: on disk ${JSON.stringify(a[i])}, made ${JSON.stringify(b[i])}). ` +
          "Fix: node --import ./node_modules/tsx/dist/loader.mjs docs/gen/index.ts, and commit the pages",
      );
    }
  });
}

t("the CLI reference has every command the CLI registers, each with its options", () => {
  const cmds = commands();
  assert.is(cmds.length, COMMANDS.length);
  const md = readFileSync(join(REPO, "docs/cli.md"), "utf8");
  const man = readFileSync(join(REPO, "docs/xdp-lab.1"), "utf8");
  for (const c of cmds) {
    assert.ok(md.includes(`## xdp-lab ${c.name}\n`), c.name);
    assert.ok(man.includes(`.SH "THE ${roff(c.name.toUpperCase())} COMMAND"`), c.name);
    for (const o of c.options) assert.ok(md.includes(`--${o.name}`), `${c.name} --${o.name}`);
  }
  // One row per command: the README's old table had two for link.
  assert.is(md.split("\n").filter((l) => l.startsWith("| [link](")).length, 1);
});

t("roff: hyphens and backslashes escaped, no line taken for a request", () => {
  assert.is(roff("a-b\\c\n.x\n'y"), "a\\-b\\ec\n\\&.x\n\\&'y");
});

t.run();
