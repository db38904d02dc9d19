// SPDX-License-Identifier: GPL-2.0
/*
 * commands.c: the one table of commands that drives the console, the control socket, the script's
 * lab.* and help. Each part declares its commands as data beside their handlers; main adds them.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "parse.h"

#define MAX_ARGS 16

int commands_add(struct app *a, const struct command *table)
{
	for (; table->name; table++) {
		if (a->ncommands == MAX_COMMANDS) {
			fprintf(stderr, "Failed to add command %s: more than %d commands\n", table->name,
				MAX_COMMANDS);
			return -1;
		}
		a->commands[a->ncommands++] = table;
	}
	return 0;
}

static const struct command *find_command(const struct app *a, const char *name)
{
	for (int i = 0; i < a->ncommands; i++)
		if (!strcmp(a->commands[i]->name, name))
			return a->commands[i];
	return NULL;
}

static int usage_error(struct out *o, const struct command *c)
{
	return out_error(o, "usage: %s %s\n", c->name, c->args);
}

int commands_call(struct app *a, struct out *o, const char *name, int argc, char **argv)
{
	const struct command *c = find_command(a, name);

	if (!c)
		return out_error(o, "unknown command '%s': type help\n", name);
	if (argc < c->min_args || argc > c->max_args)
		return usage_error(o, c);
	return c->run(a, o, argc, argv);
}

int commands_run(struct app *a, struct out *o, char *line, char *command, size_t size)
{
	const struct command *c;
	char *rest, *argv[MAX_ARGS];
	char *name = parse_command(line, &rest);
	int argc;

	snprintf(command, size, "%s", name ? name : "");
	if (!name)
		return CMD_EMPTY;
	c = find_command(a, name);
	if (!c)
		return out_error(o, "unknown command '%s': type help\n", name);
	if (c->rest) {
		argv[0] = rest;
		argc = *rest ? 1 : 0;
	} else {
		argc = parse_words(rest, argv, c->max_args < MAX_ARGS ? c->max_args : MAX_ARGS);
	}
	if (argc < c->min_args || argc < 0)
		return usage_error(o, c);
	return c->run(a, o, argc, argv);
}

static int cmd_quit(struct app *a, struct out *o, int argc, char **argv)
{
	(void)a, (void)o, (void)argc, (void)argv;
	return CMD_QUIT;
}

static int cmd_help(struct app *a, struct out *o, int argc, char **argv)
{
	struct json *j = out_json(o);

	(void)argc, (void)argv;
	out_printf(o, "commands:\n");
	for (int i = 0; i < a->ncommands; i++) {
		const struct command *c = a->commands[i];
		const char *h = c->help;
		char usage[64];

		snprintf(usage, sizeof(usage), "%s%s%s", c->name, *c->args ? " " : "", c->args);
		if (strlen(usage) > 32)
			out_printf(o, "  %s\n%35s", usage, "");
		else
			out_printf(o, "  %-32s ", usage);
		for (const char *nl; (nl = strchr(h, '\n')); h = nl + 1)
			out_printf(o, "%.*s\n%35s", (int)(nl - h), h, "");
		out_printf(o, "%s\n", h);
	}
	json_open(j, "commands", '[');
	for (int i = 0; i < a->ncommands; i++)
		json_str(j, NULL, a->commands[i]->name);
	json_close(j, ']');
	return CMD_OK;
}

const struct command commands_builtin[] = {
	{ "quit", "", 0, 0, false, cmd_quit, "detach everything and exit" },
	{ "help", "", 0, 0, false, cmd_help, "this list" },
	{ .name = NULL },
};
