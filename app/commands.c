// SPDX-License-Identifier: GPL-2.0
/* commands.c: the one table of commands that drives the console, the control socket and help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "parse.h"

#define MAX_ARGS 16

struct command {
	const char *name;
	const char *args;		/* the usage after the name */
	int min_args, max_args;
	bool rest;			/* takes the rest of the line as one argument (echo) */
	int (*run)(struct app *a, struct out *o, int argc, char **argv);
	const char *help;		/* "\n" continues on the next line of help */
};

static int cmd_help(struct app *a, struct out *o, int argc, char **argv);

static int cmd_stats(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc, (void)argv;
	tick(a, o);
	return CMD_OK;
}

static int cmd_watch(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[0], "on") && strcmp(argv[0], "off"))
		return out_error(o, "usage: watch on|off\n");
	a->watch = !strcmp(argv[0], "on");
	update_timer(a);
	json_bool(out_json(o), "watch", a->watch);
	return CMD_OK;
}

static int cmd_block(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	return xdp_block(a, o, argv[0], true);
}

static int cmd_unblock(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	return xdp_block(a, o, argv[0], false);
}

static int cmd_echo(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	return echo_send(a, o, argv[0], o->client);
}

/* lua-budget [MS]: shows or sets the time each call into the script may take. */
int cmd_lua_budget(struct app *a, struct out *o, int argc, char **argv)
{
	char *end;
	unsigned long v;

	if (argc) {
		v = strtoul(argv[0], &end, 10);
		if (*end || v < 1 || v > 60000)
			return out_error(o, "'%s' is not a budget: give milliseconds from 1 to 60000, e.g. lua-budget 50\n",
					 argv[0]);
		a->lua_budget_ms = v;
	}
	out_printf(o, "lua budget %u ms per call, memory limit %u MiB\n", a->lua_budget_ms, a->lua_memory_mb);
	json_uint(out_json(o), "budget_ms", a->lua_budget_ms);
	json_uint(out_json(o), "memory_mb", a->lua_memory_mb);
	return CMD_OK;
}

static int cmd_quit(struct app *a, struct out *o, int argc, char **argv)
{
	(void)a, (void)o, (void)argc, (void)argv;
	return CMD_QUIT;
}

static const struct command commands[] = {
	{ "load", "OBJ IFACE [native|generic] [NAME=VALUE ...]", 2, MAX_ARGS, false, cmd_load,
	  "attach an XDP object (native first, then generic),\n"
	  "setting its const volatile tunables first; onto a\n"
	  "running program: replace it in one step" },
	{ "unload", "IFACE", 1, 1, false, cmd_unload, "detach it" },
	{ "stats", "", 0, 0, false, cmd_stats, "packets, bytes and rates per verdict" },
	{ "watch", "on|off", 1, 1, false, cmd_watch, "print stats every interval" },
	{ "block", "IP", 1, 1, false, cmd_block, "set a source blocked in the firewall's map" },
	{ "unblock", "IP", 1, 1, false, cmd_unblock, "clear it" },
	{ "echo", "TEXT", 1, 1, true, cmd_echo, "round trip through the xdp_lab_echo module" },
	{ "lua", "FILE", 1, 1, false, cmd_lua, "load or reload a script (on_event, on_tick; lab.*)" },
	{ "lua-budget", "[MS]", 0, 1, false, cmd_lua_budget, "show or set the time a script's call may take" },
	{ "quit", "", 0, 0, false, cmd_quit, "detach everything and exit" },
	{ "help", "", 0, 0, false, cmd_help, "this list" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static int cmd_help(struct app *a, struct out *o, int argc, char **argv)
{
	struct json *j = out_json(o);

	(void)a, (void)argc, (void)argv;
	out_printf(o, "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const struct command *c = &commands[i];
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
	for (size_t i = 0; i < NCOMMANDS; i++)
		json_str(j, NULL, commands[i].name);
	json_close(j, ']');
	return CMD_OK;
}

int commands_run(struct app *a, struct out *o, char *line, char *command, size_t size)
{
	const struct command *c = NULL;
	char *rest, *argv[MAX_ARGS];
	char *name = parse_command(line, &rest);
	int argc;

	snprintf(command, size, "%s", name ? name : "");
	if (!name)
		return CMD_EMPTY;
	for (size_t i = 0; i < NCOMMANDS && !c; i++)
		if (!strcmp(commands[i].name, name))
			c = &commands[i];
	if (!c)
		return out_error(o, "unknown command '%s': type help\n", name);
	if (c->rest) {
		argv[0] = rest;
		argc = *rest ? 1 : 0;
	} else {
		argc = parse_words(rest, argv, c->max_args);
	}
	if (argc < c->min_args || argc < 0)
		return out_error(o, "usage: %s %s\n", c->name, c->args);
	return c->run(a, o, argc, argv);
}
