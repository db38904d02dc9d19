import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { dependsNames, parseMadison, sourcesHaveSuite, suiteSource } from "../../src/tools/apt-archive.ts";

const t = suite("apt-archive: sources, madison, depends");

t("a suite is found in one-line and deb822 sources, never in comments", () => {
  assert.ok(sourcesHaveSuite(["deb http://deb.debian.org/debian bookworm-backports main"], "bookworm-backports"));
  assert.ok(sourcesHaveSuite(["Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-backports\n"], "bookworm-backports"));
  assert.not.ok(sourcesHaveSuite(["Suites: bookworm bookworm-updates\n# bookworm-backports\n"], "bookworm-backports"));
  assert.not.ok(sourcesHaveSuite(["Suites: bookworm-backports-sloppy\n"], "bookworm-backports"));
});

t("the added source names the suite, the mirror and Debian's keyring", () => {
  const s = suiteSource("http://deb.debian.org", "bookworm-backports");
  assert.match(s, /^Types: deb\nURIs: http:\/\/deb\.debian\.org\/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: \/usr\/share\/keyrings\/debian-archive-keyring\.gpg\n$/);
});

t("madison's lines and a Depends field", () => {
  assert.equal(parseMadison("p |  1.0-1 | http://x/debian bookworm/main amd64 Packages\nnoise"), [{ version: "1.0-1", suite: "bookworm/main" }]);
  assert.equal(dependsNames("linux-base (>= 4.12~), a (= 1) | b, gcc-12"), ["linux-base", "a", "gcc-12"]);
});

t.run();
