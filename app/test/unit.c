// SPDX-License-Identifier: GPL-2.0
/* test/unit.c: unit tests of the app's pure parts (tokenizing, options, the JSON writer, sinks, client slots). */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "out.h"
#include "parse.h"

static int failures, checks;

#define CHECK(cond) check(cond, #cond, __LINE__)
#define CHECK_STR(got, want) check_str(got, want, __LINE__)

static void check(int ok, const char *what, int line)
{
	checks++;
	if (!ok) {
		failures++;
		printf("FAIL line %d: %s\n", line, what);
	}
}

static void check_str(const char *got, const char *want, int line)
{
	checks++;
	if (!got || strcmp(got, want)) {
		failures++;
		printf("FAIL line %d: got [%s], want [%s]\n", line, got ? got : "(null)", want);
	}
}

static void test_parse_command(void)
{
	char line[] = "  load  /x.o\txa generic ", blank[] = " \t ", echo[] = "echo   hello  lab ", one[] = "stats";
	char *rest, *words[4];

	CHECK_STR(parse_command(line, &rest), "load");
	CHECK_STR(rest, "/x.o\txa generic ");
	CHECK(parse_words(rest, words, 4) == 3);
	CHECK_STR(words[0], "/x.o");
	CHECK_STR(words[1], "xa");
	CHECK_STR(words[2], "generic");
	CHECK(parse_command(blank, &rest) == NULL);
	/* echo keeps its text as typed, inner blanks included. */
	CHECK_STR(parse_command(echo, &rest), "echo");
	CHECK_STR(rest, "hello  lab ");
	CHECK_STR(parse_command(one, &rest), "stats");
	CHECK_STR(rest, "");
	CHECK(parse_words(rest, words, 4) == 0);
}

static void test_parse_words_limit(void)
{
	char three[] = "a b c", two[] = "a b";
	char *words[2];

	CHECK(parse_words(three, words, 2) == -1);
	CHECK(parse_words(two, words, 2) == 2);
}

static void test_options(void)
{
	char *defaults[] = { "app" };
	char *all[] = { "app", "--interval-ms", "200", "--control", "/run/x.sock", "--no-console",
			"--lua-budget-ms", "20", "--lua-memory-mb", "8" };
	char *bad[] = { "app", "--interval-ms", "0" }, *junk[] = { "app", "--interval-ms", "5x" };
	char *missing[] = { "app", "--control" }, *unknown[] = { "app", "--frob" }, *help[] = { "app", "-h" };
	struct options o;
	char err[128];

	CHECK(!parse_options(1, defaults, &o, err, sizeof(err)));
	CHECK(o.interval_ms == 1000 && o.lua_budget_ms == 50 && o.lua_memory_mb == 64);
	CHECK(!o.control && !o.no_console && !o.help);
	CHECK(!parse_options(10, all, &o, err, sizeof(err)));
	CHECK(o.interval_ms == 200 && o.lua_budget_ms == 20 && o.lua_memory_mb == 8 && o.no_console);
	CHECK_STR(o.control, "/run/x.sock");
	CHECK(parse_options(3, bad, &o, err, sizeof(err)) == -1);
	CHECK_STR(err, "--interval-ms takes a positive number, not '0'");
	CHECK(parse_options(3, junk, &o, err, sizeof(err)) == -1);
	CHECK(parse_options(2, missing, &o, err, sizeof(err)) == -1);
	CHECK_STR(err, "--control needs a value: --control PATH");
	CHECK(parse_options(2, unknown, &o, err, sizeof(err)) == -1);
	CHECK_STR(err, "unknown argument '--frob'");
	CHECK(!parse_options(2, help, &o, err, sizeof(err)) && o.help);
}

static void test_json(void)
{
	struct sbuf b = { 0 };
	struct json j;

	json_init(&j, &b);
	json_str(&j, "iface", "xa");
	json_open(&j, "programs", '[');
	json_open(&j, NULL, '{');
	json_uint(&j, "id", 42);
	json_num(&j, "pps", 2.6);
	json_close(&j, '}');
	json_open(&j, NULL, '{');
	json_close(&j, '}');
	json_close(&j, ']');
	json_bool(&j, "watch", false);
	json_str(&j, "text", "a \"q\" \\ \n\x01 é");
	CHECK_STR(b.s, "\"iface\":\"xa\",\"programs\":[{\"id\":42,\"pps\":3},{}],\"watch\":false,"
		       "\"text\":\"a \\\"q\\\" \\\\ \\n\\u0001 é\"");
	/* The console has no JSON: a NULL writer is a no-op. */
	json_str(NULL, "k", "v");
	json_open(NULL, "k", '{');
	sb_free(&b);
}

static void test_out(void)
{
	struct sbuf b = { 0 };
	struct out o;
	char big[3000];

	out_capture(&o, NULL, NULL, 3);
	out_printf(&o, "loaded %s\n", "xdp_drop");
	json_uint(out_json(&o), "id", 7);
	out_answer(&o, "load", true, &b);
	CHECK_STR(b.s, "{\"ok\":true,\"command\":\"load\",\"result\":{\"id\":7},\"output\":\"loaded xdp_drop\\n\"}\n");
	out_free(&o);
	sb_free(&b);

	/* Failure is the handler's return value; the answer carries the first error, without its newline. */
	out_capture(&o, NULL, NULL, 3);
	CHECK(out_error(&o, "first %d\n\n", 1) == -1);
	out_error(&o, "second\n");
	out_answer(&o, "x", false, &b);
	CHECK_STR(b.s, "{\"ok\":false,\"command\":\"x\",\"error\":\"first 1\",\"output\":\"error: first 1\\n\\nerror: second\\n\"}\n");
	out_free(&o);
	sb_free(&b);

	/* Long text (a verifier log) is kept whole. */
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	out_capture(&o, NULL, NULL, 0);
	out_error(&o, "Failed to load: %s", big);
	CHECK(o.error.len == strlen("Failed to load: ") + sizeof(big) - 1);
	CHECK(out_json(&o) != NULL);
	out_free(&o);
	out_console(&o, stdout);
	CHECK(out_json(&o) == NULL);
}

/* What a deferred answer's sink was asked to send. */
static struct {
	int calls;
	unsigned long id;
	char answer[256];
} sent;

static void fake_answer(struct out *o, const char *command, bool ok)
{
	struct sbuf b = { 0 };

	sent.calls++;
	sent.id = o->id;
	out_answer(o, command, ok, &b);
	snprintf(sent.answer, sizeof(sent.answer), "%s", b.s);
	sb_free(&b);
}

static void test_defer(void)
{
	struct sbuf b = { 0 };
	struct out o, parent, nested, *d;

	/* The console and a nested sink have nobody waiting: their answers cannot be deferred. */
	out_console(&o, stdout);
	CHECK(!out_awaited(&o) && out_defer(&o) == NULL);
	out_capture(&parent, NULL, NULL, 0);
	out_nested(&nested, &parent);
	CHECK(!out_awaited(&nested) && out_defer(&nested) == NULL);
	/* A nested sink's words reach its parent; its error and result stay its own. */
	out_printf(&nested, "blocked %s\n", "10.0.0.2");
	CHECK(out_error(&nested, "no sources map\n") == -1);
	json_str(out_json(&nested), "ip", "10.0.0.2");
	CHECK_STR(parent.text.s, "blocked 10.0.0.2\nerror: no sources map\n");
	CHECK_STR(nested.error.s, "no sources map");
	CHECK(parent.error.len == 0 && parent.result.len == 0);
	out_free(&nested);
	out_free(&parent);

	/* A captured one moves to its own sink; the caller's is left empty and marked. */
	out_capture(&o, fake_answer, NULL, 42);
	out_printf(&o, "sent\n");
	d = out_defer(&o);
	CHECK(d != NULL && o.deferred && o.text.len == 0);
	out_answer(&o, "echo", true, &b);
	CHECK_STR(b.s, "{\"ok\":true,\"command\":\"echo\",\"result\":{},\"output\":\"\"}\n");
	sb_free(&b);
	out_free(&o);
	CHECK(sent.calls == 0);
	out_printf(d, "echo seq=1 hi\n");
	json_uint(out_json(d), "seq", 1);
	json_str(out_json(d), "text", "hi");
	out_finish(d, "echo", true);
	CHECK(sent.calls == 1 && sent.id == 42);
	CHECK_STR(sent.answer, "{\"ok\":true,\"command\":\"echo\",\"result\":{\"seq\":1,\"text\":\"hi\"},"
			       "\"output\":\"sent\\necho seq=1 hi\\n\"}\n");
}

static void test_slots(void)
{
	struct slot_view s[4] = {
		{ .used = true, .active = { 100, 0 } },
		{ .used = true, .busy = true, .active = { 5, 0 } },
		{ .used = true, .active = { 50, 900 } },
		{ .used = true, .active = { 50, 100 } },
	};

	/* Full: the idle client idle the longest goes; a busy one (owed an answer) is never taken. */
	CHECK(control_pick_slot(s, 4) == 3);
	/* A free slot comes first, whatever is idle. */
	s[2].used = false;
	CHECK(control_pick_slot(s, 4) == 2);
	/* Every client busy: the new one is refused. */
	for (int i = 0; i < 4; i++)
		s[i] = (struct slot_view){ .used = true, .busy = true };
	CHECK(control_pick_slot(s, 4) == -1);
}

int main(void)
{
	test_parse_command();
	test_parse_words_limit();
	test_options();
	test_json();
	test_out();
	test_defer();
	test_slots();
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
