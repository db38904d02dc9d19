// The CI workflow (.github/workflows/build.yml), parsed: the Dagger build and the host path, identical builds checked with
// --verify, every action pinned by commit and the Dagger CLI by the version dagger.json pins.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { parse } from "yaml";
import { REPO } from "../../src/paths.ts";

const t = suite("ci/workflow");
const text = readFileSync(join(REPO, ".github", "workflows", "build.yml"), "utf8");

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, { needs?: string | string[]; steps: Step[]; container?: { image: string } }>;
}
const wf = parse(text) as Workflow;
const steps = (job: string): Step[] => wf.jobs[job]!.steps;

t("every action is pinned by a full commit, with its release in a comment", () => {
  const uses = [...text.matchAll(/uses:\s*(\S+)(.*)$/gm)];
  assert.ok(uses.length >= 6);
  for (const [, ref, rest] of uses) {
    assert.match(ref!, /^[\w.-]+\/[\w.-]+(\/[\w.-]+)*@[0-9a-f]{40}$/, `${ref} is not pinned by commit`);
    assert.match(rest!, /# v\d+\.\d+\.\d+/, `${ref}: say which release the commit is`);
  }
});

t("the Dagger job runs `dagger call ... build export --path=out` with the Dagger version dagger.json pins, and uploads out/", () => {
  const engine = (JSON.parse(readFileSync(join(REPO, "dagger.json"), "utf8")) as { engineVersion: string }).engineVersion;
  assert.is(`v${wf.env.DAGGER_VERSION}`, engine);
  const dagger = steps("dagger").find((s) => s.uses?.startsWith("dagger/dagger-for-github@"));
  assert.ok(dagger);
  assert.is(dagger!.with!.version, "${{ env.DAGGER_VERSION }}");
  assert.is(dagger!.with!.verb, "call");
  assert.match(String(dagger!.with!.args), /^--epochs='\$\{\{ steps\.epochs\.outputs\.json \}\}' (\$\{\{ steps\.entry\.outputs\.arg \}\} )?build export --path=out$/);
  assert.ok(steps("dagger").some((s) => s.run?.includes("./xdp-lab epochs")));
  const up = steps("dagger").find((s) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.is(up!.with!.path, "out/");
});

t("the host job runs the README's test command in CI mode, then compares with --verify", () => {
  const host = steps("host");
  const test = host.findIndex((s) => s.run?.includes("CI=true .ci/run"));
  const verify = host.findIndex((s) => s.run === "./xdp-lab build --verify out-dagger/manifest.json");
  const download = host.findIndex((s) => s.uses?.startsWith("actions/download-artifact@"));
  assert.ok(test >= 0 && download > test && verify > download, "test, then download the Dagger build, then verify");
  assert.equal(wf.jobs.host!.needs, ["key", "dagger"]);
  assert.match(wf.jobs.host!.container!.image, /^debian:bookworm@sha256:[0-9a-f]{64}$/);
  assert.match(readFileSync(join(REPO, ".ci", "run"), "utf8"), /exec npm test/);
  assert.match(readFileSync(join(REPO, "README.md"), "utf8"), /^npm test\s/m);
});

t("the kernel stage stays in the CI cache under `xdp-lab cache key kernel`, computed with the locked packages", () => {
  const key = steps("key").find((s) => s.id === "key");
  assert.match(key!.run!, /\.\/xdp-lab cache key kernel\)/);
  const install = steps("key").findIndex((s) => s.run?.includes("src/build/packages.lock"));
  assert.ok(install >= 0 && install < steps("key").indexOf(key!), "the key is computed with the locked packages installed");
  const host = steps("host");
  const cache = host.find((s) => s.uses?.startsWith("actions/cache@"));
  assert.ok(cache, "host job caches the kernel entry");
  assert.is(cache!.with!.key, "xdp-lab-kernel-${{ needs.key.outputs.kernel }}");
  assert.is(cache!.with!.path, "~/.cache/xdp-lab/stages/kernel/${{ needs.key.outputs.kernel }}");
  assert.ok(host.indexOf(cache!) < host.findIndex((s) => s.run?.includes("CI=true .ci/run")), "restored before the tests build");
  assert.ok(host.findIndex((s) => s.run?.includes("src/build/packages.lock")) < host.findIndex((s) => s.run?.includes("CI=true .ci/run")), "host job installs the locked versions");
  // The Dagger job restores the same entry under the same key and path, and hands it to the module.
  const dagger = steps("dagger");
  const restore = dagger.find((s) => s.uses?.startsWith("actions/cache/restore@"));
  assert.ok(restore, "the Dagger job restores the kernel entry");
  assert.is(restore!.with!.key, cache!.with!.key);
  assert.is(restore!.with!.path, cache!.with!.path);
  assert.is(restore!.uses!.split("@")[1], cache!.uses!.split("@")[1], "the same actions/cache commit");
  const call = dagger.find((s) => s.uses?.startsWith("dagger/dagger-for-github@"));
  assert.match(String(call!.with!.args), /\$\{\{ steps\.entry\.outputs\.arg \}\} build export/);
  assert.match(dagger.find((s) => s.id === "entry")!.run!, /--kernel-entry=\$dir/);
  assert.ok(dagger.indexOf(restore!) < dagger.indexOf(call!));
});

t("the build image stays in the CI cache under `xdp-lab cache key image`; the Dagger job builds in it on a hit", () => {
  const key = steps("key").find((s) => s.id === "key");
  assert.match(key!.run!, /echo "image=\$\(\.\/xdp-lab cache key image\)" >> "\$GITHUB_OUTPUT"/);
  const path = "~/.cache/xdp-lab/stages/image/${{ needs.key.outputs.image }}";
  const hostCache = steps("host").find((s) => s.uses?.startsWith("actions/cache@") && s.with!.path === path);
  assert.ok(hostCache, "host job keeps the image entry");
  assert.is(hostCache!.with!.key, "xdp-lab-image-${{ needs.key.outputs.image }}");
  assert.ok(steps("host").indexOf(hostCache!) < steps("host").findIndex((s) => s.run?.includes("CI=true .ci/run")), "restored before the tests make it");
  const restore = steps("dagger").find((s) => s.uses?.startsWith("actions/cache/restore@") && s.with!.path === path);
  assert.ok(restore, "the Dagger job restores the image entry");
  assert.is(restore!.with!.key, hostCache!.with!.key);
  const entry = steps("dagger").find((s) => s.id === "entry")!.run!;
  assert.match(entry, /--build-image=\$img/);
  assert.match(entry, /img="\$HOME\/\.cache\/xdp-lab\/stages\/image\/\$\{\{ needs\.key\.outputs\.image \}\}\/image\.tar"/);
  // The module takes it: a constructor argument buildImage of type File (Dagger's --build-image).
  const index = readFileSync(join(REPO, "dagger", "src", "index.ts"), "utf8");
  assert.match(index, /^\s+buildImage\?: File,$/m);
  assert.match(index, /if \(this\.buildImage\) return dag\.container\(\)\.import_\(this\.buildImage\);/);
  // And the file is the one the image entry holds.
  assert.match(readFileSync(join(REPO, "src", "build", "image.ts"), "utf8"), /export const IMAGE_FILE = "image\.tar";/);
});

t("a lock the archive moved past does not stop the workflow: each install falls back to today's versions, with a warning", () => {
  for (const job of ["key", "host"]) {
    const install = steps(job).find((s) => s.run?.includes("src/build/packages.lock"))!.run!;
    assert.match(install, /\|\| \{\n\s+echo "::warning::Debian's archive no longer has every version/);
    assert.match(install, /cut -d= -f1\)/);
  }
});

t("the base image is the same pinned bookworm in the workflow and in the Dagger module", () => {
  const pipeline = readFileSync(join(REPO, "dagger", "src", "pipeline.ts"), "utf8");
  const image = /BASE_IMAGE = "([^"]+)"/.exec(pipeline)![1]!;
  assert.is(wf.jobs.host!.container!.image, image);
});

t("the host job runs `xdp-lab test tests/` after the build, keeping going, and uploads its JUnit file and test-results/ whatever happened; the summary comes from GITHUB_STEP_SUMMARY", () => {
  const host = steps("host");
  const build = host.findIndex((s) => s.run === "./xdp-lab build");
  const run = host.findIndex((s) => /^\.\/xdp-lab test tests\/ /.test(s.run ?? ""));
  assert.ok(build >= 0 && run > build, "the tests run after the build");
  const argv = host[run]!.run!.split(/\s+/);
  const flag = (f: string): string | undefined => argv[argv.indexOf(f) + 1];
  assert.ok(argv.includes("--keep-going"), "every test runs even after a failure");
  const junitFile = flag("--junit")!;
  const results = flag("--results")!;
  assert.ok(junitFile && results, "a JUnit file and a results folder");
  const upload = host.slice(run + 1).find((s) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.ok(upload, "uploaded after the run");
  assert.is(upload!.if, "always()", "uploaded when the tests failed too");
  const paths = String(upload!.with!.path).split("\n").map((p) => p.trim()).filter(Boolean);
  assert.ok(paths.some((p) => junitFile.startsWith(p.replace(/\/?$/, "/")) || p === junitFile), `${junitFile} is uploaded (${paths.join(", ")})`);
  assert.ok(paths.some((p) => p.replace(/\/$/, "") === results), `${results}/ is uploaded`);
  const name = String(upload!.with!.name);
  assert.not.ok(host.some((s) => s !== upload && s.uses?.startsWith("actions/upload-artifact@") && s.with!.name === name), "an artefact name of its own");
  // The runner writes the summary where GitHub says (no step redirects it).
  assert.not.match(host[run]!.run!, /GITHUB_STEP_SUMMARY/);
  assert.match(readFileSync(join(REPO, "src", "commands", "test.ts"), "utf8"), /process\.env\.GITHUB_STEP_SUMMARY\) await appendFile\(process\.env\.GITHUB_STEP_SUMMARY, /);
});

t("the kernels job runs xdp-lab test tests/ on 6.12 built from source and on Debian's stock kernels, each kernel entry under its own key", () => {
  const job = wf.jobs.kernels as unknown as { strategy: { matrix: { kernel: string[] } }; steps: Step[] };
  assert.equal(job.strategy.matrix.kernel, ["6.12", "debian-6.1", "debian-6.12"]);
  const k = job.steps;
  const test = k.find((s) => /^\.\/xdp-lab test tests\/ --kernel \$\{\{ matrix\.kernel \}\}/.test(s.run ?? ""));
  assert.ok(test && /--keep-going/.test(test.run!), "every test on the matrix's kernel");
  const key = k.find((s) => s.id === "key612")!;
  assert.match(key.run!, /\.\/xdp-lab cache key kernel --kernel 6\.12/);
  const caches = k.filter((s) => s.uses?.startsWith("actions/cache@")).map((s) => String(s.with!.key));
  assert.equal(caches, ["xdp-lab-kernel-${{ needs.key.outputs.kernel }}", "xdp-lab-kernel-6.12-${{ steps.key612.outputs.kernel }}"]);
  const build612 = k.findIndex((s) => s.run === "./xdp-lab build --kernel 6.12");
  assert.ok(build612 > 0 && build612 < k.indexOf(test!), "6.12 is built before its tests");
  const upload = k.find((s) => s.uses?.startsWith("actions/upload-artifact@"))!;
  assert.is(upload.if, "always()");
  assert.is(upload.with!.name, "xdp-lab-test-results-${{ matrix.kernel }}");
});

t("the workflow is kept once, where GitHub runs it", () => {
  assert.not.ok(existsSync(join(REPO, "ci", "github")), "ci/github/ is gone: .github/workflows/build.yml is the workflow");
});

t.run();
