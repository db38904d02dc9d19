// The stage table must load with node's own modules only: the Dagger module imports it in a
// container where no npm package is installed, and dagger.json's `include` must ship every file it
// reaches. Both rules were kept by comments; this test keeps them.
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";

const t = suite("stage table imports");

/** A file's module specifiers: static imports and re-exports, plus dynamic import() calls if asked. */
function specifiers(file: string, dynamic: boolean): string[] {
  const src = readFileSync(file, "utf8").replace(/\/\/.*$/gm, "");
  const re = dynamic ? /(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)["']([^"']+)["']/gm : /(?:\bfrom\s*|^import\s+)["']([^"']+)["']/gm;
  return [...src.matchAll(re)].map((m) => m[1]!);
}

/** The files a module reaches through relative imports, and the non-relative specifiers on the way. */
function closure(entry: string, dynamic: boolean): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const s of specifiers(file, dynamic)) {
      if (s.startsWith(".")) visit(resolve(dirname(file), s));
      else packages.add(s);
    }
  };
  visit(entry);
  return { files: [...files].map((f) => relative(REPO, f)).sort(), packages: [...packages].sort() };
}

/** dagger.json's include globs as regular expressions (** any path, * one segment). */
function included(path: string): boolean {
  const globs = (JSON.parse(readFileSync(join(REPO, "dagger.json"), "utf8")) as { include: string[] }).include;
  return globs.some((g) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*\*/g, "\0").replace(/\*/g, "[^/]*").replace(/\0/g, ".*")}$`).test(path));
}

const STAGES = join(REPO, "src/build/stages.ts");

t("the stage table and everything it imports at load time use node's own modules only", () => {
  const { packages } = closure(STAGES, false);
  assert.equal(packages.filter((p) => !p.startsWith("node:")), [], "npm packages imported (statically) from src/build/stages.ts");
});

t("dagger.json includes every file the stage table reaches, also through dynamic imports", () => {
  const { files } = closure(STAGES, true);
  assert.ok(files.length > 1);
  assert.equal(files.filter((f) => !included(f)), [], "files missing from dagger.json's include");
});

t.run();
