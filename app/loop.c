// SPDX-License-Identifier: GPL-2.0
/* loop.c: the epoll set; an event goes straight to its handler, no list is scanned. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"

int loop_init(struct loop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->running = true;
	return l->epfd < 0 ? -1 : 0;
}

void loop_fini(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int loop_add(struct loop *l, struct handler *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, h->fd, &ev);
}

void loop_del(struct loop *l, struct handler *h)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

int loop_wait(struct loop *l, int timeout_ms, struct handler **hs, int max)
{
	struct epoll_event ev[16];
	int n;

	if (max > 16)
		max = 16;
	do
		n = epoll_wait(l->epfd, ev, max, timeout_ms);
	while (n < 0 && errno == EINTR);
	for (int i = 0; i < n; i++)
		hs[i] = ev[i].data.ptr;
	return n;
}

int loop_run(struct loop *l)
{
	struct handler *hs[16];

	while (l->running) {
		int n = loop_wait(l, -1, hs, 16);

		if (n < 0) {
			fprintf(stderr, "Failed to wait for events: %s\n", strerror(errno));
			return -1;
		}
		/* A handler may close another's fd (unload, a dropped client): its owner checks fd. */
		for (int i = 0; i < n && l->running; i++)
			hs[i]->fn(hs[i]);
	}
	return 0;
}
