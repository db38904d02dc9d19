// What the schema cannot check in a test's setup: a Lua script that exists (its path made absolute,
// relative to the test file, as objects are) and impairment values in range, read into numbers.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { checkImpairment, impairFieldMessage, ImpairmentError, parseValue, type Impairment, type ImpairParam } from "../../network/impair.ts";
import type { FileProblem, TestCase } from "./file-types.ts";

type Locate = (path: (string | number)[]) => { line: number; column: number };

/**
 * Checks test I's setup of FILE in place: app.lua becomes absolute, every impairment value a number
 * in its unit. Returns the problems, each at its field.
 */
export function checkSetup(t: TestCase, i: number, file: string, locate: Locate): FileProblem[] {
  const problems: FileProblem[] = [];
  const at = (path: (string | number)[], message: string): void => {
    const { line, column } = locate(["tests", i, ...path]);
    problems.push({ file, line, column, field: `tests[${i}].${path.map((p) => (typeof p === "number" ? `[${p}]` : p)).join(".").replace(/\.\[/g, "[")}`, message });
  };
  const app = t.setup?.app;
  if (app?.lua !== undefined) {
    app.lua = resolve(dirname(file), app.lua);
    if (!existsSync(app.lua)) at(["setup", "app", "lua"], `no such file: ${app.lua} (paths are relative to the test file; the app's example is out/flood-guard.lua: ./xdp-lab build app)`);
  }
  for (const [link, spec] of Object.entries(t.setup?.impair ?? {})) {
    const imp: Impairment = {};
    let ok = true;
    for (const [k, v] of Object.entries(spec ?? {})) {
      try {
        imp[k as ImpairParam] = parseValue(k as ImpairParam, v);
      } catch (e) {
        if (!(e instanceof ImpairmentError)) throw e;
        ok = false;
        at(["setup", "impair", link, k], impairFieldMessage(e.problem));
      }
    }
    if (!ok) continue;
    try {
      checkImpairment(imp);
      (t.setup!.impair as Record<string, Impairment>)[link] = imp;
    } catch (e) {
      if (!(e instanceof ImpairmentError)) throw e;
      at(["setup", "impair", link], impairFieldMessage(e.problem));
    }
  }
  return problems;
}
