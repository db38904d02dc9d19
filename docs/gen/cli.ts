// The CLI reference (docs/cli.md) and the man page (docs/xdp-lab.1), both from the yargs
// definitions in src/commands/: each builder runs against a recorder instead of yargs.
import { COMMANDS } from "../../src/commands/index.ts";
import { cell, code } from "./markdown.ts";

/** An option or positional as a builder declares it (the yargs fields the docs use). */
export interface Opt {
  name: string;
  alias?: string | string[];
  type?: string;
  describe?: string;
  default?: unknown;
  defaultDescription?: string;
  choices?: readonly unknown[];
  array?: boolean;
  demandOption?: boolean | string;
  hidden?: boolean;
}

export interface Command {
  /** The first word: `link`. */
  name: string;
  /** yargs' command string: `link <target> [link]`. */
  usage: string;
  describe: string;
  positionals: Opt[];
  options: Opt[];
  examples: { command: string; describe: string }[];
}

interface Module {
  command: string | readonly string[];
  describe: string;
  builder?: (y: never) => unknown;
}

/** Runs MOD's builder against a stand-in Argv that records options, positionals and examples. */
export function recordCommand(mod: Module): Command {
  const usage = Array.isArray(mod.command) ? mod.command[0]! : (mod.command as string);
  const c: Command = { name: usage.split(" ")[0]!, usage, describe: mod.describe, positionals: [], options: [], examples: [] };
  const argv: unknown = new Proxy(
    {},
    {
      get(_t, prop) {
        switch (prop) {
          case "positional":
            return (name: string, o: Omit<Opt, "name"> = {}) => (c.positionals.push({ name, ...o }), argv);
          case "option":
          case "options":
            return (name: string | Record<string, Omit<Opt, "name">>, o: Omit<Opt, "name"> = {}) => {
              const given = typeof name === "string" ? { [name]: o } : name;
              for (const [n, v] of Object.entries(given)) c.options.push({ name: n, ...v });
              return argv;
            };
          case "example":
            return (command: string, describe = "") => (c.examples.push({ command: command.replace(/\$0/g, "xdp-lab"), describe }), argv);
          case "then":
            return undefined; // not a promise
          default:
            return () => argv; // check, conflicts, middleware ...: nothing the docs show
        }
      },
    },
  );
  mod.builder?.(argv as never);
  c.options = c.options.filter((o) => !o.hidden);
  return c;
}

/** Every command, in --help's order. */
export const commands = (): Command[] => COMMANDS.map((m) => recordCommand(m as unknown as Module));

/** Options every command takes (yargs adds them). */
export const GLOBAL_OPTIONS: Opt[] = [
  { name: "help", type: "boolean", describe: "show help (for a command: xdp-lab COMMAND --help)" },
  { name: "version", type: "boolean", describe: "show the version" },
];

/** What the man page and the reference say beyond the yargs definitions. */
export const EXIT_STATUS: [string, string][] = [
  ["0", "success"],
  ["1", "the command failed (for test: a test failed); the error says why and what to do next"],
  ["2", "bad usage: an unknown command or option, a missing argument (for test: nothing could run)"],
];

export const ENVIRONMENT: [string, string][] = [
  ["XDP_LAB_ACCEL", "auto, kvm or tcg: the default of --accel"],
  ["XDP_LAB_QEMU", "the qemu binary to run (the tests use a stand-in)"],
  ["XDP_LAB_KVM_DEVICE", "stands in for /dev/kvm"],
  ["XDP_LAB_DEBIAN_MIRROR", "another mirror or proxy of Debian's archive for the build image (a base URL with debian/ and debian-security/ under it)"],
  ["XDG_CACHE_HOME", "the build cache is $XDG_CACHE_HOME/xdp-lab (else ~/.cache/xdp-lab)"],
  ["XDP_LAB_DEBUG", "print an error's stack trace"],
  ["CI", "true: xdp-lab's own test runner fails, rather than skips, what needs root"],
  ["GITHUB_STEP_SUMMARY", "test appends a Markdown table of the results to this file"],
];

export const FILES: [string, string][] = [
  ["out/", "the build's artifacts and manifest.json (out/kernels/VERSION/ for another kernel)"],
  ["~/.cache/xdp-lab/", "the build cache: stage entries, kernel work trees, ccache, the KVM verdicts"],
  ["/run/xdp-lab/NAME/", "a running lab's state: qemu's PID file, console socket and log, keys"],
  ["test-results/", "failed tests' artefacts (test --results)"],
  ["schema/xdp-lab-test.schema.json", "the JSON Schema of test files"],
];

// ---- Markdown ----

/** Where a command is explained in prose, beside its reference (links relative to docs/). */
export const GUIDES: Record<string, string> = {
  demo: "[the README's quick start](../README.md#quick-start)",
  build: "[how the build works](builds.md), [kernels](kernels.md), [containers](containers.md)",
  boot: "[KVM or TCG](lab.md#kvm-or-tcg), [kernels](kernels.md)",
  cache: "[cache](builds.md#cache), [moving cache entries](builds.md#moving-cache-entries)",
  image: "[the image travels](builds.md#the-image-travels-because-the-archive-moves)",
  lock: "[locked versions](builds.md#locked-versions)",
  epochs: "[building with Dagger](containers.md#building-with-dagger)",
  up: "[the lab](lab.md)",
  down: "[the lab](lab.md#commands-in-the-lab)",
  status: "[the lab](lab.md#commands-in-the-lab)",
  exec: "[the lab](lab.md#commands-in-the-lab)",
  link: "[link impairment](lab.md#link-impairment)",
  load: "[the lab](lab.md#commands-in-the-lab)",
  cp: "[the lab](lab.md#commands-in-the-lab), [shared folders](lab.md#shared-folders)",
  capture: "[the lab](lab.md#commands-in-the-lab)",
  test: "[testing XDP programs](xdp-tests.md), [the test-file reference](test-file.md)",
};


function flag(o: Opt): string {
  const names = [o.name, ...[o.alias ?? []].flat()].map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
  return names.join(", ");
}

/** The option's values and default, in words: `lan, wan; default lan`. */
function valueText(o: Opt): string {
  const parts: string[] = [];
  if (o.choices) parts.push(o.choices.map(String).join(", "));
  else if (o.type && o.type !== "boolean") parts.push(o.type);
  if (o.array) parts.push("repeatable");
  if (o.demandOption) parts.push("required");
  const def = o.defaultDescription ?? (o.default === undefined || (Array.isArray(o.default) && o.default.length === 0) ? undefined : Array.isArray(o.default) ? o.default.join(" ") : String(o.default));
  if (o.type === "boolean") {
    if (o.default === true) parts.push(`default on; --no-${o.name} turns it off`);
  } else if (def !== undefined && def !== "") parts.push(`default ${def}`);
  return parts.join("; ");
}

const anchor = (c: Command): string => `xdp-lab-${c.name}`;

export function cliMarkdown(cmds: Command[] = commands()): string {
  const out: string[] = [
    "<!-- made by `node --import ./node_modules/tsx/dist/loader.mjs docs/gen/index.ts` from src/commands/; edit those, not this page -->",
    "# CLI reference",
    "",
    "Every command of `./xdp-lab` with its arguments and options, as `./xdp-lab COMMAND --help` shows",
    "them. The same text is the man page, [xdp-lab.1](xdp-lab.1) (`man -l docs/xdp-lab.1`).",
    "",
    "| command | what it does |",
    "| --- | --- |",
    ...cmds.map((c) => `| [${c.name}](#${anchor(c)}) | ${cell(c.describe)} |`),
    "",
    `Every command takes ${GLOBAL_OPTIONS.map((o) => code(flag(o))).join(" and ")}. Exit status:`,
    "",
    ...EXIT_STATUS.map(([s, m]) => `- ${code(s)}: ${m}`),
    "",
  ];
  for (const c of cmds) {
    out.push(`## xdp-lab ${c.name}`, "", cell(c.describe), "", "```", `xdp-lab ${c.usage}`, "```", "");
    const rows = [...c.positionals.map((p) => ({ ...p, positional: true })), ...c.options.map((o) => ({ ...o, positional: false }))];
    if (rows.length) {
      out.push("| argument | values | what it does |", "| --- | --- | --- |");
      for (const r of rows) out.push(`| ${code(r.positional ? r.name.toUpperCase() : flag(r))} | ${cell(valueText(r))} | ${cell(r.describe ?? "")} |`);
      out.push("");
    }
    const more = GUIDES[c.name];
    if (more) out.push(`More: ${more}.`, "");
    if (c.examples.length) {
      out.push("```sh", ...c.examples.map((e) => (e.describe ? `${e.command}   # ${e.describe}` : e.command)), "```", "");
    }
  }
  out.push("## Environment", "", "| variable | what it does |", "| --- | --- |", ...ENVIRONMENT.map(([v, m]) => `| ${code(v)} | ${cell(m)} |`), "");
  out.push("## Files", "", "| path | what it holds |", "| --- | --- |", ...FILES.map(([v, m]) => `| ${code(v)} | ${cell(m)} |`), "");
  return out.join("\n");
}

// ---- roff (man 7 man) ----

/** Text for roff: backslashes and hyphens escaped, no line starting with a control character. */
export function roff(s: string): string {
  return s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .split("\n")
    .map((l) => (/^[.']/.test(l) ? "\\&" + l : l))
    .join("\n");
}

const manFlag = (o: Opt, positional = false): string => (positional ? `\\fI${roff(o.name.toUpperCase())}\\fR` : `\\fB${roff(flag(o))}\\fR`);

export function manPage(version: string, cmds: Command[] = commands()): string {
  const out: string[] = [
    '.\\" Made by docs/gen/index.ts from src/commands/; edit those, not this file.',
    `.TH XDP\\-LAB 1 "" "xdp\\-lab ${roff(version)}" "xdp-lab manual"`,
    ".SH NAME",
    "xdp\\-lab \\- a reproducible eBPF/XDP lab: build a kernel, boot it in qemu as a router, test XDP programs",
    ".SH SYNOPSIS",
    ".B xdp\\-lab",
    ".I COMMAND",
    "[\\fIOPTIONS\\fR]",
    ".SH DESCRIPTION",
    "xdp\\-lab builds a small guest kernel, XDP programs, a kernel module and an initramfs, boots them in",
    "qemu as a router between a client and a server in network namespaces, and runs XDP tests declared",
    "in YAML files against real traffic.",
    "Run it as \\fB./xdp\\-lab\\fR from a clone of the repository; most commands need root.",
    ".PP",
    "The commands (each has a section below):",
    ...cmds.flatMap((c) => [".TP", `.B ${roff(c.name)}`, roff(c.describe)]),
  ];
  for (const c of cmds) {
    out.push(`.SH "THE ${roff(c.name.toUpperCase())} COMMAND"`, ".PP", `.B xdp\\-lab ${roff(c.usage)}`, ".PP", roff(c.describe) + ".");
    const rows = [...c.positionals.map((p) => [p, true] as const), ...c.options.map((o) => [o, false] as const)];
    for (const [o, positional] of rows) {
      const v = valueText(o);
      out.push(".TP", manFlag(o, positional) + (v ? ` (${roff(v)})` : ""), roff(o.describe ?? ""));
    }
    if (c.examples.length) {
      out.push(".PP", "Examples:", ".RS", ".nf", ...c.examples.map((e) => roff(e.describe ? `${e.command}   # ${e.describe}` : e.command)), ".fi", ".RE");
    }
  }
  out.push(".SH OPTIONS", "Every command takes:");
  for (const o of GLOBAL_OPTIONS) out.push(".TP", manFlag(o), roff(o.describe ?? ""));
  out.push('.SH "EXIT STATUS"');
  for (const [s, m] of EXIT_STATUS) out.push(".TP", `.B ${s}`, roff(m));
  out.push(".SH ENVIRONMENT");
  for (const [v, m] of ENVIRONMENT) out.push(".TP", `.B ${roff(v)}`, roff(m));
  out.push(".SH FILES");
  for (const [v, m] of FILES) out.push(".TP", `.I ${roff(v)}`, roff(m));
  out.push(
    ".SH EXAMPLES",
    "Build everything, bring the lab up and show pass and drop on real traffic:",
    ".RS",
    ".nf",
    "# ./xdp\\-lab demo",
    ".fi",
    ".RE",
    ".PP",
    "Attach your own program to the VM's LAN port and watch its counters:",
    ".RS",
    ".nf",
    "# ./xdp\\-lab up",
    "# ./xdp\\-lab load my.bpf.o \\-\\-iface lan",
    "# ./xdp\\-lab status",
    "# ./xdp\\-lab down",
    ".fi",
    ".RE",
    ".PP",
    "Run the tests of a folder of YAML files, twice per test (native and generic XDP):",
    ".RS",
    ".nf",
    "# ./xdp\\-lab test tests/ \\-\\-mode native,generic \\-\\-junit junit.xml",
    ".fi",
    ".RE",
    '.SH "SEE ALSO"',
    ".BR xdp\\-loader (8),",
    ".BR xdp\\-filter (8),",
    ".BR bpftool (8),",
    ".BR tc (8),",
    ".BR ip\\-netns (8),",
    ".BR qemu\\-system\\-x86_64 (1).",
    "The documentation in the repository's \\fIdocs/\\fR: the lab, test files, kernels, builds.",
  );
  return out.join("\n") + "\n";
}
