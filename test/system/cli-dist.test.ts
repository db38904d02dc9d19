// The compiled CLI (dist/, made by ./xdp-lab): it runs with plain node, lists every command, and
// starting it loads no command's heavy imports (they load when the command runs). ./xdp-lab compiles
// the CLI with tsc into the checkout's dist/ (and runs npm ci when node_modules is stale), so it is
// not a unit test.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { REPO } from "../../src/paths.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("cli");
const CLI = join(REPO, "dist", "src", "cli.js");

/** Runs the wrapper as a user does: it installs and compiles what is stale first. */
function xdpLab(args: string[]) {
  const r = spawnSync(join(REPO, "xdp-lab"), args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The module URLs node loads for `node dist/src/cli.js ARGS`, recorded by a module hook. */
async function loadedModules(args: string[]): Promise<string[]> {
  const log = join(await tempDir(), "imports");
  const hook = join(REPO, "test", "fixtures", "imports-hook.mjs");
  const r = spawnSync(process.execPath, ["--import", hook, CLI, ...args], {
    cwd: REPO,
    encoding: "utf8",
    env: { ...process.env, IMPORTS_LOG: log },
  });
  assert.is(r.status, 0, r.stderr);
  return readFileSync(log, "utf8").trim().split("\n");
}

const commandNames = (): string[] =>
  readdirSync(join(REPO, "src", "commands"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => /export const command = "([\w-]+)/.exec(readFileSync(join(REPO, "src", "commands", f), "utf8"))?.[1])
    .filter((c): c is string => c !== undefined);

t.after(cleanup);

t("./xdp-lab compiles the CLI to dist/ and its --help lists every command in src/commands", () => {
  const r = xdpLab(["--help"]);
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(CLI));
  const names = commandNames();
  assert.ok(names.length >= 13, `only ${names.length} commands found in src/commands`);
  for (const name of names) assert.match(r.stdout, new RegExp(`^  xdp-lab ${name}\\b`, "m"), `--help does not list ${name}`);
});

t("--help loads only compiled JavaScript and none of execa, ssh2, the lab, the build executor, the VM runner", async () => {
  const urls = await loadedModules(["--help"]);
  const ours = urls.filter((u) => u.startsWith("file:") && !u.includes("/node_modules/")).map((u) => relative(REPO, fileURLToPath(u)));
  assert.ok(ours.includes("dist/src/cli.js"), ours.join(" "));
  assert.equal(ours.filter((f) => !f.startsWith("dist/") || !f.endsWith(".js")), [], "a module outside dist/ or not .js was loaded");
  const heavy = urls.filter((u) => /\/node_modules\/(execa|ssh2)\/|\/dist\/network\/(up|down|session|guest|wiring|status|state|app-client|ssh|ip|nft|keys|cpio|vm\/boot|vm\/accel)\.js$|\/dist\/src\/build\/executor\.js$/.test(u));
  assert.equal(heavy, [], "--help loaded a heavy module");
});

t("a command's handler loads its modules when it runs (the compiled dynamic imports resolve)", async () => {
  const cacheDir = await tempDir();
  const urls = await loadedModules(["cache", "ls", "--cache-dir", cacheDir]);
  assert.ok(urls.some((u) => u.endsWith("/dist/src/build/cache.js")));
});

t("compiled, the CLI finds the checkout where the sources do (dist/src/ is one level deeper)", async () => {
  const compiled = (await import(join(REPO, "dist", "src", "paths.js"))) as { REPO: string; DEFAULT_OUT: string };
  assert.is(compiled.REPO, REPO);
  assert.is(compiled.DEFAULT_OUT, join(REPO, "out"));
});

t("every relative import in dist/ names a file that exists", () => {
  const missing: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".js")) {
        for (const m of readFileSync(p, "utf8").matchAll(/(?:from |import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
          if (!existsSync(join(p, "..", m[1]!))) missing.push(`${relative(REPO, p)}: ${m[1]}`);
        }
      }
    }
  };
  walk(join(REPO, "dist"));
  assert.equal(missing, []);
});

t.run();
