// bench/results.ts: the benchmarks' one results file and the page section made from it.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { BEGIN, END, PAGE, readResults, renderResults, withResults, type Results } from "../../bench/results.ts";

const t = suite("bench/results");

const run: Results = {
  test: { date: "2026-12-01T10:40:00Z", commit: "abc1234", machine: { cpus: 2, model: "AMD EPYC", memoryGiB: 7.8, kernel: "6.1.0", loadavg: [1.8, 1.5, 1.2] }, figures: { reset: { seconds: 0.43 } } },
};

t("each run is shown with its date, commit and machine, and its figures as printed", () => {
  const md = renderResults(run);
  assert.match(md, /^### bench:test\n/);
  assert.match(md, /2026-12-01 \(2026-12-01T10:40:00Z\), commit abc1234; 2 CPUs \(AMD EPYC\), 7\.8 GiB, kernel 6\.1\.0, load 1\.8 1\.5 1\.2/);
  assert.ok(md.includes('"seconds": 0.43'));
  assert.is(renderResults({}), "No benchmark has recorded a run here yet.");
});

t("only the section between the markers is replaced; a page without them is refused", () => {
  const page = `# B\n\nbefore\n${BEGIN}\nold\n${END}\nafter\n`;
  const next = withResults(page, run);
  assert.ok(next.startsWith(`# B\n\nbefore\n${BEGIN}\n### bench:test`));
  assert.ok(next.endsWith(`\n${END}\nafter\n`));
  assert.is(withResults(next, run), next);
  assert.throws(() => withResults("# B\n", run), /lost its markers/);
});

t("docs/benchmarks.md's latest runs are what bench/results.json holds", () => {
  const page = readFileSync(PAGE, "utf8");
  assert.is(page, withResults(page, readResults()), "stale: node --import ./node_modules/tsx/dist/loader.mjs bench/results.ts");
});

t.run();
