// A stage's cache key: what goes into it (the stage's inputs and SOURCE_DATE_EPOCH, the host's
// toolchain and packages or the build image, the command's shape) and the keys of the stages it
// needs. Every stage's facts are gathered at once, and the toolchain's versions and dpkg's answers
// are remembered while their files are unchanged: a no-op build waits for one round of git.
import { realpath } from "node:fs/promises";
import { execa } from "execa";
import { fileStamp, HashMemo, hashInputs, sha256 } from "./hash.ts";
import type { StageRecord } from "./manifest.ts";
import { isBuildProduct, type Stage, type StageName, type StageParams, type StagePaths } from "./stages.ts";
import { stageEpoch } from "./epochs.ts";
import { packageVersions } from "../tools/dpkg.ts";
import { which } from "../tools/ensure.ts";

/** What stands for the toolchain, the packages and the kernel source of a container stage: its image. */
export interface ContainerIdentity {
  /** The image's id (its content), which built the artifacts. */
  imageId: string;
  /** The hash of the lock the image was made from. */
  lockHash: string;
}

/** What goes into a stage's key apart from the keys of the stages it needs: none of it depends on them. */
interface StageFacts {
  sde: number;
  inputs: Awaited<ReturnType<typeof hashInputs>>;
  identity: Record<string, string>;
}

type KeyOptions = {
  repo: string;
  params: StageParams;
  memo: HashMemo;
  /** In a container the toolchain, the packages and the kernel source are the image's: its id stands for them. */
  container?: ContainerIdentity;
};

async function stageFacts(s: Stage, opts: KeyOptions): Promise<StageFacts> {
  const [sde, inputs] = await Promise.all([stageEpoch(opts.repo, s), hashInputs(opts.repo, s.inputs, isBuildProduct)]);
  const identity: Record<string, string> = {};
  if (opts.container !== undefined) {
    identity.executor = "container";
    identity.image = opts.container.imageId;
    identity.lock = opts.container.lockHash;
    // Which of the image's kernel sources (6.1, 6.12) the stage compiles.
    if (s.identity) identity.kernelSource = opts.params.kernelSrc;
  } else {
    // The version commands and dpkg at once: every build, a no-op one too, waits for them.
    const [versions, packages, own] = await Promise.all([
      Promise.all(s.toolchain.map((argv) => toolVersion(argv, opts.memo))),
      installedVersions([...new Set(s.requires.map((r) => r.package))], opts.memo),
      s.identity?.(opts.params, opts.memo),
    ]);
    s.toolchain.forEach(([file], i) => (identity[`tool:${file}`] = versions[i]!));
    identity.packages = packages;
    if (own) Object.assign(identity, own);
  }
  return { sde, inputs, identity };
}

/**
 * The first line a tool prints of its version (`gcc --version`), remembered while the binary PATH
 * finds is the same file: a no-op build runs no version command.
 */
async function toolVersion([file, ...args]: string[], memo: HashMemo): Promise<string> {
  const path = which(file!);
  const stamp = path ? await fileStamp(await realpath(path)) : "absent";
  return memo.remember(`tool:${path ?? file}:${args.join(" ")}`, stamp, async () => ((await execa(file!, args, { reject: false })).stdout.split("\n")[0] ?? "").trim());
}

/** `package=version ...` of PACKAGES, remembered while dpkg's database (its status file) is unchanged. */
async function installedVersions(packages: string[], memo: HashMemo): Promise<string> {
  const stamp = await fileStamp("/var/lib/dpkg/status");
  return memo.remember(`dpkg:${packages.join(" ")}`, stamp, async () => (await packageVersions(packages)).join(" "));
}

/** The key of stage S from its FACTS and the keys of the stages it needs. */
function keyFrom(s: Stage, facts: StageFacts, params: StageParams, upstreamKeys: Partial<Record<StageName, string>>): StageRecord {
  const { sde, inputs } = facts;
  const identity = { ...facts.identity };
  for (const dep of s.needs) identity[`upstream:${dep}`] = upstreamKeys[dep] ?? "";
  // Paths differ between machines and checkouts; the command's shape, with placeholders, is what counts.
  const placeholders: StagePaths = {
    repo: "$REPO",
    out: "$OUT",
    work: "$WORK",
    ccache: "$CCACHE",
    upstream: Object.fromEntries(s.needs.map((d) => [d, `$UPSTREAM_${d}`])),
  };
  const shape: StageParams = { kernelSrc: "$KSRC", kconfig: params.kconfig.map((_, i) => `$KCONFIG_${i}`) };
  identity.command = JSON.stringify(s.command(placeholders, shape, sde));
  const key = sha256(JSON.stringify({ stage: s.name, inputs: inputs.digest, identity, sde }));
  return { key, sourceDateEpoch: sde, inputs: inputs.files, identity };
}

/** The cache key of a stage and the record of what went into it. */
export async function stageKey(s: Stage, opts: KeyOptions & { upstreamKeys: Partial<Record<StageName, string>> }): Promise<StageRecord> {
  return keyFrom(s, await stageFacts(s, opts), opts.params, opts.upstreamKeys);
}

/**
 * The keys of STAGES in order (each after the stages it needs), their facts gathered at once: a
 * no-op build waits for one round of git, dpkg and version commands, not one per stage.
 */
export async function stageKeys(stages: readonly Stage[], opts: KeyOptions, given: Partial<Record<StageName, string>> = {}): Promise<Record<string, StageRecord>> {
  const facts = await Promise.all(stages.map((s) => (given[s.name] === undefined ? stageFacts(s, opts) : undefined)));
  const keys: Partial<Record<StageName, string>> = { ...given };
  const records: Record<string, StageRecord> = {};
  stages.forEach((s, i) => {
    if (!facts[i]) return;
    records[s.name] = keyFrom(s, facts[i]!, opts.params, keys);
    keys[s.name] = records[s.name]!.key;
  });
  return records;
}

