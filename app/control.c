// SPDX-License-Identifier: GPL-2.0
/*
 * control.c: the control socket server and the console. Both are framed into lines the same way
 * and each line is one command; a control client gets one JSON answer per command (a deferred
 * one, echo's, comes through its output sink when the command completes). Idle clients cannot
 * lock others out: a new client takes the slot of the one idle the longest (slots.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "app.h"

void control_init(struct app *a)
{
	struct control *c = &a->control;

	c->app = a;
	c->listen_h.fd = -1;
	c->stdin_h.fd = -1;
	for (int i = 0; i < XDP_LAB_MAX_CLIENTS; i++)
		c->clients[i].h.fd = -1;
}

/* Reads once from FD into LB: bytes read, 0 at the end, -1 on error (errno). */
static ssize_t linebuf_fill(struct linebuf *lb, int fd)
{
	ssize_t r;

	do
		r = read(fd, lb->buf + lb->used, sizeof(lb->buf) - 1 - lb->used);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		lb->used += r;
		lb->buf[lb->used] = '\0';
	}
	return r;
}

/* Writes the one-line JSON answer to COMMAND; for a client that does not read, it is dropped, not waited for. */
static void send_answer(struct client *c, const char *command, bool ok, const struct out *o)
{
	struct sbuf b = { 0 };
	const char *p;
	ssize_t n;

	out_answer(o, command, ok, &b);
	for (p = b.s; c->h.fd >= 0 && p < b.s + b.len; p += n) {
		n = write(c->h.fd, p, b.s + b.len - p);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "Failed to answer a control client: %s; the answer is dropped\n", strerror(errno));
			break;
		}
	}
	sb_free(&b);
}

/*
 * A deferred answer, completed (out_finish): to its client if it is still connected, else to the
 * console, which shows what nobody is left to hear.
 */
static void answer_late(struct out *o, const char *command, bool ok)
{
	struct app *a = o->ctx;
	struct client *c = &a->control.clients[o->id % XDP_LAB_MAX_CLIENTS];

	if (c->h.fd < 0 || c->id != o->id) {
		out_printf(&a->console, "%s", o->text.s ? o->text.s : "");
		return;
	}
	c->owed--;
	send_answer(c, command, ok, o);
}

/*
 * Runs one line: on the console, into the console's sink; from a client, into a sink of its own
 * that becomes its answer (unless the command defers it).
 */
static void run_line(struct app *a, struct client *c, char *line)
{
	struct out o, *sink = &a->console;
	char command[32];
	int r;

	if (c) {
		out_capture(&o, answer_late, a, c->id);
		sink = &o;
	}
	r = commands_run(a, sink, line, command, sizeof(command));
	if (r == CMD_QUIT)
		a->loop.running = false;
	if (!c)
		return;
	if (o.deferred)
		c->owed++;
	else if (r != CMD_EMPTY)
		send_answer(c, command, r != CMD_FAILED, &o);
	out_free(&o);
}

/* Runs each complete line in LB, until quit; a line longer than the buffer is refused. */
static void run_lines(struct app *a, struct linebuf *lb, struct client *c, const int *fd)
{
	char *nl;

	while (a->loop.running && *fd >= 0 && (nl = strchr(lb->buf, '\n'))) {
		*nl = '\0';
		run_line(a, c, lb->buf);
		lb->used -= nl + 1 - lb->buf;
		memmove(lb->buf, nl + 1, lb->used + 1);
	}
	if (*fd >= 0 && lb->used == sizeof(lb->buf) - 1) {
		struct out o;

		if (c) {
			out_capture(&o, NULL, NULL, 0);
			out_error(&o, "line too long (max %zu bytes)\n", sizeof(lb->buf) - 2);
			send_answer(c, "", false, &o);
			out_free(&o);
		} else {
			out_error(&a->console, "line too long (max %zu bytes)\n", sizeof(lb->buf) - 2);
		}
		lb->used = 0;
	}
}

/* Answers deferred to it still on their way find it gone (its id) and go to the console. */
static void close_client(struct client *c)
{
	close(c->h.fd);	/* closing it takes it out of the epoll set */
	c->h.fd = -1;
	c->owed = 0;
}

static void on_client(struct handler *h)
{
	struct client *c = container_of(h, struct client, h);
	ssize_t r;

	if (h->fd < 0)
		return;
	r = linebuf_fill(&c->in, h->fd);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) {
		close_client(c);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &c->active);
	run_lines(c->app, &c->in, c, &h->fd);
}

static void on_stdin(struct handler *h)
{
	struct control *c = container_of(h, struct control, stdin_h);
	struct app *a = c->app;

	if (linebuf_fill(&c->console_in, h->fd) <= 0) {
		/* End of the console: quit, unless clients can still talk to us. */
		loop_del(&a->loop, h);
		h->fd = -1;
		if (c->listen_h.fd < 0)
			a->loop.running = false;
		return;
	}
	run_lines(a, &c->console_in, NULL, &h->fd);
}

int console_start(struct app *a)
{
	struct control *c = &a->control;

	c->stdin_h.fd = STDIN_FILENO;
	c->stdin_h.fn = on_stdin;
	if (loop_add(&a->loop, &c->stdin_h)) {
		c->stdin_h.fd = -1;
		return -1;
	}
	return 0;
}

/* Busy clients keep their slot: one owed an answer, or with bytes sent that are not read yet. */
static bool client_busy(const struct client *c)
{
	int unread = 0;

	return c->owed || (ioctl(c->h.fd, FIONREAD, &unread) == 0 && unread > 0);
}

static void on_accept(struct handler *h)
{
	struct control *ctl = container_of(h, struct control, listen_h);
	struct slot_view slots[XDP_LAB_MAX_CLIENTS];
	struct timespec now;
	struct client *c;
	int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int i;

	if (fd < 0)
		return;
	for (i = 0; i < XDP_LAB_MAX_CLIENTS; i++) {
		c = &ctl->clients[i];
		slots[i].used = c->h.fd >= 0;
		slots[i].busy = slots[i].used && client_busy(c);
		slots[i].active = c->active;
	}
	i = control_pick_slot(slots, XDP_LAB_MAX_CLIENTS);
	if (i < 0) {
		dprintf(fd, "{\"ok\":false,\"command\":\"\",\"error\":\"too many control clients (%d), each waiting for an answer: try again when one is answered\"}\n",
			XDP_LAB_MAX_CLIENTS);
		close(fd);
		return;
	}
	c = &ctl->clients[i];
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (c->h.fd >= 0) {
		fprintf(stderr, "control: all %d client slots taken: closed the client idle longest (%lld s) for a new one\n",
			XDP_LAB_MAX_CLIENTS, (long long)(now.tv_sec - c->active.tv_sec));
		close_client(c);
	}
	c->h.fd = fd;
	c->h.fn = on_client;
	c->app = ctl->app;
	c->in.used = 0;
	c->in.buf[0] = '\0';
	c->id = ++ctl->accepted * XDP_LAB_MAX_CLIENTS + i;
	c->owed = 0;
	c->active = now;
	if (loop_add(&ctl->app->loop, &c->h)) {
		fprintf(stderr, "Failed to watch a control client: %s\n", strerror(errno));
		close_client(c);
	}
}

int control_listen(struct app *a, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct control *c = &a->control;
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "Failed to listen on %s: path longer than %zu bytes\n", path,
			sizeof(addr.sun_path) - 1);
		return -1;
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto err;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int probe;

		if (errno != EADDRINUSE)
			goto err_close;
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && !connect(probe, (struct sockaddr *)&addr, sizeof(addr))) {
			close(probe);
			close(fd);
			fprintf(stderr, "Failed to listen on %s: another xdp-lab-app is running there "
				"- stop it, or pick another --control PATH\n", path);
			return -1;
		}
		if (probe >= 0)
			close(probe);
		unlink(path);
		if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)))
			goto err_close;
	}
	if (listen(fd, SOMAXCONN))
		goto err_close;
	c->listen_h.fd = fd;
	c->listen_h.fn = on_accept;
	c->path = path;
	if (loop_add(&a->loop, &c->listen_h))
		goto err_unlink;
	return 0;

err_unlink:
	unlink(path);
	c->listen_h.fd = -1;
err_close:
	close(fd);
err:
	fprintf(stderr, "Failed to listen on %s: %s\n", path, strerror(errno));
	return -1;
}

void control_close(struct app *a)
{
	struct control *c = &a->control;

	for (int i = 0; i < XDP_LAB_MAX_CLIENTS; i++)
		if (c->clients[i].h.fd >= 0)
			close(c->clients[i].h.fd);
	if (c->listen_h.fd >= 0) {
		close(c->listen_h.fd);
		unlink(c->path);
	}
}
