// The layers, bottom up: src/tools/ (one module per external tool: ip, tc, nft, ssh, podman, apt,
// dpkg, bpftool, ...), network/ (the lab), src/ (the CLI, the build, the test runner). Each imports
// only from the layers below it, so there is one wrapper per tool and the lab never reaches up.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";

const t = suite("layers: src/tools/, network/, src/");

/** Each relative import of the .ts files under DIR, as repository paths: [importer, imported]. */
function imports(dir: string): [string, string][] {
  const files = readdirSync(join(REPO, dir), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  return files.flatMap((f) => {
    const text = readFileSync(join(REPO, dir, f), "utf8");
    return [...text.matchAll(/(?:from |import\()"(\.[^"]+)"/g)].map(([, spec]): [string, string] => [join(dir, f), relative(REPO, join(REPO, dir, f, "..", spec!))]);
  });
}

t("network/ imports from src/ only its bottom layer, src/tools/ (src/ imports network/, never the other way)", () => {
  const all = imports("network");
  assert.ok(all.length > 50);
  assert.ok(all.some(([, to]) => to.startsWith("src/tools/")), "network/ runs its tools through src/tools/");
  assert.equal(all.filter(([, to]) => to.startsWith("src/") && !to.startsWith("src/tools/")), []);
});

t("src/tools/ is the bottom layer: its modules import node's, npm's and each other, nothing above", () => {
  const all = imports("src/tools");
  assert.ok(all.length > 3);
  assert.equal(all.filter(([, to]) => !to.startsWith("src/tools/")), []);
});

t("one module per external tool: no other file runs ip, tc, nft or podman through execa", () => {
  const offenders: string[] = [];
  for (const dir of ["network", "src"]) {
    for (const f of readdirSync(join(REPO, dir), { recursive: true, encoding: "utf8" }).filter((x) => x.endsWith(".ts"))) {
      const path = join(dir, f);
      if (path.startsWith("src/tools/")) continue;
      const text = readFileSync(join(REPO, path), "utf8");
      for (const tool of ["ip", "tc", "nft", "podman"]) if (new RegExp(`execa\\("${tool}"`).test(text)) offenders.push(`${path}: ${tool}`);
    }
  }
  assert.equal(offenders, []);
});

t.run();
