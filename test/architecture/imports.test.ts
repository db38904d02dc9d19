// No import circle in the TypeScript tree: every module can be read, and moved, after the modules it
// imports. Type-only imports count too: a circle of types is a circle of meaning. Read with
// TypeScript's own parser of a file's imports (ts.preProcessFile), so no module runs.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";

const t = suite("imports");

const ROOTS = ["src", "network", "test", "bench", "dagger/src", "docs/gen"];

/** Every .ts file under the roots, and the repository files each imports by a relative path. */
export function importGraph(repo: string): Map<string, string[]> {
  const files = ROOTS.filter((d) => existsSync(join(repo, d))).flatMap((d) =>
    readdirSync(join(repo, d), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.includes("node_modules"))
      .map((f) => join(d, f)),
  );
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(join(repo, f), "utf8"), true, true);
    const deps = info.importedFiles
      .map((i) => i.fileName)
      .filter((s) => s.startsWith("."))
      .map((s) => relative(repo, resolve(repo, dirname(f), s)))
      .filter((p) => known.has(p));
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** The circles of GRAPH: its strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const c: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      on.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(c.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

t("the finder finds a circle of two, one of types only, and none in a line", () => {
  assert.equal(circles(new Map([["a", ["b"]], ["b", ["a"]], ["c", ["a"]]])), [["a", "b"]]);
  assert.equal(circles(new Map([["a", ["b"]], ["b", ["c"]], ["c", []]])), []);
  assert.equal(circles(new Map([["a", ["a"]]])), [["a"]]);
});

t("no import circle in src/, network/, test/, bench/, dagger/src/ or docs/gen/", () => {
  const graph = importGraph(REPO);
  assert.ok(graph.size > 200, `${graph.size} files read`);
  assert.ok([...graph.values()].flat().length > 500, "imports were read");
  assert.equal(circles(graph), []);
});

t.run();
