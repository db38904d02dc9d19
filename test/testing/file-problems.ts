// The problems parseTestFile finds in a file's text, for the tests of the file format.
import * as assert from "uvu/assert";
import { parseTestFile, TestFileError } from "../../src/testing/spec.ts";

/** The problems a file's text gives, as "line field: message" lines; a file that is accepted fails the test. */
export function problems(text: string): string[] {
  try {
    parseTestFile("/t/bad.yaml", text);
  } catch (e) {
    assert.instance(e, TestFileError);
    return (e as TestFileError).problems.map((p) => `${p.line} ${p.field}: ${p.message}`);
  }
  throw new Error("the file was accepted");
}
