// Test files for `xdp-lab test`: YAML read with the yaml package, checked against
// schema/xdp-lab-test.schema.json with ajv; every error names the file, the line and the field.
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { isMap, isNode, LineCounter, parseDocument, type Document } from "yaml";
import { bpfPrograms, checkBpfObject, programProblems, type BpfProgram } from "../../network/bpf-object.ts";
import { badFilters } from "./capture.ts";
import { prepareSteps } from "./flows.ts";
import { checkSetup } from "./setup-check.ts";
import { checkPackets, frameSources, frameProblem } from "./packet-spec.ts";
import type { FileProblem, TestCase, TestFile } from "./file-types.ts";
export type { Port, Hook, ProgramSetup, AppSetup, LinkImpairmentSpec, CommandSetup, PingStep, CommandStep, Step, Delta, MapExpect, NsPerPacketExpect, TestCase, TestFile, FileProblem } from "./file-types.ts";

/** Where the schema lives: the repository's schema/ (two folders up from here, in the sources and in dist/). */
export const SCHEMA_PATH = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const p = join(dir, "schema", "xdp-lab-test.schema.json");
    if (existsSync(p)) return p;
  }
  throw new Error("schema/xdp-lab-test.schema.json is missing from the checkout. Fix: git checkout -- schema");
})();

/** A test file that cannot be run; the message lists every problem, one per line (file:line:column: field: message). */
export class TestFileError extends Error {
  constructor(readonly problems: FileProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.field ? `${p.field}: ` : ""}${p.message}`).join("\n"));
    this.name = "TestFileError";
  }
}

/** The kinds of traffic step, as their YAML keys. */
export const STEP_KINDS = ["ping", "tcp", "http", "udp_flood", "iperf3", "tcpreplay", "command"] as const;

let validator: ReturnType<Ajv2020["compile"]> | undefined;

function validate(): ReturnType<Ajv2020["compile"]> {
  if (!validator) {
    // verbose: an unknown field's error carries its object's schema, whose fields name the likely one.
    const ajv = new Ajv2020({ allErrors: true, useDefaults: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });
    ajv.addFormat("regex", (s: string) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as object);
  }
  return validator;
}

/** `tests[0].traffic[1].ping` from ["tests", 0, "traffic", 1, "ping"]. */
export function fieldName(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/** The segments of an ajv instancePath ("/tests/0/name"), numbers for sequence indices. */
function segments(instancePath: string): (string | number)[] {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** Edits (insert, delete, replace, swap two neighbours) that make A into B: optimal string alignment. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The field of FIELDS that WORD most likely misspells, or undefined when none is close: at most 2
 * edits, and fewer than half of WORD's letters (so "to" is not offered for "x").
 */
export function closestField(word: string, fields: string[]): string | undefined {
  let best: { field: string; d: number } | undefined;
  for (const field of fields) {
    const d = editDistance(word.toLowerCase(), field.toLowerCase());
    if (!best || d < best.d) best = { field, d };
  }
  return best && best.d <= 2 && best.d * 2 < word.length ? best.field : undefined;
}

/** An unknown field's message: the field it likely misspells, else the fields its place takes. */
function unknownField(field: string, parentSchema: unknown): string {
  const fields = Object.keys((parentSchema as { properties?: object } | undefined)?.properties ?? {});
  const likely = closestField(field, fields);
  if (likely) return `is not a known field (did you mean ${likely}?)`;
  return fields.length ? `is not a known field (the fields here: ${fields.join(", ")})` : "is not a known field";
}

/** What ajv said, in words a test writer reads. */
function say(e: ErrorObject): { extra?: string; message: string } {
  if (e.keyword === "not" && e.schemaPath.startsWith("#/$defs/program/")) return { message: "tunables are for the xdp hook only (tc attaches the object with iproute2, which cannot set them)" };
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return { extra: String(p.missingProperty), message: "is required" };
    case "additionalProperties":
      return { extra: String(p.additionalProperty), message: unknownField(String(p.additionalProperty), e.parentSchema) };
    case "enum":
      return { message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "const":
      return { message: `must be ${JSON.stringify(p.allowedValue)}` };
    case "format":
      return { message: p.format === "regex" ? "is not a valid regular expression" : `must be a ${String(p.format)}` };
    case "minProperties":
      if (/\/packets\/\d+\/expect$/.test(e.instancePath)) return { message: "says nothing: give the case's verdict:, frame: (or unchanged: true) or maps:" };
      return { message: e.message ?? e.keyword };
    case "anyOf":
      if (/^\/tests\/\d+$/.test(e.instancePath)) return { message: "a test has traffic:, packets: or both (traffic: steps in the lab, or packets: cases on this machine's kernel)" };
      return { message: "wants value:, delta: or both" };
    case "not":
      if (/\/packets\/\d+\/expect$/.test(e.instancePath)) return { extra: "unchanged", message: "frame: and unchanged: cannot both be given: unchanged says the whole frame stays as it came, frame: which fields it has" };
      // The step's rules (schema: $defs/step/allOf): which kinds take expect: and throughput:.
      if (e.schemaPath === "#/allOf/2/then/not") return { extra: "throughput", message: "only an iperf3 step takes throughput:" };
      return { extra: "expect", message: "only ping, tcp, http and udp_flood steps take expect: (a command is judged by its exit: and output:, iperf3 by throughput:, tcpreplay by maps and packets:)" };
    case "oneOf":
      // Inlined $refs give every oneOf the schemaPath "#/oneOf": the instance's place tells them apart.
      if (/\/packets\/\d+$/.test(e.instancePath)) return { message: "a packet case has exactly one of frame: (scapy notation), hex: or pcap:" };
      if (/\/packets\/\d+\/repeat$/.test(e.instancePath)) return { message: "must be a number of runs, or { runs: N, at_most: NS }" };
      if (/\/set\/\d+\/value$/.test(e.instancePath)) return { message: "must be a whole number, or the value's fields by name ({ blocked: 1 })" };
      if (e.schemaPath === "#/oneOf") return { message: `a step is exactly one of ${STEP_KINDS.join(", ")} (another step is another list item, "- ")` };
      return { message: "must be a whole number or bytes such as \"0x02 0x00 0x00 0x00\"" };
    default:
      return { message: e.message ?? e.keyword };
  }
}

/** Where PATH's node starts in DOC (the key for a field that is there, the parent for one that is missing). */
function locate(doc: Document, lc: LineCounter, path: (string | number)[], extra?: string, keyword?: string): { line: number; column: number } {
  let node: unknown = doc.contents;
  let offset = isNode(node) ? (node.range?.[0] ?? 0) : 0;
  const walk = keyword === "additionalProperties" && extra !== undefined ? [...path, extra] : path;
  for (const seg of walk) {
    if (!isNode(node) && !isMap(node)) break;
    const coll = node as { items?: unknown[] };
    if (!Array.isArray(coll.items)) break;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((it) => (isNode(it.key) ? (it.key as { value?: unknown }).value : it.key) === seg);
      if (!pair) break;
      // A field's position is its key's: "line 7: family" points at `family:`.
      if (isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
      next = pair.value;
    } else {
      next = coll.items[seg as number];
      if (isNode(next) && next.range) offset = next.range[0];
    }
    node = next;
  }
  const pos = lc.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** What a test file holds, for a file that holds something else: an example that the schema accepts. */
export const FILE_EXAMPLE = "tests: [ { name: pings pass, traffic: [ { ping: { from: client, to: server, family: 4 }, expect: reachable } ] } ]";
const HOLDS = `a test file holds tests:, a list of tests, each with a name: and its traffic:, such as "${FILE_EXAMPLE}"`;

/**
 * The yaml package's message without its position and source excerpt (" at line 6, column 5:\n\n
 * ...^"): the problem's file:line:column says where, and a message must not end in a colon.
 */
export function yamlMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").split("\n")[0]!.trim();
}

/** Reads and checks a test file's text; FILE names it in messages. Object paths become absolute, relative to the file. */
export function parseTestFile(file: string, text: string): TestFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new TestFileError(
      doc.errors.map((e) => ({ file, line: e.linePos?.[0].line ?? 1, column: e.linePos?.[0].col ?? 1, field: "", message: `not valid YAML: ${yamlMessage(e.message)}` })),
    );
  }
  // Nothing but blanks and comments: ajv would say "(the file): must be object".
  if (doc.contents === null) throw new TestFileError([{ file, line: 1, column: 1, field: "", message: `the file is empty: ${HOLDS}` }]);
  const data = doc.toJS() as unknown;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    const what = Array.isArray(data) ? "a list" : typeof data === "string" ? `the text ${JSON.stringify(data)}` : String(data);
    const { line, column } = locate(doc, lc, []);
    throw new TestFileError([{ file, line, column, field: "", message: `the file is ${what}, not a mapping: ${HOLDS}` }]);
  }
  const check = validate();
  if (!check(data)) {
    const seen = new Set<string>();
    const problems: FileProblem[] = [];
    const errors = check.errors ?? [];
    // A oneOf says it once for all of its branches; their own complaints would only confuse.
    const oneOfs = errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf").map((e) => `${e.schemaPath}/`);
    for (const e of errors) {
      // if/then/else repeats what its branch already said.
      if (e.keyword === "if" || oneOfs.some((o) => e.schemaPath.startsWith(o))) continue;
      // A step of two kinds is said once: what its kinds take (expect:, throughput:) is moot then.
      if (e.keyword === "not" && errors.some((o) => o.keyword === "oneOf" && o.schemaPath === "#/oneOf" && o.instancePath === e.instancePath)) continue;
      const path = segments(e.instancePath);
      const { extra, message } = say(e);
      const field = fieldName(extra !== undefined ? [...path, extra] : path) || "(the file)";
      const { line, column } = locate(doc, lc, path, extra, e.keyword);
      const key = `${line}:${field}:${message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      problems.push({ file, line, column, field, message });
    }
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new TestFileError(problems);
  }
  const tests = (data as { tests: TestCase[] }).tests;
  const lines = tests.map((_, i) => locate(doc, lc, ["tests", i]).line);
  const problems: FileProblem[] = [];
  const names = new Map<string, number>();
  tests.forEach((t, i) => {
    t.traffic ??= [];
    const first = names.get(t.name);
    if (first !== undefined) problems.push({ file, line: lines[i]!, column: 1, field: `tests[${i}].name`, message: `"${t.name}" is already the name of tests[${first}]: names must be unique in a file` });
    else names.set(t.name, i);
    t.setup?.programs?.forEach((p, j) => {
      p.object = resolve(dirname(file), p.object);
      if (!existsSync(p.object)) {
        const { line, column } = locate(doc, lc, ["tests", i, "setup", "programs", j, "object"]);
        problems.push({ file, line, column, field: `tests[${i}].setup.programs[${j}].object`, message: `no such file: ${p.object} (paths are relative to the test file; the repository's objects are in out/: ./xdp-lab build bpf)` });
      }
    });
    for (const p of prepareSteps(t.traffic, dirname(file))) {
      const path = ["tests", i, "traffic", p.step, ...p.field.split(".").map((x) => (/^\d+$/.test(x) ? Number(x) : x))];
      const { line, column } = locate(doc, lc, path);
      problems.push({ file, line, column, field: fieldName(path), message: p.message });
    }
    problems.push(...checkSetup(t, i, file, (path) => locate(doc, lc, path)));
    problems.push(...checkPackets(t as Parameters<typeof checkPackets>[0], i, file, (path) => locate(doc, lc, path), (p) => resolve(dirname(file), p), existsSync));
  });
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  if (problems.length) throw new TestFileError(problems);
  return { path: file, tests, lines };
}

/**
 * Each program setup's object as the host reads it: a BPF object (its ELF header), holding the
 * program the setup names, in a section libbpf 1.x takes (readelf); each problem at its field.
 */
async function objectProblems(parsed: TestFile): Promise<{ path: (string | number)[]; message: string }[]> {
  const read = new Map<string, Promise<BpfProgram[] | Error>>();
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const [i, t] of parsed.tests.entries()) {
    for (const [j, p] of (t.setup?.programs ?? []).entries()) {
      const at = ["tests", i, "setup", "programs", j];
      if (!read.has(p.object)) read.set(p.object, checkBpfObject(p.object).then(() => bpfPrograms(p.object)).catch((e: unknown) => e as Error));
      const programs = await read.get(p.object)!;
      if (programs instanceof Error) out.push({ path: [...at, "object"], message: programs.message });
      else for (const pr of programProblems(p.object, programs, (p.hook ?? "xdp") === "xdp" ? "xdp" : "tc", p.program)) out.push({ path: [...at, pr.field], message: pr.message });
    }
  }
  return out;
}

/**
 * Reads one test file; its steps' tcpdump filters are compiled by tcpdump too (capture.ts), its
 * objects read on the host (objectProblems), its packet cases' frames built by BUILD (scapy).
 */
export async function loadTestFile(file: string, build?: BuildFrames): Promise<TestFile> {
  const text = await readFile(file, "utf8");
  const parsed = parseTestFile(file, text);
  if (parsed.tests.some((t) => t.packets)) {
    if (!build) throw new Error(`${file} has packet cases: loadTestFile needs a frame builder`);
    const problems = await prepareFrames(parsed, build);
    if (problems.length) {
      const lc = new LineCounter();
      const doc = parseDocument(text, { lineCounter: lc });
      throw new TestFileError(problems.map((p) => ({ file, ...locate(doc, lc, p.path), field: fieldName(p.path), message: p.message })));
    }
  }
  const where = parsed.tests.flatMap((t, i) => t.traffic.flatMap((s, j) => (s.packets ?? []).map((p, k) => ({ path: ["tests", i, "traffic", j, "packets", k, "filter"], filter: p.filter }))));
  const bad = await badFilters(where.map((w) => w.filter));
  const problems = [...[...bad].map(([n, message]) => ({ path: where[n]!.path, message })), ...(await objectProblems(parsed))];
  if (problems.length === 0) return parsed;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const located = problems.map((p) => ({ file, ...locate(doc, lc, p.path), field: fieldName(p.path), message: p.message }));
  throw new TestFileError(located.sort((a, b) => a.line - b.line || a.column - b.column));
}

/** Builds frame sources with scapy (the packet helper's `build`): each source's frames, or its error. */
export type BuildFrames = (sources: ({ text: string } | { hex: string } | { pcap: string })[]) => Promise<({ frames: { hex: string; summary: string }[] } | { error: string; field: string | null })[]>;

/**
 * Builds every packet case's frames of FILE into file.frames: an input frame that does not build,
 * is empty or is longer than a port carries, and an expected frame that does not parse, are problems
 * at their field.
 */
async function prepareFrames(file: TestFile, build: BuildFrames): Promise<{ path: (string | number)[]; message: string }[]> {
  const sources = frameSources(file.tests);
  const built = await build(sources.map((s) => s.source));
  const problems: { path: (string | number)[]; message: string }[] = [];
  file.frames = {};
  sources.forEach((s, n) => {
    const b = built[n]!;
    const path = ["tests", s.test, "packets", s.case, ...s.field.split(".")];
    if ("error" in b) return void problems.push({ path, message: b.error });
    if (s.field === "expect.frame") return;
    b.frames.forEach((f, k) => {
      const bad = frameProblem(f.hex);
      if (bad) return void problems.push({ path, message: s.field === "pcap" ? `frame ${k + 1}: ${bad}` : bad });
      (file.frames![s.test] ??= []).push({ index: s.case, ...(s.field === "pcap" ? { frame: k + 1 } : {}), hex: f.hex, summary: f.summary });
    });
  });
  return problems;
}

/** The test files PATHS name: files as they are, directories searched for *.yaml and *.yml (sorted). */
export async function findTestFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const st = await stat(p).catch(() => undefined);
    if (!st) throw new Error(`${p}: no such file or directory. Fix: name test files or folders that hold them (e.g. ./xdp-lab test tests/)`);
    if (st.isFile()) files.push(p);
    else {
      const found = (await readdir(p, { recursive: true })).filter((f) => /\.ya?ml$/.test(f)).sort();
      if (found.length === 0) throw new Error(`${p}: no test files (*.yaml, *.yml) in it`);
      files.push(...found.map((f) => join(p, f)));
    }
  }
  return files;
}
