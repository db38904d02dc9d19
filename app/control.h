/* SPDX-License-Identifier: GPL-2.0 */
/* control.h: the console on stdin and the control socket's clients, framed into lines alike. */
#ifndef XDP_LAB_CONTROL_H
#define XDP_LAB_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"
#include "out.h"
#include "protocol.h"

struct app;

struct linebuf {
	char buf[XDP_LAB_LINE_MAX];
	size_t used;
};

struct client {
	struct handler h;		/* h.fd -1: a free slot */
	struct app *app;
	struct linebuf in;
};

struct control {
	struct handler listen_h;	/* listen_h.fd -1: no socket */
	const char *path;
	struct client clients[XDP_LAB_MAX_CLIENTS];
	struct handler stdin_h;
	struct linebuf console_in;
	struct app *app;
};

void control_init(struct app *a);
/* Listens on PATH; a stale socket file (nobody answers) is replaced. -1 with a message on stderr. */
int control_listen(struct app *a, const char *path);
/* Reads commands on stdin; -1 when stdin cannot be watched (a file, /dev/null). */
int console_start(struct app *a);
/* Sends a control command's one-line JSON answer to CLIENT. */
void control_answer(struct app *a, int client, const char *command, bool ok, struct out *o);
void control_close(struct app *a);

#endif
