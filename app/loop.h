/* SPDX-License-Identifier: GPL-2.0 */
/* loop.h: the one epoll loop. Each event source embeds a handler; epoll's data points at it. */
#ifndef XDP_LAB_LOOP_H
#define XDP_LAB_LOOP_H

#include <stdbool.h>
#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

struct handler {
	int fd;
	/* Called when fd is readable (or hung up); finds its owner with container_of. */
	void (*fn)(struct handler *h);
};

struct loop {
	int epfd;
	bool running;
};

int loop_init(struct loop *l);
void loop_fini(struct loop *l);
/* Adds h->fd to the set; -1 with errno on failure. */
int loop_add(struct loop *l, struct handler *h);
void loop_del(struct loop *l, struct handler *h);
/* Waits up to timeout_ms (-1: forever) and returns the ready handlers in hs, at most max; -1 on error. */
int loop_wait(struct loop *l, int timeout_ms, struct handler **hs, int max);
/* Dispatches events until running is cleared; -1 when waiting failed. */
int loop_run(struct loop *l);

#endif
