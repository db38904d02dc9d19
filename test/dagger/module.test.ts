// The Dagger module itself, read the way Dagger's TypeScript introspection reads it (the syntax
// tree, no engine): one @object() class, a @func() for every stage of the stage table plus
// toolchain and build, each documented with an `Example usage: dagger call ...` line; dagger.json
// pins the engine to the SDK version the module type-checks against.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { STAGE_NAMES } from "../../src/build/stages.ts";
import { REPO } from "../../src/paths.ts";

const t = suite("dagger/module");
const source = readFileSync(join(REPO, "dagger", "src", "index.ts"), "utf8");
const file = ts.createSourceFile("index.ts", source, ts.ScriptTarget.ES2022, true);

const decorators = (n: ts.Node): string[] =>
  (ts.canHaveDecorators(n) ? (ts.getDecorators(n) ?? []) : []).map((d) => d.expression.getText(file).replace(/\(.*$/s, ""));

const classes = file.statements.filter(ts.isClassDeclaration).filter((c) => decorators(c).includes("object"));

/** Every @func() method of the @object() class, with its JSDoc text. */
function functions(): Map<string, string> {
  const fns = new Map<string, string>();
  for (const m of classes[0]!.members) {
    if (!ts.isMethodDeclaration(m) || !decorators(m).includes("func")) continue;
    const doc = ts.getJSDocCommentsAndTags(m).map((d) => d.getText(file)).join("\n");
    fns.set(m.name.getText(file), doc);
  }
  return fns;
}

t("one @object() class", () => {
  assert.is(classes.length, 1);
  assert.is(classes[0]!.name?.getText(file), "XdpLab");
});

t("a @func() for every stage of the stage table, and toolchain and build", () => {
  const fns = functions();
  for (const name of [...STAGE_NAMES, "toolchain", "build"]) assert.ok(fns.has(name), `no Dagger function for "${name}" in dagger/src/index.ts`);
});

t("each function has a summary and an `Example usage: dagger call` line naming it", () => {
  for (const [name, doc] of functions()) {
    assert.match(doc, /\/\*\*\s*\n\s*\*\s+\S/, `${name}: no summary`);
    assert.match(doc, new RegExp(`Example usage: dagger call [^\\n]*\\b${name}\\b`), `${name}: no example`);
  }
});

t("the source argument defaults to the repository and keeps outputs, dependencies and caches out", () => {
  assert.match(source, /@argument\(\{ defaultPath: "\/", ignore: \[[^\]]*"out"[^\]]*"node_modules"[^\]]*"\.cache"/);
});

t("dagger.json: module source dagger/, engine pinned to the SDK version type-checked against", () => {
  const cfg = JSON.parse(readFileSync(join(REPO, "dagger.json"), "utf8")) as { engineVersion: string; source: string; sdk: { source: string }; include: string[] };
  const pkg = JSON.parse(readFileSync(join(REPO, "dagger", "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const sdk = pkg.dependencies["@dagger.io/dagger"]!;
  assert.match(sdk, /^\d+\.\d+\.\d+$/, "the SDK is pinned to an exact version");
  assert.is(cfg.engineVersion, `v${sdk}`);
  assert.is(cfg.source, "dagger");
  assert.is(cfg.sdk.source, "typescript");
  // What the module imports from outside dagger/ must be loaded with it.
  for (const needed of ["src/build/**", "src/paths.ts", "bpf/*.bpf.c"]) assert.ok(cfg.include.includes(needed), needed);
  const lock = JSON.parse(readFileSync(join(REPO, "dagger", "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
  assert.is(lock.packages["node_modules/@dagger.io/dagger"]!.version, sdk);
});

t.run();
