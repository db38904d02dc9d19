// SPDX-License-Identifier: GPL-2.0
/* out.c: output sinks and the JSON writer; no I/O but the console's stream. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

void sb_add(struct sbuf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *s = realloc(b->s, cap);

		if (!s)
			return;
		b->s = s;
		b->cap = cap;
	}
	memcpy(b->s + b->len, data, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	char tmp[512];
	int n;

	va_copy(again, ap);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	if (n >= (int)sizeof(tmp)) {
		char *big = malloc(n + 1);

		if (big) {
			vsnprintf(big, n + 1, fmt, again);
			sb_add(b, big, n);
			free(big);
		}
	} else if (n > 0) {
		sb_add(b, tmp, n);
	}
	va_end(again);
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(b, fmt, ap);
	va_end(ap);
}

void sb_json(struct sbuf *b, const char *str)
{
	sb_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)str; p && *p; p++) {
		if (*p == '"' || *p == '\\')
			sb_printf(b, "\\%c", *p);
		else if (*p == '\n')
			sb_add(b, "\\n", 2);
		else if (*p < 0x20)
			sb_printf(b, "\\u%04x", *p);
		else
			sb_add(b, (const char *)p, 1);
	}
	sb_add(b, "\"", 1);
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void json_init(struct json *j, struct sbuf *b)
{
	memset(j, 0, sizeof(*j));
	j->b = b;
}

/* The comma before a value, and its key when it is an object's member. */
static void json_member(struct json *j, const char *key)
{
	if (j->more[j->depth])
		sb_add(j->b, ",", 1);
	j->more[j->depth] = true;
	if (key) {
		sb_json(j->b, key);
		sb_add(j->b, ":", 1);
	}
}

void json_open(struct json *j, const char *key, char open)
{
	if (!j)
		return;
	json_member(j, key);
	sb_add(j->b, &open, 1);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->more[++j->depth] = false;
}

void json_close(struct json *j, char close)
{
	if (!j)
		return;
	sb_add(j->b, &close, 1);
	if (j->depth > 0)
		j->depth--;
}

void json_str(struct json *j, const char *key, const char *value)
{
	if (!j)
		return;
	json_member(j, key);
	sb_json(j->b, value);
}

void json_uint(struct json *j, const char *key, unsigned long long value)
{
	if (!j)
		return;
	json_member(j, key);
	sb_printf(j->b, "%llu", value);
}

void json_num(struct json *j, const char *key, double value)
{
	if (!j)
		return;
	json_member(j, key);
	sb_printf(j->b, "%.0f", value);
}

void json_bool(struct json *j, const char *key, bool value)
{
	if (!j)
		return;
	json_member(j, key);
	sb_add(j->b, value ? "true" : "false", value ? 4 : 5);
}

void out_console(struct out *o, FILE *stream)
{
	memset(o, 0, sizeof(*o));
	o->stream = stream;
}

void out_capture(struct out *o, out_answer_fn *answer, void *ctx, unsigned long id)
{
	memset(o, 0, sizeof(*o));
	o->answer = answer;
	o->ctx = ctx;
	o->id = id;
	json_init(&o->json, &o->result);
}

void out_nested(struct out *o, struct out *parent)
{
	memset(o, 0, sizeof(*o));
	o->parent = parent;
	json_init(&o->json, &o->result);
}

static void out_vprintf(struct out *o, const char *fmt, va_list ap)
{
	if (o->stream) {
		vfprintf(o->stream, fmt, ap);
		fflush(o->stream);
	} else {
		sb_vprintf(&o->text, fmt, ap);
	}
}

/* A nested sink's new text, from FROM on, goes on to its parent (which may pass it on again). */
static void out_forward(struct out *o, size_t from)
{
	if (o->parent && o->text.len > from)
		out_printf(o->parent, "%s", o->text.s + from);
}

void out_printf(struct out *o, const char *fmt, ...)
{
	size_t from = o->text.len;
	va_list ap;

	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
	out_forward(o, from);
}

int out_error(struct out *o, const char *fmt, ...)
{
	size_t from = o->text.len;
	va_list ap;

	if (o->stream) {
		fputs("error: ", o->stream);
		va_start(ap, fmt);
		out_vprintf(o, fmt, ap);
		va_end(ap);
		return -1;
	}
	sb_add(&o->text, "error: ", 7);
	va_start(ap, fmt);
	out_vprintf(o, fmt, ap);
	va_end(ap);
	if (!o->error.len && o->text.len >= from + 7) {
		size_t n = o->text.len - from - 7;

		while (n && o->text.s[from + 7 + n - 1] == '\n')
			n--;
		sb_add(&o->error, o->text.s + from + 7, n);
	}
	out_forward(o, from);
	return -1;
}

struct json *out_json(struct out *o)
{
	return o->stream ? NULL : &o->json;
}

void out_answer(const struct out *o, const char *command, bool ok, struct sbuf *b)
{
	sb_printf(b, "{\"ok\":%s,\"command\":", ok ? "true" : "false");
	sb_json(b, command);
	if (ok) {
		sb_printf(b, ",\"result\":{%s}", o->result.s ? o->result.s : "");
	} else {
		sb_printf(b, ",\"error\":");
		sb_json(b, o->error.s ? o->error.s : "failed");
	}
	sb_printf(b, ",\"output\":");
	sb_json(b, o->text.s ? o->text.s : "");
	sb_add(b, "}\n", 2);
}

bool out_awaited(const struct out *o)
{
	return o->answer != NULL;
}

struct out *out_defer(struct out *o)
{
	struct out *d;

	if (!out_awaited(o))
		return NULL;
	d = malloc(sizeof(*d));
	if (!d)
		return NULL;
	*d = *o;
	d->json.b = &d->result;
	memset(&o->text, 0, sizeof(o->text));
	memset(&o->error, 0, sizeof(o->error));
	memset(&o->result, 0, sizeof(o->result));
	o->deferred = true;
	return d;
}

void out_finish(struct out *d, const char *command, bool ok)
{
	d->answer(d, command, ok);
	out_free(d);
	free(d);
}

void out_free(struct out *o)
{
	sb_free(&o->text);
	sb_free(&o->error);
	sb_free(&o->result);
}
