// The test tiers: which files each runs, in what order, and how long a system file may take.
// test/runner.ts runs them; `npm test` runs every tier, `npm run test:TIER` one.

/** A system test file and the wall time after which it is stopped and failed (a hang, not a budget). */
export interface SystemFile {
  file: string;
  /** Minutes; default DEFAULT_LIMIT (20). A safety net so one hung file cannot eat CI's 90 minutes. */
  limit?: number;
}

export interface Tier {
  describe: string;
  /** Needs root (namespaces, qemu, podman, apt): in CI a non-root run fails, elsewhere it is skipped with a message. */
  root: boolean;
  /** System files, each run in a process of its own, in this order. */
  files?: SystemFile[];
}

/**
 * The tiers in the order `npm test` runs them. `build` comes first: build-boot compiles the lab's
 * kernel that every later lab boots, kernel-versions 6.12 that container.test compares with.
 */
export const TIERS = {
  check: { describe: "type-check the CLI and the Dagger module", root: false },
  unit: { describe: "pure logic: no root, no network, no Debian packages; one process", root: false },
  build: {
    describe: "builds: the app's C tests, the compiled CLI, the kernels, the containers, the cache",
    root: true,
    files: [
      { file: "test/system/app-unit.test.ts" },
      { file: "test/system/cli-dist.test.ts" },
      { file: "test/system/build-boot.test.ts", limit: 30 },
      { file: "test/system/bpf.test.ts" },
      { file: "test/system/packet-cases.test.ts" },
      { file: "test/system/kernel-versions.test.ts", limit: 30 },
      { file: "test/system/container.test.ts", limit: 60 },
      { file: "test/system/registry.test.ts" },
    ],
  },
  lab: {
    describe: "labs with real traffic: namespaces, qemu, podman hosts, impaired links, xdp-lab test",
    root: true,
    files: [
      { file: "test/system/host-tools.test.ts" },
      { file: "test/system/accel.test.ts" },
      { file: "test/system/app.test.ts" },
      { file: "test/system/app-replace.test.ts" },
      { file: "test/system/lab.test.ts" },
      { file: "test/system/lab-tools.test.ts" },
      { file: "test/system/lab-podman.test.ts" },
      { file: "test/system/lab-impair.test.ts" },
      { file: "test/system/lab-clean.test.ts" },
      { file: "test/system/xdp-lab-test.test.ts" },
      { file: "test/system/traffic-steps.test.ts" },
      { file: "test/system/stock-kernel.test.ts", limit: 25 },
    ],
  },
  "guest-root": {
    describe: "the host's userland in the guest: xdp-tools' own suites there, packet cases on the VM's kernel",
    root: true,
    files: [{ file: "test/system/guest-root.test.ts", limit: 40 }, { file: "test/system/packet-cases-vm.test.ts" }],
  },
} satisfies Record<string, Tier>;

export type TierName = keyof typeof TIERS;
export const TIER_NAMES = Object.keys(TIERS) as TierName[];

/** The system files of TIERS, each with its tier. */
export function systemFiles(tiers: readonly TierName[] = TIER_NAMES): (SystemFile & { tier: TierName })[] {
  return tiers.flatMap((t) => ((TIERS[t] as Tier).files ?? []).map((f) => ({ ...f, tier: t })));
}

/** The files in test/system/ that no tier runs, and the tier files that do not exist: both are mistakes. */
export function tierProblems(onDisk: string[]): string[] {
  const listed = systemFiles().map((f) => f.file);
  return [
    ...onDisk.filter((f) => !listed.includes(f)).map((f) => `${f} is in no tier: add it to test/tiers.ts, or it never runs`),
    ...listed.filter((f) => !onDisk.includes(f)).map((f) => `${f} is named in test/tiers.ts but does not exist`),
    ...listed.filter((f, i) => listed.indexOf(f) !== i).map((f) => `${f} is named twice in test/tiers.ts`),
  ];
}

/** docs/testing.md's tier section, made from TIERS (test/tiers.test.ts fails when the page is stale). */
export function tiersMarkdown(): string {
  const out = ["| tier | command | needs root | what it runs |", "| --- | --- | --- | --- |"];
  for (const name of TIER_NAMES) {
    const t = TIERS[name] as Tier;
    const files = (t.files ?? []).map((f) => `\`${f.file.replace("test/system/", "")}\` (${f.limit ?? DEFAULT_LIMIT} min)`).join(", ");
    out.push(`| ${name} | \`npm run test:${name}\` | ${t.root ? "yes" : "no"} | ${t.describe}${files ? `: ${files}` : ""} |`);
  }
  return out.join("\n");
}

export const DEFAULT_LIMIT = 20;
export const DOCS_BEGIN = "<!-- tiers: made by `node --import ./node_modules/tsx/dist/loader.mjs test/tiers.ts` from test/tiers.ts -->";
export const DOCS_END = "<!-- tiers: end -->";

/** DOC with its tier section replaced by the current one. */
export function withTiers(doc: string): string {
  const a = doc.indexOf(DOCS_BEGIN);
  const b = doc.indexOf(DOCS_END);
  if (a < 0 || b < a) throw new Error(`docs/testing.md has no tier section: put ${DOCS_BEGIN} and ${DOCS_END} where it goes`);
  return `${doc.slice(0, a + DOCS_BEGIN.length)}\n${tiersMarkdown()}\n${doc.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const page = new URL("../docs/testing.md", import.meta.url);
  writeFileSync(page, withTiers(readFileSync(page, "utf8")));
}
