/* SPDX-License-Identifier: GPL-2.0 */
/* parse.h: the app's command line and its command lines, split without side effects. */
#ifndef XDP_LAB_PARSE_H
#define XDP_LAB_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * Splits the command word off LINE (in place): returns it, or NULL for a blank line, and points
 * *REST at what follows with leading blanks skipped ("" when nothing does).
 */
char *parse_command(char *line, char **rest);
/* Splits TEXT (in place) into blank-separated words: their number, or -1 when there are over MAX. */
int parse_words(char *text, char **words, int max);

/* The app's options; parse_options fills the defaults first. */
struct options {
	unsigned int interval_ms;	/* stats and on_tick period: 1000 */
	unsigned int lua_budget_ms;	/* time per call into a script: 50 */
	unsigned int lua_memory_mb;	/* a script's memory: 64 */
	const char *control;		/* control socket path: none */
	bool no_console;		/* do not read stdin */
	bool help;
};

/* 0, or -1 with a message for the user in err. */
int parse_options(int argc, char **argv, struct options *o, char *err, size_t size);
void options_usage(FILE *f);

#endif
