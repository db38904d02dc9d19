// Writes the generated pages of docs/ (`node --import ./node_modules/tsx/dist/loader.mjs docs/gen/index.ts`);
// test/docs/generated.test.ts fails when one on disk differs from what this makes.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { REPO } from "../../src/paths.ts";
import { cliMarkdown, manPage } from "./cli.ts";
import { testFileMarkdown, type Schema } from "./test-file.ts";

/** The example files the test-file reference shows, in this order; others in examples/tests/ after them. */
const EXAMPLES_FIRST = ["start-here.yaml", "setup-fields.yaml"];

/** Every generated page: its path from the repository's root and its text. Reads files only. */
export function generatedPages(repo = REPO): { path: string; text: string }[] {
  const version = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string }).version;
  const schema = JSON.parse(readFileSync(join(repo, "schema", "xdp-lab-test.schema.json"), "utf8")) as Schema;
  const dir = join(repo, "examples", "tests");
  const names = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  const ordered = [...EXAMPLES_FIRST.filter((f) => names.includes(f)), ...names.filter((f) => !EXAMPLES_FIRST.includes(f)).sort()];
  const examples = ordered.map((f) => ({ file: `examples/tests/${f}`, text: readFileSync(join(dir, f), "utf8") }));
  return [
    { path: "docs/cli.md", text: cliMarkdown() },
    { path: "docs/xdp-lab.1", text: manPage(version) },
    { path: "docs/test-file.md", text: testFileMarkdown(schema, examples) },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  for (const p of generatedPages()) {
    writeFileSync(join(REPO, p.path), p.text);
    process.stdout.write(`wrote ${p.path}\n`);
  }
}
