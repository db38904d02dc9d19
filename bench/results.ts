// Where the benchmarks' figures go: each run prints its JSON, as before, and records it in
// bench/results.json (the latest run per benchmark, with its date, commit and machine), from which
// the "Latest runs" section of docs/benchmarks.md is made.
import { cpus, loadavg, release, totalmem } from "node:os";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { REPO } from "../src/paths.ts";

export const RESULTS_FILE = join(REPO, "bench", "results.json");
export const PAGE = join(REPO, "docs", "benchmarks.md");
export const BEGIN = "<!-- bench: made by bench/results.ts from bench/results.json; run a benchmark to update -->";
export const END = "<!-- bench: end -->";

/** The machine a run was measured on, as a reader needs it to compare runs. */
export interface Machine {
  cpus: number;
  model: string;
  memoryGiB: number;
  kernel: string;
  /** Load average (1, 5, 15 min) when the run ended: other work on the machine shows here. */
  loadavg: number[];
}

export interface Run {
  /** ISO 8601, UTC, when the run ended. */
  date: string;
  /** The checkout's commit, with "+changes" when it had uncommitted changes. */
  commit: string;
  machine: Machine;
  /** What the benchmark printed. */
  figures: unknown;
}

export type Results = Record<string, Run>;

const round1 = (x: number): number => Math.round(x * 10) / 10;

export function thisMachine(): Machine {
  const c = cpus();
  return { cpus: c.length, model: c[0]?.model.trim() ?? "unknown", memoryGiB: round1(totalmem() / 2 ** 30), kernel: release(), loadavg: loadavg().map(round1) };
}

function commit(): string {
  try {
    const head = execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["-C", REPO, "status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return "unknown";
  }
}

export function readResults(file = RESULTS_FILE): Results {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Results) : {};
}

/** The "Latest runs" section: one subsection per benchmark, by name, each with its date, commit and machine. */
export function renderResults(results: Results): string {
  const names = Object.keys(results).sort();
  if (!names.length) return "No benchmark has recorded a run here yet.";
  return names
    .map((name) => {
      const r = results[name]!;
      const m = r.machine;
      return [
        `### bench:${name}`,
        "",
        `${r.date.slice(0, 10)} (${r.date}), commit ${r.commit}; ${m.cpus} CPUs (${m.model}), ${m.memoryGiB} GiB, kernel ${m.kernel}, load ${m.loadavg.join(" ")} at the end.`,
        "",
        "```json",
        JSON.stringify(r.figures, null, 2),
        "```",
      ].join("\n");
    })
    .join("\n\n");
}

/** PAGE with its generated section replaced by RESULTS'. */
export function withResults(page: string, results: Results): string {
  const i = page.indexOf(BEGIN);
  const j = page.indexOf(END);
  if (i < 0 || j < i) throw new Error(`docs/benchmarks.md has lost its markers (${BEGIN} ... ${END}). Fix: put them back under "## Latest runs"`);
  return `${page.slice(0, i + BEGIN.length)}\n${renderResults(results)}\n${page.slice(j)}`;
}

/**
 * Prints FIGURES as JSON on stdout (what every benchmark printed before) and records them as the
 * latest run of benchmark NAME in bench/results.json and docs/benchmarks.md.
 */
export function report(name: string, figures: unknown): void {
  process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
  const results = { ...readResults(), [name]: { date: new Date().toISOString().replace(/\.\d+Z$/, "Z"), commit: commit(), machine: thisMachine(), figures } };
  writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + "\n");
  writeFileSync(PAGE, withResults(readFileSync(PAGE, "utf8"), results));
  process.stderr.write(`bench:${name}: recorded in bench/results.json and docs/benchmarks.md\n`);
}

if (process.argv[1]?.endsWith("results.ts")) {
  // `node --import ./node_modules/tsx/dist/loader.mjs bench/results.ts`: remake the page's section from the file.
  writeFileSync(PAGE, withResults(readFileSync(PAGE, "utf8"), readResults()));
}
