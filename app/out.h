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
 * An output sink: the console (text to a stream, no JSON), a control client's command (text, first
 * error and result captured for its one-line answer), or a command run from inside another (the
 * script's lab.*: its words go to the caller's sink).
 *
 * A command that completes later (echo, when the module replies) moves its answer to a sink of its
 * own with out_defer and sends it with out_finish: the sink, not the command, knows where answers
 * go, so no command calls back into the control socket.
 */
struct out;
/* Sends a captured command's answer: the control socket's writer, with CTX and ID to find its client. */
typedef void out_answer_fn(struct out *o, const char *command, bool ok);

struct out {
	FILE *stream;			/* the console's; NULL: captured */
	struct out *parent;		/* a nested sink's: where its text goes */
	out_answer_fn *answer;		/* a captured sink's; NULL: nobody waits for an answer */
	void *ctx;
	unsigned long id;
	bool deferred;			/* out_defer took the answer: the caller does not answer now */
	struct sbuf text, error, result;
	struct json json;
};

void out_console(struct out *o, FILE *stream);
/* A sink that keeps a command's words for the answer ANSWER sends (out_answer builds it). */
void out_capture(struct out *o, out_answer_fn *answer, void *ctx, unsigned long id);
/* A sink for a command run from within another's: text goes on to PARENT, the result stays here. */
void out_nested(struct out *o, struct out *parent);
void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Says "error: MSG" and keeps MSG (the first one) for the answer; returns -1, a handler's failure. */
int out_error(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The result's writer, or NULL for the console. */
struct json *out_json(struct out *o);
/* The one-line JSON answer to COMMAND, newline included, into b. */
void out_answer(const struct out *o, const char *command, bool ok, struct sbuf *b);
/* Whether someone waits for O's answer (a control client), so that a late answer must be kept. */
bool out_awaited(const struct out *o);
/*
 * Moves O's answer to a sink of its own, to be completed by out_finish when the command is done;
 * O is left empty and marked deferred. NULL when nobody awaits it (see out_awaited) or out of memory.
 */
struct out *out_defer(struct out *o);
/* Sends a deferred sink's answer to COMMAND through its answer function and frees the sink. */
void out_finish(struct out *d, const char *command, bool ok);
void out_free(struct out *o);

#endif
