/* SPDX-License-Identifier: GPL-2.0 */
/* control.h: the console on stdin and the control socket's clients, framed into lines alike. */
#ifndef XDP_LAB_CONTROL_H
#define XDP_LAB_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

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
	unsigned long id;		/* this connection's, unique: a late answer finds its client by it */
	unsigned int owed;		/* answers deferred and not yet sent (an echo on its way) */
	struct timespec active;		/* when it connected or last sent something */
};

/* What control_pick_slot sees of a client slot. */
struct slot_view {
	bool used;
	bool busy;			/* owed an answer, or has sent what is not read yet */
	struct timespec active;
};

struct control {
	struct handler listen_h;	/* listen_h.fd -1: no socket */
	const char *path;
	struct client clients[XDP_LAB_MAX_CLIENTS];
	unsigned long accepted;		/* connections so far: makes client ids */
	struct handler stdin_h;
	struct linebuf console_in;
	struct app *app;
};

void control_init(struct app *a);
/* Listens on PATH; a stale socket file (nobody answers) is replaced. -1 with a message on stderr. */
int control_listen(struct app *a, const char *path);
/* Reads commands on stdin; -1 when stdin cannot be watched (a file, /dev/null). */
int console_start(struct app *a);
void control_close(struct app *a);

/*
 * slots.c: the slot a new client takes among N: a free one, else the one of the client idle the
 * longest that is not busy (its connection is then closed); -1 when every client is busy.
 */
int control_pick_slot(const struct slot_view *slots, int n);

#endif
