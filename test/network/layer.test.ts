import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";

const t = suite("network/ layer");

t("network/ imports nothing from src/ (src/ imports network/, never the other way)", () => {
  const files = readdirSync(join(REPO, "network"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  assert.ok(files.length > 20);
  const offenders = files.filter((f) => {
    const text = readFileSync(join(REPO, "network", f), "utf8");
    return [...text.matchAll(/(?:from |import\()"([^"]+)"/g)].some(([, spec]) => spec!.startsWith(".") && relative(REPO, join(REPO, "network", f, "..", spec!)).startsWith("src/"));
  });
  assert.equal(offenders, []);
});

t.run();
