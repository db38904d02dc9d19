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
import { sections, testFileMarkdown, valuesOf, type Schema } from "../../docs/gen/test-file.ts";

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

t("test-file reference: a definition the schema adds gets its section, reached or not, and its fields their rows", () => {
  const schema: Schema = {
    properties: { tests: { type: "array", items: { $ref: "#/$defs/test" } } },
    $defs: {
      host: { enum: ["vm", "client"] },
      test: { type: "object", required: ["name"], properties: { name: { type: "string", description: "Its name." }, on: { $ref: "#/$defs/host" }, when: { anyOf: [{ type: "integer", minimum: 0, maximum: 9 }, { const: "now" }] } } },
      packetCase: { type: "object", description: "Not reached yet.", properties: { frame: { type: "string", default: "x" } } },
    },
  };
  assert.equal(sections(schema).map(([n]) => n), ["file", "test", "packetCase"]);
  assert.is(valuesOf({ $ref: "#/$defs/host" }, schema), "`vm`, `client`");
  assert.is(valuesOf({ type: "array", items: { $ref: "#/$defs/test" } }, schema), "a list of [test](#test)");
  const md = testFileMarkdown(schema, [{ file: "examples/tests/x.yaml", text: "tests: []\n" }]);
  assert.ok(md.includes("| `name` | string | yes |  | Its name. |"), md);
  assert.ok(md.includes("| `when` | integer, 0 to 9; or `now` |  |  |  |"), md);
  assert.ok(md.includes("## packetCase\n\nNot reached yet.\n"), md);
  assert.ok(md.includes("| `frame` | string |  | `x` |  |"), md);
  assert.ok(md.includes("### examples/tests/x.yaml\n\n```yaml\ntests: []\n```"), md);
});

t.run();
