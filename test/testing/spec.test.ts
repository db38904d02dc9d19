import { suite } from "../suite.ts";
import * as assert from "uvu/assert";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { closestField, editDistance, FILE_EXAMPLE, fieldName, parseTestFile, TestFileError } from "../../src/testing/spec.ts";
import { loadAll } from "../../src/testing/suite.ts";
import { CannotRunError } from "../../src/testing/runner.ts";
import { REPO } from "../../src/paths.ts";
import { problems } from "./file-problems.ts";
import { cleanup, tempDir } from "../helpers.ts";

const t = suite("network/testing/spec");

t.after(cleanup);

t("a good file: defaults filled in, object paths made absolute relative to the file, each test's line", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "x.bpf.o"), "");
  const f = parseTestFile(
    join(dir, "sub", "..", "t.yaml"),
    ["tests:", "  - name: a", "    setup:", "      programs:", "        - { object: ./x.bpf.o, port: lan }", "    traffic:", "      - ping: { from: client, to: server, family: 4 }", "        expect: reachable", "  - name: b", "    traffic:", "      - command: { host: vm, run: 'true' }"].join("\n"),
  );
  assert.equal(f.lines, [2, 9]);
  const [a, b] = f.tests;
  assert.equal(a!.setup!.programs![0], { object: join(dir, "x.bpf.o"), port: "lan", mode: "native", hook: "xdp" });
  assert.equal(a!.traffic[0], { ping: { from: "client", to: "server", family: 4, count: 3, interval: 0.2, size: 56 }, expect: "reachable" });
  assert.equal(b!.traffic[0], { command: { host: "vm", run: "true", exit: 0 } });
});

t("a program object that does not exist is named with its line and field", () => {
  const out = problems(["tests:", "  - name: a", "    setup:", "      programs:", "        - { object: ./nope.bpf.o, port: lan }", "    traffic:", "      - command: { host: vm, run: 'true' }"].join("\n"));
  assert.equal(out.length, 1);
  assert.match(out[0]!, /^5 tests\[0\]\.setup\.programs\[0\]\.object: no such file: \/t\/nope\.bpf\.o/);
});

t("schema errors name the line and the field: bad enum, missing field, unknown field, bad regex, a step that is both", () => {
  const text = [
    "tests:", // 1
    "  - name: one", // 2
    "    traffic:", // 3
    "      - ping: { from: client, to: server, family: 5 }", // 4
    "        expect: reachable", // 5
    "      - ping:", // 6
    "          from: client", // 7
    "          to: server", // 8
    "        expect: reachable", // 9
    "      - command: { host: client, run: 'true', output: '(' }", // 10
    "      - ping: { from: client, to: server, family: 4 }", // 11
    "    expect:", // 12
    "      maps:", // 13
    "        - map: stats", // 14
    "          key: 2", // 15
    "          delta: { exactly: 3 }", // 16
    "          colour: red", // 17
    "  - name: two", // 18
    "    traffic:", // 19
    "      - ping: { from: moon, to: server, family: 4 }", // 20
    "        expect: reachable", // 21
    "        command: { host: vm, run: 'true' }", // 22
  ].join("\n");
  assert.equal(problems(text), [
    "4 tests[0].traffic[0].ping.family: must be one of 4, 6",
    "6 tests[0].traffic[1].ping.family: is required",
    "10 tests[0].traffic[2].command.output: is not a valid regular expression",
    "11 tests[0].traffic[3].expect: is required",
    "17 tests[0].expect.maps[0].colour: is not a known field (the fields here: map, port, key, field, delta)",
    "20 tests[1].traffic[0]: a step is exactly one of ping, tcp, http, udp_flood, iperf3, tcpreplay, command (another step is another list item, \"- \")",
    '20 tests[1].traffic[0].ping.from: must be one of "vm", "client", "server", "internet"',
  ]);
});

t("a key is a number or bytes as bpftool takes them; a delta needs a bound", () => {
  const base = (key: string, delta: string) =>
    ["tests:", "  - name: k", "    traffic:", "      - command: { host: vm, run: 'true' }", "    expect:", "      maps:", `        - { map: stats, key: ${key}, delta: ${delta} }`].join("\n");
  assert.not.throws(() => parseTestFile("/t/k.yaml", base("2", "{ at_least: 1 }")));
  assert.not.throws(() => parseTestFile("/t/k.yaml", base('"0x02 0x00 0x00 0x00"', "{ exactly: 0 }")));
  assert.not.throws(() => parseTestFile("/t/k.yaml", base('"hex 02 00 00 00"', "{ at_most: 9 }")));
  assert.equal(problems(base("two", "{ exactly: 1 }")), ['7 tests[0].expect.maps[0].key: must be a whole number or bytes such as "0x02 0x00 0x00 0x00"']);
  assert.equal(problems(base("2", "{}")), ["7 tests[0].expect.maps[0].delta: must NOT have fewer than 1 properties"]);
  assert.equal(problems(base("2", "{ exactly: 1.5 }")), ["7 tests[0].expect.maps[0].delta.exactly: must be integer"]);
});

t("not YAML, no tests, duplicate names", () => {
  assert.match(problems("tests: [ {name: a")[0]!, /^\d+ : not valid YAML/);
  assert.equal(problems("tests: []"), ["1 tests: must NOT have fewer than 1 items"]);
  assert.equal(problems("{}"), ["1 tests: is required"]);
  const dup = ["tests:", "  - name: a", "    traffic: [ { command: { host: vm, run: 'true' } } ]", "  - name: a", "    traffic: [ { command: { host: vm, run: 'true' } } ]"].join("\n");
  assert.equal(problems(dup), ['4 tests[1].name: "a" is already the name of tests[0]: names must be unique in a file']);
});

t("an empty file (or only comments) says so and what a file holds, with an example the schema takes", () => {
  for (const text of ["", "\n  \n", "# yaml-language-server: $schema=../schema/xdp-lab-test.schema.json\n"]) {
    const out = problems(text);
    assert.equal(out.length, 1, out.join("\n"));
    assert.match(out[0]!, /^1 : the file is empty: a test file holds tests:, a list of tests, each with a name: and its traffic:, such as "tests: \[/);
    assert.not.match(out[0]!, /must be object/);
  }
  assert.match(problems("- a\n- b\n")[0]!, /^1 : the file is a list, not a mapping: a test file holds tests:/);
  assert.match(problems("just words\n")[0]!, /^1 : the file is the text "just words", not a mapping: a test file holds tests:/);
  assert.not.throws(() => parseTestFile("/t/example.yaml", FILE_EXAMPLE));
});

t("a YAML syntax error is one complete line at file:line:column, without the parser's dangling position and excerpt", () => {
  const text = ["tests:", "  - name: a", "    traffic:", "      - ping: { from: client, to: server", "        expect: reachable", "    x: : y"].join("\n");
  let error: TestFileError | undefined;
  try {
    parseTestFile("/t/bad.yaml", text);
  } catch (e) {
    error = e as TestFileError;
  }
  assert.instance(error, TestFileError);
  const lines = error!.message.split("\n");
  assert.is(lines[0], "/t/bad.yaml:5:9: not valid YAML: Flow map in block collection must be sufficiently indented and end with a }");
  for (const l of lines) {
    assert.match(l, /^\/t\/bad\.yaml:\d+:\d+: not valid YAML: \S/);
    assert.not.match(l, /at line \d+, column \d+|:$/, l);
  }
});

t("an unknown field names the field it likely misspells, or else the fields its place takes", () => {
  const step = (extra: string) => ["tests:", "  - name: a", "    traffic:", `      - ping: { from: client, to: server, family: 4, ${extra} }`, "        expect: reachable"].join("\n");
  assert.equal(problems(step("cuont: 3")), ["4 tests[0].traffic[0].ping.cuont: is not a known field (did you mean count?)"]);
  assert.equal(problems(step("intreval: 1")), ["4 tests[0].traffic[0].ping.intreval: is not a known field (did you mean interval?)"]);
  assert.equal(problems(step("colour: red")), ["4 tests[0].traffic[0].ping.colour: is not a known field (the fields here: from, to, family, count, interval, size)"]);
  assert.equal(problems(["tests:", "  - name: a", "    trafic:", "      - command: { host: vm, run: 'true' }"].join("\n")), [
    // traffic: or packets: (a test of packet cases has no traffic).
    "2 tests[0]: a test has traffic:, packets: or both (traffic: steps in the lab, or packets: cases on this machine's kernel)",
    "3 tests[0].trafic: is not a known field (did you mean traffic?)",
  ]);
});

t("closestField: at most 2 edits, fewer than half the word's letters; a swap of neighbours is one edit", () => {
  assert.is(editDistance("cuont", "count"), 1);
  assert.is(editDistance("kitten", "sitting"), 3);
  assert.is(editDistance("", "abc"), 3);
  assert.is(closestField("cuont", ["from", "to", "count"]), "count");
  assert.is(closestField("Famliy", ["family", "from"]), "family");
  assert.is(closestField("x", ["to", "from"]), undefined);
  assert.is(closestField("colour", ["map", "port", "key", "field", "delta"]), undefined);
});

t("fieldName", () => {
  assert.is(fieldName(["tests", 0, "traffic", 1, "ping"]), "tests[0].traffic[1].ping");
});

t("loadAll: every bad file's problems in one CannotRunError with the file name (exit 2)", async () => {
  const dir = await tempDir();
  await writeFile(join(dir, "a.yaml"), "tests:\n  - name: x\n    traffic: []\n");
  await writeFile(join(dir, "b.yml"), "tests:\n  - nome: y\n");
  const e = await loadAll([dir]).then(
    () => undefined,
    (err: Error) => err,
  );
  assert.instance(e, CannotRunError);
  assert.match(e!.message, `${join(dir, "a.yaml")}:3:5: tests[0].traffic: must NOT have fewer than 1 items`);
  assert.match(e!.message, `${join(dir, "b.yml")}:2:5: tests[0].nome: is not a known field`);
  assert.match(e!.message, `${join(dir, "b.yml")}:2:5: tests[0].name: is required`);
});

t("the repository's own test files and examples are valid (objects resolved against out/ when it is built)", async () => {
  for (const dir of ["tests", "examples/tests"]) {
    for (const f of (await readdir(join(REPO, dir))).filter((n) => n.endsWith(".yaml"))) {
      const text = await readFile(join(REPO, dir, f), "utf8");
      assert.match(text, /^# yaml-language-server: \$schema=\.\.\/(\.\.\/)?schema\/xdp-lab-test\.schema\.json\n/, `${dir}/${f} points editors at the schema`);
      try {
        parseTestFile(join(REPO, dir, f), text);
      } catch (e) {
        // Without a build, only missing objects may be wrong.
        for (const p of (e as TestFileError).problems) assert.match(p.message, /^no such file: .*\/out\//, `${dir}/${f}: ${p.line} ${p.field}: ${p.message}`);
      }
    }
  }
});

t.run();
