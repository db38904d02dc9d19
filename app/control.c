// SPDX-License-Identifier: GPL-2.0
/*
 * control.c: the control socket server and the console. Both are framed into lines the same way
 * and each line is one command; a control client gets one JSON answer per command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
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

/*
 * Runs one line: on the console, into the console's sink; from a client, into a sink of its own
 * that becomes its answer (unless the command answers later).
 */
static void run_line(struct app *a, int client, char *line)
{
	struct out o, *sink = &a->console;
	char command[32];
	int r;

	if (client >= 0) {
		out_capture(&o, client);
		sink = &o;
	}
	r = commands_run(a, sink, line, command, sizeof(command));
	if (r == CMD_QUIT)
		a->loop.running = false;
	if (client < 0)
		return;
	if (r != CMD_EMPTY && !o.deferred)
		control_answer(a, client, command, r != CMD_FAILED, &o);
	out_free(&o);
}

/* Runs each complete line in LB, until quit; a line longer than the buffer is refused. */
static void run_lines(struct app *a, struct linebuf *lb, int client, const int *fd)
{
	char *nl;

	while (a->loop.running && *fd >= 0 && (nl = strchr(lb->buf, '\n'))) {
		*nl = '\0';
		run_line(a, client, lb->buf);
		lb->used -= nl + 1 - lb->buf;
		memmove(lb->buf, nl + 1, lb->used + 1);
	}
	if (*fd >= 0 && lb->used == sizeof(lb->buf) - 1) {
		struct out o;

		if (client >= 0) {
			out_capture(&o, client);
			out_error(&o, "line too long (max %zu bytes)\n", sizeof(lb->buf) - 2);
			control_answer(a, client, "", false, &o);
			out_free(&o);
		} else {
			out_error(&a->console, "line too long (max %zu bytes)\n", sizeof(lb->buf) - 2);
		}
		lb->used = 0;
	}
}

static void close_client(struct app *a, int i)
{
	struct client *c = &a->control.clients[i];

	close(c->h.fd);	/* closing it takes it out of the epoll set */
	c->h.fd = -1;
	/* Echo answers still on their way have nobody to go to: they go to the console. */
	for (int k = 0; k < MAX_PENDING; k++)
		if (a->pending[k].nl_seq && a->pending[k].client == i)
			a->pending[k].client = -1;
}

static void on_client(struct handler *h)
{
	struct client *c = container_of(h, struct client, h);
	struct app *a = c->app;
	int i = c - a->control.clients;
	ssize_t r;

	if (h->fd < 0)
		return;
	r = linebuf_fill(&c->in, h->fd);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r <= 0) {
		close_client(a, i);
		return;
	}
	run_lines(a, &c->in, i, &h->fd);
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
	run_lines(a, &c->console_in, -1, &h->fd);
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

static void on_accept(struct handler *h)
{
	struct control *ctl = container_of(h, struct control, listen_h);
	int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < XDP_LAB_MAX_CLIENTS; i++) {
		struct client *c = &ctl->clients[i];

		if (c->h.fd >= 0)
			continue;
		c->h.fd = fd;
		c->h.fn = on_client;
		c->app = ctl->app;
		c->in.used = 0;
		if (loop_add(&ctl->app->loop, &c->h))
			close_client(ctl->app, i);
		return;
	}
	dprintf(fd, "{\"ok\":false,\"command\":\"\",\"error\":\"too many control clients (%d)\"}\n",
		XDP_LAB_MAX_CLIENTS);
	close(fd);
}

void control_answer(struct app *a, int client, const char *command, bool ok, struct out *o)
{
	struct client *c = &a->control.clients[client];
	struct sbuf b = { 0 };
	const char *p;
	ssize_t n;

	out_answer(o, command, ok, &b);
	/* Answers are small; a client that does not read them is dropped, not waited for. */
	for (p = b.s; c->h.fd >= 0 && p < b.s + b.len; p += n) {
		n = write(c->h.fd, p, b.s + b.len - p);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0) {
			fprintf(stderr, "control client dropped: %s\n", strerror(errno));
			break;
		}
	}
	sb_free(&b);
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
	if (listen(fd, 8))
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
