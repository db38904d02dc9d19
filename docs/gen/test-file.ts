// The test-file reference (docs/test-file.md) from schema/xdp-lab-test.schema.json: a section per
// object the schema defines, a row per field from its type, bounds, default and description, and
// the example files in examples/tests/ as they are.
import { cell, code } from "./markdown.ts";

/** The part of JSON Schema the reference reads; anything else in the schema is ignored. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  minProperties?: number;
  format?: string;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  $defs?: Record<string, Schema>;
}

const defName = (ref: string): string => ref.replace(/^#\/\$defs\//, "");
const isObject = (s: Schema): boolean => s.type === "object" || s.properties !== undefined;

/** A field's values in words: `lan`, `wan`; a [program](#program); a list of ...; integer, 1 to 1000. */
export function valuesOf(s: Schema, root: Schema): string {
  if (s.$ref) {
    const name = defName(s.$ref);
    const def = root.$defs?.[name] ?? {};
    return isObject(def) ? `[${name}](#${name.toLowerCase()})` : valuesOf(def, root);
  }
  if (s.enum) return s.enum.map(code).join(", ");
  if (s.const !== undefined) return code(s.const);
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return alternatives.map((o) => valuesOf(o, root)).join("; or ");
  if (s.type === "array" && s.items) return `a list of ${valuesOf(s.items, root)}${s.minItems ? ` (at least ${s.minItems})` : ""}`;
  const types = [s.type ?? []].flat();
  let t = types.join(" or ");
  if (s.format === "regex") t = "regular expression";
  if (isObject(s) && s.properties) t = `an object: ${Object.keys(s.properties).map(code).join(", ")}`;
  const lo = s.minimum ?? s.exclusiveMinimum;
  if (lo !== undefined && s.maximum !== undefined) t += `, ${lo} to ${s.maximum}`;
  else if (s.exclusiveMinimum !== undefined) t += `, over ${s.exclusiveMinimum}`;
  else if (s.minimum !== undefined) t += `, at least ${s.minimum}`;
  return t;
}

/** The objects to document, in the order a reader meets them: the file first, then each $ref as reached. */
export function sections(root: Schema): [string, Schema][] {
  const out: [string, Schema][] = [["file", root]];
  const seen = new Set<string>();
  const visit = (s: Schema | undefined): void => {
    if (!s) return;
    if (s.$ref) {
      const name = defName(s.$ref);
      const def = root.$defs?.[name];
      if (seen.has(name) || !def) return;
      seen.add(name);
      if (isObject(def)) out.push([name, def]);
      visit(def);
      return;
    }
    for (const p of Object.values(s.properties ?? {})) visit(p);
    visit(s.items);
    for (const o of [...(s.oneOf ?? []), ...(s.anyOf ?? [])]) visit(o);
  };
  visit(root);
  // Definitions nothing reaches yet (a schema being extended) still get their section.
  for (const [name, def] of Object.entries(root.$defs ?? {})) if (!seen.has(name) && isObject(def)) out.push([name, def]);
  return out;
}

/** The fields of object S as table rows, nested objects without a $defs entry of their own inline. */
function rows(s: Schema, root: Schema, prefix = ""): string[] {
  const out: string[] = [];
  for (const [name, p] of Object.entries(s.properties ?? {})) {
    const required = s.required?.includes(name) ? "yes" : "";
    const def = p.default === undefined ? "" : code(p.default);
    const desc = p.description ?? (p.$ref ? (root.$defs?.[defName(p.$ref)]?.description ?? "") : "");
    out.push(`| \`${prefix}${name}\` | ${cell(valuesOf(p, root))} | ${required} | ${def} | ${cell(desc)} |`);
    if (!p.$ref && isObject(p) && p.properties) out.push(...rows(p, root, `${prefix}${name}.`));
  }
  return out;
}

export interface Example {
  file: string;
  text: string;
}

export function testFileMarkdown(root: Schema, examples: Example[]): string {
  const out: string[] = [
    "<!-- made by `node --import ./node_modules/tsx/dist/loader.mjs docs/gen/index.ts` from schema/xdp-lab-test.schema.json and examples/tests/; edit those, not this page -->",
    "# Test-file reference",
    "",
    `${root.description ?? ""}`,
    "",
    "The schema is `schema/xdp-lab-test.schema.json` (JSON Schema draft 2020-12). Point your editor at",
    "it with a first line such as `# yaml-language-server: $schema=../schema/xdp-lab-test.schema.json`;",
    "`xdp-lab test` checks every file against it before a lab comes up and names the file, line and",
    "field of each problem. How tests run, what is reset between them and what a failure keeps:",
    "[xdp-tests.md](xdp-tests.md).",
    "",
    "Sections: " + sections(root).map(([n]) => `[${n}](#${n.toLowerCase()})`).join(", ") + ", [examples](#examples).",
    "",
  ];
  for (const [name, s] of sections(root)) {
    out.push(`## ${name}`, "");
    if (name !== "file" && s.description) out.push(s.description, "");
    if (s.oneOf?.every((o) => o.required?.length === 1)) out.push(`Exactly one of ${s.oneOf.map((o) => code(o.required![0])).join(", ")}.`, "");
    if (s.minProperties) out.push(`At least ${s.minProperties} field${s.minProperties > 1 ? "s" : ""}.`, "");
    out.push("| field | values | required | default | meaning |", "| --- | --- | --- | --- | --- |", ...rows(s, root), "");
  }
  out.push("## Examples", "", "Each is a file in the repository that `npm test` runs, shown as it is.", "");
  for (const e of examples) out.push(`### ${e.file}`, "", "```yaml", e.text.trimEnd(), "```", "");
  return out.join("\n");
}
