// SPDX-License-Identifier: GPL-2.0
/* parse.c: tokenizing command lines and the app's options, declared as a table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "protocol.h"

#define BLANKS " \t"

char *parse_command(char *line, char **rest)
{
	char *cmd = line + strspn(line, BLANKS);
	char *end = cmd + strcspn(cmd, BLANKS);

	*rest = end + strspn(end, BLANKS);
	if (*end)
		*end = '\0';
	return *cmd ? cmd : NULL;
}

int parse_words(char *text, char **words, int max)
{
	int n = 0;

	for (char *save, *w = strtok_r(text, BLANKS, &save); w; w = strtok_r(NULL, BLANKS, &save)) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

enum opt_kind { OPT_MS, OPT_UINT, OPT_PATH, OPT_FLAG };

static const struct option_spec {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	const char *arg, *help;
} option_specs[] = {
	{ "--interval-ms", OPT_MS, offsetof(struct options, interval_ms), "N",
	  "read the counters (and call on_tick) every N ms (1000)" },
	{ "--control", OPT_PATH, offsetof(struct options, control), "PATH",
	  "serve the commands on a Unix socket too (ctl's default: " XDP_LAB_CONTROL_DEFAULT ")" },
	{ "--no-console", OPT_FLAG, offsetof(struct options, no_console), NULL,
	  "do not read commands on stdin" },
	{ "--lua-budget-ms", OPT_MS, offsetof(struct options, lua_budget_ms), "N",
	  "time a script's call may take before it is aborted (50)" },
	{ "--lua-memory-mb", OPT_UINT, offsetof(struct options, lua_memory_mb), "N",
	  "memory a script may use (64)" },
	{ "--help", OPT_FLAG, offsetof(struct options, help), NULL, "this text" },
};

int parse_options(int argc, char **argv, struct options *o, char *err, size_t size)
{
	*o = (struct options){ .interval_ms = 1000, .lua_budget_ms = 50, .lua_memory_mb = 64 };
	for (int i = 1; i < argc; i++) {
		const struct option_spec *s = NULL;
		unsigned long v;
		char *end;

		for (size_t k = 0; k < sizeof(option_specs) / sizeof(option_specs[0]); k++)
			if (!strcmp(argv[i], option_specs[k].name))
				s = &option_specs[k];
		if (!strcmp(argv[i], "-h"))
			s = &option_specs[sizeof(option_specs) / sizeof(option_specs[0]) - 1];
		if (!s) {
			snprintf(err, size, "unknown argument '%s'", argv[i]);
			return -1;
		}
		if (s->kind == OPT_FLAG) {
			*(bool *)((char *)o + s->offset) = true;
			continue;
		}
		if (i + 1 == argc) {
			snprintf(err, size, "%s needs a value: %s %s", s->name, s->name, s->arg);
			return -1;
		}
		if (s->kind == OPT_PATH) {
			*(const char **)((char *)o + s->offset) = argv[++i];
			continue;
		}
		errno = 0;
		v = strtoul(argv[++i], &end, 10);
		if (errno || !*argv[i] || *end || !v || v > (s->kind == OPT_MS ? 3600000UL : 65536UL)) {
			snprintf(err, size, "%s takes a positive number, not '%s'", s->name, argv[i]);
			return -1;
		}
		*(unsigned int *)((char *)o + s->offset) = v;
	}
	return 0;
}

void options_usage(FILE *f)
{
	fprintf(f, "usage: xdp-lab-app [OPTIONS]\n"
		   "       xdp-lab-app ctl [--control PATH] COMMAND [ARGS...]\n");
	for (size_t k = 0; k < sizeof(option_specs) / sizeof(option_specs[0]); k++) {
		char left[32];

		snprintf(left, sizeof(left), "%s%s%s", option_specs[k].name,
			 option_specs[k].arg ? " " : "", option_specs[k].arg ? option_specs[k].arg : "");
		fprintf(f, "  %-22s %s\n", left, option_specs[k].help);
	}
	fprintf(f, "The console reads commands on stdin (type help). With --control, the same commands\n"
		   "are served on a Unix socket with one JSON answer per line; the app then keeps\n"
		   "running when stdin ends.\n");
}
