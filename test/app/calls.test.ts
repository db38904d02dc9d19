// app/'s parts call each other one way: no .c file reaches itself again through functions or data
// defined in others, and no header includes itself again. Read from the sources (no compiler, so it
// runs before anything is installed), relying on the kernel style they are written in.
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../../src/paths.ts";

const APP = join(REPO, "app");

/** C source without comments, string and character literals, and preprocessor lines. */
export function strip(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'/g, (m) => (m.startsWith("/") ? " " : '""'))
    .replace(/^[ \t]*#(?:[^\n]*\\\n)*[^\n]*/gm, "");
}

/**
 * The names a file defines for other files: functions and data at the top level that are not
 * static. Top-level pieces are found by brace depth: a head followed by a body (a function), or
 * text up to a `;` at depth 0 (data, types, declarations).
 */
export function definitions(src: string): string[] {
  const code = strip(src);
  const names: string[] = [];
  let acc = "";
  let head = "";
  let depth = 0;
  const done = (piece: string): void => {
    const p = piece.trim();
    acc = "";
    if (!p || /^(static|extern|typedef)\b/.test(p)) return;
    if (/\)\s*\{\}$/.test(p) && !p.includes("=")) {
      // A function definition: its name stands before the first parenthesis.
      const m = /(\w+)\s*\(/.exec(p);
      if (m) names.push(m[1]!);
      return;
    }
    const before = p.split("=")[0]!;
    if (!p.includes("=") && /\(/.test(before)) return; // a prototype
    // Data: the declarator is the last name before `=`, `[` or `;`, after any struct body.
    const tail = before.includes("}") ? before.slice(before.lastIndexOf("}") + 1) : before;
    if (before.includes("{") && !tail.trim().replace(/;$/, "")) return; // a type only
    const m = /(\w+)\s*(?:\[[^\]]*\]\s*)*;?\s*$/.exec(tail.trim());
    if (m && !/^(struct|union|enum)$/.test(m[1]!)) names.push(m[1]!);
  };
  for (const ch of code) {
    if (ch === "{") {
      if (depth++ === 0) head = acc;
      continue;
    }
    if (ch === "}") {
      if (--depth === 0) {
        acc = head + "{}";
        // A function's body ends its piece; an initializer or a struct body goes on to its `;`.
        if (/\)\s*$/.test(head) && !head.includes("=")) done(acc);
      }
      continue;
    }
    if (depth > 0) continue;
    if (ch === ";") done(acc + ";");
    else acc += ch;
  }
  return names;
}

/** Identifiers a file uses. */
function identifiers(src: string): Set<string> {
  return new Set(strip(src).match(/\b[A-Za-z_]\w*\b/g) ?? []);
}

/**
 * Edges file -> file, each with the names that make it: a file uses a name another defines. That
 * is the linker's view (the edges equal those from nm's undefined and defined symbols of the built
 * objects); a call through a pointer a part registered (a hook) is no edge, which is the point. A
 * member or local named like another file's global counts as a use: the check errs toward edges.
 */
export function callGraph(files: Record<string, string>): Map<string, Map<string, string[]>> {
  const definedIn = new Map<string, string>();
  for (const [file, src] of Object.entries(files)) for (const name of definitions(src)) definedIn.set(name, file);
  const graph = new Map<string, Map<string, string[]>>();
  for (const [file, src] of Object.entries(files)) {
    const edges = new Map<string, string[]>();
    for (const id of identifiers(src)) {
      const to = definedIn.get(id);
      if (to && to !== file) edges.set(to, [...(edges.get(to) ?? []), id]);
    }
    graph.set(file, edges);
  }
  return graph;
}

/** A cycle as the list of its nodes (first repeated at the end), or undefined. */
export function findCycle(graph: Map<string, Iterable<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const read = (ext: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(APP)
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => [f, readFileSync(join(APP, f), "utf8")]),
  );

const t = suite("app: calls go one way");

t("the parser finds what a file defines for others, and not what it keeps to itself", () => {
  const src = [
    "// a comment with f(x) {",
    "#define X(a) \\\n  (a)",
    "static int helper(int a)\n{\n\treturn a;\n}",
    "int exported(struct app *a,\n\t     int b)\n{\n\tif (b) { return helper(b); }\n\treturn 0;\n}",
    "static const char *const names[2] = { \"a{\", \"b\" };",
    "const struct command table[] = {\n\t{ \"x\", 0 },\n\t{ .name = NULL },\n};",
    "struct local { int x; };",
    "static struct { char t[8]; } buf;",
    "int counter;",
    "void declared(int);",
  ].join("\n");
  assert.equal(definitions(src).sort(), ["counter", "exported", "table"]);
});

t("a cycle through other files is found and named", () => {
  const graph = callGraph({
    "a.c": "void a_run(void)\n{\n\tb_run();\n}",
    "b.c": "void b_run(void)\n{\n\tc_run();\n}",
    "c.c": "void c_run(void)\n{\n\ta_run();\n}",
    "d.c": "void d_run(void)\n{\n\ta_run();\n}",
  });
  assert.equal(findCycle(new Map([...graph].map(([k, v]) => [k, v.keys()]))), ["a.c", "b.c", "c.c", "a.c"]);
  graph.get("c.c")!.clear();
  assert.is(findCycle(new Map([...graph].map(([k, v]) => [k, v.keys()]))), undefined);
});

t("no app/*.c reaches itself through the functions and data of the others", () => {
  const graph = callGraph(read(".c"));
  // The parser sees the app: the calls everyone knows are there.
  const edge = (from: string, to: string) => graph.get(from)?.has(to);
  assert.ok(edge("main.c", "commands.c") && edge("control.c", "commands.c") && edge("script_lab.c", "commands.c"), "known calls found");
  assert.ok(edge("xdp.c", "events.c") && edge("script_lua.c", "stats.c"), "known calls found");
  const cycle = findCycle(new Map([...graph].map(([k, v]) => [k, v.keys()])));
  const why = cycle?.slice(1).map((to, i) => `${cycle[i]} -> ${to} (${graph.get(cycle[i]!)!.get(to)!.join(", ")})`);
  assert.is(cycle, undefined, `calls go in a circle: ${why?.join("; ")}`);
});

t("no header of app/ includes itself again", () => {
  const headers = read(".h");
  const graph = new Map(
    Object.entries(headers).map(([h, src]) => [h, [...src.matchAll(/^#include "([^"/]+\.h)"/gm)].map((m) => m[1]!).filter((f) => f in headers)]),
  );
  assert.ok(graph.get("app.h")!.includes("control.h"), "includes found");
  assert.is(findCycle(graph), undefined);
});

t.run();
