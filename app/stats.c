// SPDX-License-Identifier: GPL-2.0
/*
 * stats.c: the programs' counters. Collecting (reading the per-CPU maps), computing (rates since
 * the last reading) and printing (console lines, JSON) are separate steps; the script's on_tick
 * gets the computed view.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "app.h"

/* A reading of every attached program's counters, summed over the CPUs. */
struct stats_sample {
	int n;
	struct timespec at;
	struct {
		struct attachment *at;
		struct xdp_lab_stats sum[XDP_LAB_STATS_SLOTS];
	} p[MAX_ATTACHED];
};

static int read_stats(const struct attachment *at, struct xdp_lab_stats *sum)
{
	int ncpus = libbpf_num_possible_cpus();
	struct xdp_lab_stats *per_cpu;

	if (ncpus < 0)
		return ncpus;
	per_cpu = calloc(ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (__u32 key = 0; key < XDP_LAB_STATS_SLOTS; key++) {
		sum[key].packets = sum[key].bytes = 0;
		if (bpf_map_lookup_elem(at->stats_fd, &key, per_cpu))
			continue;
		for (int c = 0; c < ncpus; c++) {
			sum[key].packets += per_cpu[c].packets;
			sum[key].bytes += per_cpu[c].bytes;
		}
	}
	free(per_cpu);
	return 0;
}

static void stats_collect(struct app *a, struct stats_sample *s)
{
	s->n = 0;
	clock_gettime(CLOCK_MONOTONIC, &s->at);
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];

		if (!at->obj || at->stats_fd < 0 || read_stats(at, s->p[s->n].sum))
			continue;
		s->p[s->n++].at = at;
	}
}

static double elapsed(const struct timespec *from, const struct timespec *to)
{
	return (to->tv_sec - from->tv_sec) + (to->tv_nsec - from->tv_nsec) / 1e9;
}

/* Rates since each program's last reading. */
static void stats_calc(const struct stats_sample *s, struct stats_view *v)
{
	v->n = s->n;
	v->seconds = 0;
	for (int i = 0; i < s->n; i++) {
		const struct attachment *at = s->p[i].at;
		double dt = elapsed(&at->last_at, &s->at);

		v->p[i].at = at;
		if (dt > v->seconds)
			v->seconds = dt;
		for (int k = 0; k < XDP_LAB_STATS_SLOTS; k++) {
			const struct xdp_lab_stats *now = &s->p[i].sum[k], *last = &at->last[k];
			struct verdict_rate *r = &v->p[i].v[k];

			r->packets = now->packets;
			r->bytes = now->bytes;
			r->pps = dt > 0 ? (now->packets - last->packets) / dt : 0;
			r->bps = dt > 0 ? (now->bytes - last->bytes) * 8 / dt : 0;
		}
	}
}

/* The sample becomes the base of the next rates. */
static void stats_commit(const struct stats_sample *s)
{
	for (int i = 0; i < s->n; i++) {
		memcpy(s->p[i].at->last, s->p[i].sum, sizeof(s->p[i].sum));
		s->p[i].at->last_at = s->at;
	}
}

static void stats_print(const struct app *a, struct out *o, const struct stats_view *v)
{
	struct json *j = out_json(o);

	json_open(j, "programs", '[');
	for (int i = 0; i < v->n; i++) {
		const struct attachment *at = v->p[i].at;

		json_open(j, NULL, '{');
		json_str(j, "iface", at->ifname);
		json_str(j, "program", at->program);
		json_str(j, "object", at->object);
		json_str(j, "mode", mode_name(at->flags));
		json_uint(j, "id", at->prog_id);
		json_open(j, "verdicts", '{');
		for (int k = 0; k < XDP_LAB_STATS_SLOTS; k++) {
			const struct verdict_rate *r = &v->p[i].v[k];

			json_open(j, verdict_name(k), '{');
			json_uint(j, "packets", r->packets);
			json_uint(j, "bytes", r->bytes);
			json_num(j, "pps", r->pps);
			json_num(j, "bps", r->bps);
			json_close(j, '}');
			/* Verdicts the program never gave stay quiet; pass and drop always show. */
			if (r->packets || k == XDP_PASS || k == XDP_DROP)
				out_printf(o, "stats %s %s packets=%llu bytes=%llu pps=%.0f bps=%.0f\n", at->ifname,
					   verdict_name(k), r->packets, r->bytes, r->pps, r->bps);
		}
		json_close(j, '}');
		json_close(j, '}');
	}
	json_close(j, ']');
	json_uint(j, "events", a->events);
	json_uint(j, "lua_events", a->lua_events);
	if (!v->n)
		out_printf(o, "stats: no program attached\n");
}

/* Reads every attached program's counters; prints them into O when given, and hands them to the hooks. */
static void tick(struct app *a, struct out *o)
{
	struct stats_sample s;
	struct stats_view v;

	stats_collect(a, &s);
	stats_calc(&s, &v);
	stats_commit(&s);
	if (o)
		stats_print(a, o, &v);
	if (v.seconds <= 0)
		v.seconds = a->interval_ms / 1000.0;
	for (int i = 0; i < MAX_HOOKS; i++)
		if (a->tick_hooks[i].fn)
			a->tick_hooks[i].fn(a->tick_hooks[i].ctx, &v);
}

static void update_timer(struct app *a)
{
	struct itimerspec its = { 0 };
	bool hooked = false;

	for (int i = 0; i < MAX_HOOKS; i++)
		hooked |= a->tick_hooks[i].fn != NULL;
	if (a->watch || hooked) {
		its.it_interval.tv_sec = a->interval_ms / 1000;
		its.it_interval.tv_nsec = (a->interval_ms % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	timerfd_settime(a->timer_h.fd, 0, &its, NULL);
}

int stats_hook(struct app *a, tick_fn *fn, void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++) {
		if (a->tick_hooks[i].fn)
			continue;
		a->tick_hooks[i] = (struct tick_hook){ fn, ctx };
		update_timer(a);
		return 0;
	}
	return -1;
}

void stats_unhook(struct app *a, tick_fn *fn, void *ctx)
{
	for (int i = 0; i < MAX_HOOKS; i++)
		if (a->tick_hooks[i].fn == fn && a->tick_hooks[i].ctx == ctx)
			a->tick_hooks[i].fn = NULL;
	update_timer(a);
}

static void on_timer(struct handler *h)
{
	struct app *a = container_of(h, struct app, timer_h);
	__u64 ticks;

	if (read(h->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
		tick(a, a->watch ? &a->console : NULL);
}

/* The stats timer, stopped until watch or a hook starts it; -1 with errno when it cannot be made. */
int stats_init(struct app *a)
{
	a->timer_h.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a->timer_h.fn = on_timer;
	if (a->timer_h.fd < 0)
		return -1;
	return loop_add(&a->loop, &a->timer_h);
}

static int cmd_stats(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc, (void)argv;
	tick(a, o);
	return CMD_OK;
}

static int cmd_watch(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	if (strcmp(argv[0], "on") && strcmp(argv[0], "off"))
		return out_error(o, "usage: watch on|off\n");
	a->watch = !strcmp(argv[0], "on");
	update_timer(a);
	json_bool(out_json(o), "watch", a->watch);
	return CMD_OK;
}

const struct command stats_commands[] = {
	{ "stats", "", 0, 0, false, cmd_stats, "packets, bytes and rates per verdict" },
	{ "watch", "on|off", 1, 1, false, cmd_watch, "print stats every interval" },
	{ .name = NULL },
};
