// SPDX-License-Identifier: GPL-2.0
/*
 * events.c: the programs' ring buffers. Each record is decoded once, then offered to the event
 * hooks (the script's on_event, which decides what is shown); when none takes it, it is printed
 * as an `event ...` line.
 */
#include <arpa/inet.h>
#include <errno.h>

#include <bpf/libbpf.h>

#include "app.h"

static const char *const reason_names[] = { "allowed", "blocked", "runt", "not-ipv4" };

static int on_record(void *ctx, void *data, size_t size)
{
	const struct xdp_lab_event *e = data;
	struct app *a = ctx;
	struct event_view ev;

	if (size < sizeof(*e))
		return 0;
	a->events++;
	inet_ntop(AF_INET, &e->saddr, ev.src, sizeof(ev.src));
	inet_ntop(AF_INET, &e->daddr, ev.dst, sizeof(ev.dst));
	ev.proto = e->protocol;
	ev.sport = e->sport;
	ev.dport = e->dport;
	ev.len = e->len;
	ev.verdict = verdict_name(e->verdict);
	ev.reason = e->reason < sizeof(reason_names) / sizeof(reason_names[0]) ? reason_names[e->reason] : "?";
	for (int i = 0; i < MAX_HOOKS; i++) {
		struct event_hook *hk = &a->event_hooks[i];

		if (hk->fn && hk->fn(hk->ctx, &ev)) {
			a->lua_events++;
			return 0;
		}
	}
	out_printf(&a->console, "event src=%s dst=%s proto=%u sport=%u dport=%u verdict=%s reason=%s len=%u\n",
		   ev.src, ev.dst, ev.proto, ev.sport, ev.dport, ev.verdict, ev.reason, ev.len);
	return 0;
}

static void on_ring(struct handler *h)
{
	struct attachment *at = container_of(h, struct attachment, events_h);

	/* An unload earlier in the same batch freed it. */
	if (at->events)
		ring_buffer__consume(at->events);
}

/* Watches the program's `events` ring buffer, if it has one; -1 with errno when it cannot. */
int events_watch(struct app *a, struct attachment *at)
{
	int fd = bpf_object__find_map_fd_by_name(at->obj, "events");

	at->events = NULL;
	if (fd < 0)
		return 0;
	at->events = ring_buffer__new(fd, on_record, a, NULL);
	if (!at->events)
		return -1;
	at->events_h.fd = ring_buffer__epoll_fd(at->events);
	at->events_h.fn = on_ring;
	return loop_add(&a->loop, &at->events_h);
}

void events_unwatch(struct app *a, struct attachment *at)
{
	(void)a;
	ring_buffer__free(at->events);	/* closing its epoll fd takes it out of the loop */
	at->events = NULL;
}

int events_hook(struct app *a, event_fn *fn, void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++) {
		if (a->event_hooks[i].fn)
			continue;
		a->event_hooks[i] = (struct event_hook){ fn, ctx };
		return 0;
	}
	return -1;
}

void events_unhook(struct app *a, event_fn *fn, void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++)
		if (a->event_hooks[i].fn == fn && a->event_hooks[i].ctx == ctx)
			a->event_hooks[i].fn = NULL;
}
