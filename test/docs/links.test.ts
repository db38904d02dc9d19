// Every relative link in README.md and docs/*.md reaches a file of the repository, and a link's
// #anchor a heading of its page (as GitHub makes anchors from headings).
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { REPO } from "../../src/paths.ts";

const t = suite("docs: links");

/** The page without fenced code blocks and inline code, where a bracket is no link. */
const prose = (md: string): string => md.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").replace(/`[^`\n]*`/g, "");

/** GitHub's anchor for a heading's text: lower case, punctuation dropped, spaces made hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown page's headings, a repeated one numbered as GitHub does (-1, -2 ...). */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const s = slug(m[1]!);
    const n = seen.get(s) ?? 0;
    seen.set(s, n + 1);
    out.add(n ? `${s}-${n}` : s);
  }
  return out;
}

/** The relative links of a page: [text](target), not http(s), mailto or a bare anchor of another scheme. */
export function links(md: string): string[] {
  return [...prose(md).matchAll(/\]\(([^)\s]+)(?: "[^"]*")?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l));
}

t("slug and anchors follow GitHub's rules", () => {
  assert.is(slug("Kernel versions: 6.1 and 6.12 from Debian's sources"), "kernel-versions-61-and-612-from-debians-sources");
  assert.is(slug("The host's userland in the guest (`--guest-root host`)"), "the-hosts-userland-in-the-guest---guest-root-host");
  assert.is(slug("udp_flood"), "udp_flood");
  assert.equal([...anchors("# A\n## B\n```\n# not\n```\n## B\n")], ["a", "b", "b-1"]);
  assert.equal(links("[x](a.md#b) `[y](no.md)` [z](https://e.org) [w](#c)"), ["a.md#b", "#c"]);
});

const pages = ["README.md", ...readdirSync(join(REPO, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

for (const page of pages) {
  t(`${page}: every relative link resolves`, () => {
    const md = readFileSync(join(REPO, page), "utf8");
    const bad: string[] = [];
    for (const link of links(md)) {
      const [path, anchor] = link.split("#", 2) as [string, string | undefined];
      const target = path ? join(dirname(join(REPO, page)), decodeURIComponent(path)) : join(REPO, page);
      if (!existsSync(target)) {
        bad.push(`${link}: no file ${relative(REPO, target)}`);
        continue;
      }
      if (anchor && target.endsWith(".md") && !anchors(readFileSync(target, "utf8")).has(anchor)) bad.push(`${link}: no heading with anchor #${anchor} in ${relative(REPO, target)}`);
    }
    assert.equal(bad, [], `${page} has broken links:\n${bad.join("\n")}`);
  });
}

t.run();
