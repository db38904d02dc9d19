/* SPDX-License-Identifier: GPL-2.0 */
/* out.h: where a command's words go (an output sink per session), and the JSON writer. */
#ifndef XDP_LAB_OUT_H
#define XDP_LAB_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A growable string. */
struct sbuf {
	char *s;
	size_t len, cap;
};

void sb_add(struct sbuf *b, const char *data, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends STR as a JSON string literal: quotes, backslashes and control characters escaped. */
void sb_json(struct sbuf *b, const char *str);
void sb_free(struct sbuf *b);

#define JSON_MAX_DEPTH 8

/*
 * Writes JSON members and values into b, commas included. Depth 0 is the inside of an object
 * someone else opens and closes (a control answer's "result"). Every function takes a NULL
 * writer and does nothing: the console has no JSON.
 */
struct json {
	struct sbuf *b;
	int depth;
	bool more[JSON_MAX_DEPTH];	/* the container at this depth has a member already */
};

void json_init(struct json *j, struct sbuf *b);
/* Opens an object ('{') or array ('['), as member KEY or (KEY NULL) as an array element. */
void json_open(struct json *j, const char *key, char open);
void json_close(struct json *j, char close);
void json_str(struct json *j, const char *key, const char *value);
void json_uint(struct json *j, const char *key, unsigned long long value);
/* A number rounded to an integer (rates). */
void json_num(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);

/*
 * An output sink: the console (text to a stream, no JSON) or a control client's command (text,
 * first error and result captured for its one-line answer).
 */
struct out {
	FILE *stream;			/* the console's; NULL: captured */
	int client;			/* the control client's index, -1 for the console */
	bool deferred;			/* answered later (echo: when the module replies) */
	struct sbuf text, error, result;
	struct json json;
};

void out_console(struct out *o, FILE *stream);
void out_capture(struct out *o, int client);
void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Says "error: MSG" and keeps MSG (the first one) for the answer; returns -1, a handler's failure. */
int out_error(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The result's writer, or NULL for the console. */
struct json *out_json(struct out *o);
/* The one-line JSON answer to COMMAND, newline included, into b. */
void out_answer(const struct out *o, const char *command, bool ok, struct sbuf *b);
void out_free(struct out *o);

#endif
