// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-lab-app: loads the lab's XDP programs and runs one epoll loop over file descriptors only:
 * the console on stdin, a timerfd that reads the counters, a generic netlink socket talking to the
 * xdp_lab_echo module, a signalfd that detaches everything on SIGINT/SIGTERM, and (with
 * --control PATH) a Unix control socket with its clients.
 *
 * Control protocol: a client sends one command per line, the same commands as the console; each
 * command gets exactly one line of JSON back:
 *   {"ok":true,"command":"stats","result":{...},"output":"<what the console would print>"}
 *   {"ok":false,"command":"load","error":"Failed to load ...","output":"..."}
 * Results: load {iface, program, object, mode, id, replaced (the id of the program it replaced,
 * if one ran there)}; unload {iface}; stats {programs:[{iface, program, object, mode, id,
 * verdicts:{aborted|drop|pass|tx|redirect:{packets, bytes, pps, bps}}}], events, lua_events};
 * block/unblock {ip, programs}; echo {text, seq, rtt_us} (sent when the module's answer arrives);
 * lua {script}; watch {watch}; help {commands}; quit {}.
 * `xdp-lab-app ctl [--control PATH] COMMAND...` is a client for shells: it prints the answer and
 * exits 0 when ok, 1 when not, 2 when nothing listens on PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lua.h>
#include <lua5.4/lualib.h>

#include "../bpf/xdp_lab.h"
#include "../kmod/xdp_lab_echo.h"

#define MAX_ATTACHED 8
#define MAX_CLIENTS 16
#define MAX_PENDING 64
#define DEFAULT_CONTROL "/run/xdp-lab-app.sock"

/* A growable string, for JSON answers and captured output. */
struct sbuf {
	char *s;
	size_t len, cap;
};

/* The command being run for a control client: what it printed, its first error, its result. */
struct session {
	bool failed;
	bool deferred;			/* answered later (echo: when the module replies) */
	struct sbuf output, error, result;
};

struct client {
	int fd;				/* -1: free slot */
	char buf[1024];
	size_t used;
};

/* An echo request on its way through the module: who asked, and when. */
struct pending_echo {
	__u32 nl_seq;
	int client;			/* index into clients, or -1 for the console and Lua */
	struct timespec sent;
	bool answered;
	__u32 seq;
	char text[260];
};

struct attachment {
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 flags;			/* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	struct bpf_object *obj;
	char object[256];		/* the path it was loaded from */
	char program[64];
	__u32 prog_id;
	int prog_fd;			/* owned by obj */
	int stats_fd;			/* -1 when the program has no `stats` map */
	int sources_fd;			/* the firewall's `sources` map, else -1 */
	struct ring_buffer *events;	/* the program's `events` ring buffer, if any */
	struct xdp_lab_stats last[XDP_LAB_STATS_SLOTS];
	struct timespec last_at;
};

struct app {
	int epfd, sigfd, timerfd, genl_fd;
	__u16 genl_family;
	__u32 genl_seq;
	int genl_pending;		/* echo requests sent and not yet answered */
	bool watch;
	unsigned int interval_ms;
	struct attachment att[MAX_ATTACHED];
	lua_State *lua;			/* the loaded script (its struct script in the extra space), or NULL */
	unsigned int lua_budget_ms;	/* per call into the script */
	unsigned int lua_memory_mb;	/* for the script's whole state */
	char verifier_log[4096];
	size_t verifier_len;
	int listen_fd;			/* control socket, or -1 */
	const char *control_path;
	bool console;			/* stdin is read */
	struct client clients[MAX_CLIENTS];
	struct pending_echo pending[MAX_PENDING];
	__u64 events, lua_events;	/* ring-buffer records read; handed to on_event */
};

static void cmd_block(struct app *a, const char *ip, bool block);
static void cmd_echo(struct app *a, const char *text, int client);
static void answer(struct app *a, int client, const char *command, struct session *sess);

static const char *const verdict_names[XDP_LAB_STATS_SLOTS] = {
	"aborted", "drop", "pass", "tx", "redirect",
};

/* libbpf's messages, kept so a rejected program's verifier log can be shown. */
static struct app *log_sink;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	struct app *a = log_sink;
	int n;

	if (level == LIBBPF_DEBUG || !a)
		return 0;
	n = vsnprintf(a->verifier_log + a->verifier_len,
		      sizeof(a->verifier_log) - a->verifier_len, fmt, args);
	if (n > 0)
		a->verifier_len = (a->verifier_len + n < sizeof(a->verifier_log)) ?
				  a->verifier_len + n : sizeof(a->verifier_log) - 1;
	return n;
}

static struct session *cur;	/* the control command being run, or NULL: the console */
static int cur_client = -1;	/* and its client's index */

static void sb_add(struct sbuf *b, const char *data, size_t n)
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

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* A JSON string literal: quotes, backslashes and control characters escaped. */
static void sb_json(struct sbuf *b, const char *str)
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

static void sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/*
 * Everything the app says goes through here: to stdout for the console, into the session for a
 * control client ("error: " lines make its answer ok:false).
 */
static void reply(const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (!cur) {
		fputs(tmp, stdout);
		fflush(stdout);
		return;
	}
	sb_add(&cur->output, tmp, strlen(tmp));
	if (!strncmp(tmp, "error: ", 7) && !cur->failed) {
		size_t n = strlen(tmp + 7);

		while (n && tmp[7 + n - 1] == '\n')
			n--;
		cur->failed = true;
		sb_add(&cur->error, tmp + 7, n);
	}
}

/* Adds "key":<raw JSON> to the current control command's result; nothing for the console. */
static void result_raw(const char *key, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;

	if (!cur)
		return;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_printf(&cur->result, "%s\"%s\":%s", cur->result.len ? "," : "", key, tmp);
}

/* Adds "key":"<value, escaped>" to the current control command's result. */
static void result_str(const char *key, const char *value)
{
	if (!cur)
		return;
	sb_printf(&cur->result, "%s\"%s\":", cur->result.len ? "," : "", key);
	sb_json(&cur->result, value);
}

/*
 * A loaded script and its limits. Lua runs on the event loop's thread, so a hook that never
 * returns would stop the console, the control socket and the counters: every call gets a time
 * budget, checked every LUA_CHECK_EVERY instructions, and the state's memory is capped.
 */
#define LUA_CHECK_EVERY 1000
#define LUA_MAX_STRIKES 3	/* overruns in a row after which a hook is turned off */

enum { HOOK_EVENT, HOOK_TICK, HOOK_COUNT };
static const char *const hook_names[HOOK_COUNT] = { "on_event", "on_tick" };

struct script {
	struct app *app;
	char path[256];
	const char *name;		/* the file's base name, for messages */
	size_t mem_used, mem_limit;
	const char *running;		/* the hook being run, or NULL */
	struct timespec deadline;
	bool overrun;			/* the running hook is past its deadline */
	char overrun_msg[320];
	int strikes[HOOK_COUNT];	/* consecutive overruns (time or memory) of each hook */
	bool disabled[HOOK_COUNT];
};

static struct script *script_of(lua_State *L)
{
	return *(struct script **)lua_getextraspace(L);
}

/* The state's allocator: the same as Lua's own, but refusing to grow past mem_limit. */
static void *script_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct script *sc = ud;
	size_t old = ptr ? osize : 0;	/* without ptr, osize is a type tag */
	void *p;

	if (!nsize) {
		free(ptr);
		sc->mem_used -= old;
		return NULL;
	}
	if (nsize > old && sc->mem_used - old + nsize > sc->mem_limit)
		return NULL;
	p = realloc(ptr, nsize);
	if (p)
		sc->mem_used = sc->mem_used - old + nsize;
	return p;
}

/*
 * The count hook: past the deadline it raises an error. From then on every instruction and every
 * call raises it again, so a script that catches the error with pcall cannot carry on.
 */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
	struct script *sc = script_of(L);
	struct timespec now;

	if (!sc->running)
		return;
	if (!sc->overrun) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec < sc->deadline.tv_sec ||
		    (now.tv_sec == sc->deadline.tv_sec && now.tv_nsec < sc->deadline.tv_nsec))
			return;
		lua_getinfo(L, "l", ar);
		snprintf(sc->overrun_msg, sizeof(sc->overrun_msg), "%s: %s exceeded its %u ms budget at line %d",
			 sc->name, sc->running, sc->app->lua_budget_ms, ar->currentline);
		sc->overrun = true;
		lua_sethook(L, budget_hook, LUA_MASKCOUNT | LUA_MASKCALL, 1);
	}
	lua_pushstring(L, sc->overrun_msg);
	lua_error(L);
}

/* Runs the function under the nargs arguments on the stack within the budget; leaves an error message on failure. */
static int script_pcall(struct script *sc, lua_State *L, const char *what, int nargs)
{
	long ms = sc->app->lua_budget_ms;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &sc->deadline);
	sc->deadline.tv_sec += ms / 1000;
	sc->deadline.tv_nsec += (ms % 1000) * 1000000L;
	if (sc->deadline.tv_nsec >= 1000000000L) {
		sc->deadline.tv_sec++;
		sc->deadline.tv_nsec -= 1000000000L;
	}
	sc->running = what;
	sc->overrun = false;
	status = lua_pcall(L, nargs, 0, 0);
	sc->running = NULL;
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, LUA_CHECK_EVERY);
	return status;
}

static int hook_index(const char *name)
{
	for (int h = 0; h < HOOK_COUNT; h++)
		if (!strcmp(hook_names[h], name))
			return h;
	return -1;
}

/* Whether the script defines the hook `name` and it is still turned on. */
static bool has_hook(struct app *a, const char *name)
{
	int h = hook_index(name);
	bool found;

	if (!a->lua || (h >= 0 && script_of(a->lua)->disabled[h]))
		return false;
	lua_getglobal(a->lua, name);
	found = lua_isfunction(a->lua, -1);
	lua_pop(a->lua, 1);
	return found;
}

/*
 * Calls the script's global `name` with the nargs values on the stack; errors are reported, not
 * fatal. A hook that runs over its budget or out of memory LUA_MAX_STRIKES times in a row is
 * turned off until the script is loaded again: it would otherwise cost its whole budget on every
 * call and print the same error each time.
 */
static void call_hook(struct app *a, const char *name, int nargs)
{
	lua_State *L = a->lua;
	struct script *sc = script_of(L);
	int h = hook_index(name), status;

	if (!has_hook(a, name)) {
		lua_pop(L, nargs);
		return;
	}
	lua_getglobal(L, name);
	lua_insert(L, -(nargs + 1));
	status = script_pcall(sc, L, name, nargs);
	if (status == LUA_OK) {
		sc->strikes[h] = 0;
		return;
	}
	if (sc->overrun)
		reply("error: lua: %s; hook aborted\n", sc->overrun_msg);
	else if (status == LUA_ERRMEM)
		reply("error: lua: %s: %s ran out of memory (the limit is %u MiB); hook aborted\n",
		      sc->name, name, a->lua_memory_mb);
	else
		reply("error: lua %s: %s\n", name, lua_tostring(L, -1));
	lua_pop(L, 1);
	if (!sc->overrun && status != LUA_ERRMEM) {
		sc->strikes[h] = 0;
		return;
	}
	if (++sc->strikes[h] >= LUA_MAX_STRIKES) {
		sc->disabled[h] = true;
		reply("error: lua: %s: %s failed %d times in a row over its limits: it is turned off; "
		      "fix the script and load it again\n", sc->name, name, sc->strikes[h]);
	}
}

static void script_close(lua_State *L)
{
	struct script *sc;

	if (!L)
		return;
	sc = script_of(L);
	lua_close(L);
	free(sc);
}

static struct attachment *find_attachment(struct app *a, const char *ifname)
{
	for (int i = 0; i < MAX_ATTACHED; i++)
		if (a->att[i].obj && !strcmp(a->att[i].ifname, ifname))
			return &a->att[i];
	return NULL;
}

static double elapsed(const struct timespec *from, const struct timespec *to)
{
	return (to->tv_sec - from->tv_sec) + (to->tv_nsec - from->tv_nsec) / 1e9;
}

/* Sums the per-CPU counters of each verdict. */
static int read_stats(struct attachment *at, struct xdp_lab_stats *sum)
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

/*
 * Reads every attached program's counters; prints them when asked (as JSON too, for a control
 * client), and hands them to the script's on_tick(stats, seconds) as
 * stats[iface][verdict] = { packets, bytes, pps, bps }.
 */
static void tick(struct app *a, bool print)
{
	struct xdp_lab_stats now[XDP_LAB_STATS_SLOTS];
	lua_State *L = a->lua;
	struct sbuf *json = print && cur ? &cur->result : NULL;
	struct timespec t;
	double dt_max = 0;
	bool any = false;

	clock_gettime(CLOCK_MONOTONIC, &t);
	if (json)
		sb_printf(json, "%s\"programs\":[", json->len ? "," : "");
	if (L)
		lua_newtable(L);
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];
		double dt = elapsed(&at->last_at, &t);

		if (!at->obj || at->stats_fd < 0)
			continue;
		if (read_stats(at, now))
			continue;
		if (json) {
			sb_printf(json, "%s{\"iface\":", any ? "," : "");
			sb_json(json, at->ifname);
			sb_printf(json, ",\"program\":");
			sb_json(json, at->program);
			sb_printf(json, ",\"object\":");
			sb_json(json, at->object);
			sb_printf(json, ",\"mode\":\"%s\",\"id\":%u,\"verdicts\":{",
				  at->flags == XDP_FLAGS_DRV_MODE ? "native" : "generic", at->prog_id);
		}
		any = true;
		if (dt > dt_max)
			dt_max = dt;
		if (L)
			lua_newtable(L);
		for (int v = 0; v < XDP_LAB_STATS_SLOTS; v++) {
			double pps = dt > 0 ? (now[v].packets - at->last[v].packets) / dt : 0;
			double bps = dt > 0 ? (now[v].bytes - at->last[v].bytes) * 8 / dt : 0;

			if (json)
				sb_printf(json, "%s\"%s\":{\"packets\":%llu,\"bytes\":%llu,\"pps\":%.0f,\"bps\":%.0f}",
					  v ? "," : "", verdict_names[v], now[v].packets, now[v].bytes, pps, bps);
			/* Verdicts the program never gave stay quiet; pass and drop always show. */
			if (!now[v].packets && v != XDP_PASS && v != XDP_DROP)
				continue;
			if (print)
				reply("stats %s %s packets=%llu bytes=%llu pps=%.0f bps=%.0f\n",
				      at->ifname, verdict_names[v], now[v].packets, now[v].bytes, pps, bps);
			if (L) {
				lua_newtable(L);
				lua_pushinteger(L, now[v].packets);
				lua_setfield(L, -2, "packets");
				lua_pushinteger(L, now[v].bytes);
				lua_setfield(L, -2, "bytes");
				lua_pushnumber(L, pps);
				lua_setfield(L, -2, "pps");
				lua_pushnumber(L, bps);
				lua_setfield(L, -2, "bps");
				lua_setfield(L, -2, verdict_names[v]);
			}
		}
		if (json)
			sb_printf(json, "}}");
		if (L)
			lua_setfield(L, -2, at->ifname);
		memcpy(at->last, now, sizeof(now));
		at->last_at = t;
	}
	if (json)
		sb_printf(json, "],\"events\":%llu,\"lua_events\":%llu", a->events, a->lua_events);
	if (print && !any)
		reply("stats: no program attached\n");
	if (L) {
		struct session *saved = cur;

		/* The script's output is the console's, not the control client's answer. */
		cur = NULL;
		lua_pushnumber(L, dt_max > 0 ? dt_max : a->interval_ms / 1000.0);
		call_hook(a, "on_tick", 2);
		cur = saved;
	}
}

static void print_stats(struct app *a)
{
	tick(a, true);
}

static const char *const reason_names[] = { "allowed", "blocked", "runt", "not-ipv4" };

static int on_event(void *ctx, void *data, size_t size)
{
	const struct xdp_lab_event *e = data;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	struct app *a = ctx;
	bool handled = false;

	if (size < sizeof(*e))
		return 0;
	a->events++;
	inet_ntop(AF_INET, &e->saddr, src, sizeof(src));
	inet_ntop(AF_INET, &e->daddr, dst, sizeof(dst));
	/* A script with on_event takes the events over: it decides what the console shows. */
	handled = has_hook(a, "on_event");
	if (!handled)
		reply("event src=%s dst=%s proto=%u sport=%u dport=%u verdict=%s reason=%s len=%u\n",
		      src, dst, e->protocol, e->sport, e->dport,
		      e->verdict < XDP_LAB_STATS_SLOTS ? verdict_names[e->verdict] : "?",
		      e->reason < 4 ? reason_names[e->reason] : "?", e->len);
	if (handled) {
		lua_State *L = a->lua;

		lua_newtable(L);
		lua_pushstring(L, src);
		lua_setfield(L, -2, "src");
		lua_pushstring(L, dst);
		lua_setfield(L, -2, "dst");
		lua_pushinteger(L, e->protocol);
		lua_setfield(L, -2, "proto");
		lua_pushinteger(L, e->sport);
		lua_setfield(L, -2, "sport");
		lua_pushinteger(L, e->dport);
		lua_setfield(L, -2, "dport");
		lua_pushstring(L, e->verdict < XDP_LAB_STATS_SLOTS ? verdict_names[e->verdict] : "?");
		lua_setfield(L, -2, "verdict");
		lua_pushstring(L, e->reason < 4 ? reason_names[e->reason] : "?");
		lua_setfield(L, -2, "reason");
		lua_pushinteger(L, e->len);
		lua_setfield(L, -2, "len");
		a->lua_events++;
		call_hook(a, "on_event", 1);
	}
	return 0;
}

/* Sets or clears `blocked` for an IPv4 source in every attached program that has `sources`. */
static void cmd_block(struct app *a, const char *ip, bool block)
{
	struct xdp_lab_source v = { 0 };
	struct in_addr addr;
	int applied = 0;

	if (!ip || inet_pton(AF_INET, ip, &addr) != 1) {
		reply("error: '%s' is not an IPv4 address: use dotted quad, e.g. %s 10.0.0.2\n",
		      ip ? ip : "", block ? "block" : "unblock");
		return;
	}
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];

		if (!at->obj || at->sources_fd < 0)
			continue;
		if (bpf_map_lookup_elem(at->sources_fd, &addr.s_addr, &v))
			memset(&v, 0, sizeof(v));
		v.blocked = block;
		if (bpf_map_update_elem(at->sources_fd, &addr.s_addr, &v, BPF_ANY))
			reply("error: Failed to update sources on %s: %s\n", at->ifname, strerror(errno));
		else
			applied++;
	}
	if (applied) {
		reply("%s %s\n", block ? "blocked" : "unblocked", ip);
		result_str("ip", ip);
		result_raw("programs", "%d", applied);
	}
	else
		reply("error: no attached program has a sources map: load firewall.bpf.o first\n");
}

/*
 * Sets a `const volatile` global of the object (a tunable in .rodata, found through BTF) before
 * load: NAME=VALUE on the load line, e.g. report_every_packet=1.
 */
static int set_tunable(struct bpf_object *obj, const char *assignment)
{
	const char *eq = strchr(assignment, '=');
	char name[64];
	struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *rodata = NULL, *m;
	const struct btf_var_secinfo *vs;
	const struct btf_type *sec;
	unsigned long long value;
	const void *initial;
	char *end, *data;
	size_t size;
	int id, err = -ENOENT;

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(name))
		return -EINVAL;
	snprintf(name, sizeof(name), "%.*s", (int)(eq - assignment), assignment);
	errno = 0;
	value = strtoull(eq + 1, &end, 0);
	if (errno || !eq[1] || *end)
		return -EINVAL;
	/* The map of .rodata itself, not of .rodata.str1.1 and the like (its name ends in ".rodata"). */
	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t len = strlen(n);

		if (len >= 7 && !strcmp(n + len - 7, ".rodata"))
			rodata = m;
	}
	id = btf ? btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC) : -ENOENT;
	if (!rodata || id < 0)
		return -ENOENT;
	initial = bpf_map__initial_value(rodata, &size);
	data = initial ? malloc(size) : NULL;
	if (!data)
		return -ENOMEM;
	memcpy(data, initial, size);
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (int i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, var->name_off), name))
			continue;
		if (vs->offset + vs->size > size || vs->size > sizeof(value)) {
			err = -ERANGE;
			break;
		}
		memcpy(data + vs->offset, &value, vs->size);	/* little endian */
		err = bpf_map__set_initial_value(rodata, data, size);
		break;
	}
	free(data);
	return err;
}

static const char *mode_name(__u32 flags)
{
	return flags == XDP_FLAGS_DRV_MODE ? "native" : "generic";
}

/* Frees what the app holds for an attachment; the kernel's attachment is the caller's business. */
static void release(struct attachment *at)
{
	ring_buffer__free(at->events);	/* closing its epoll fd takes it out of our set */
	at->events = NULL;
	bpf_object__close(at->obj);
	at->obj = NULL;
}

/*
 * Opens OBJ, sets its tunables and loads it into the kernel, filling everything of AT but where it
 * is attached. Nothing is attached yet: a failure here leaves the interface as it was.
 */
static int prepare(struct app *a, struct attachment *at, const char *path, char **opts, int nopts)
{
	struct bpf_prog_info info = { 0 };
	__u32 info_len = sizeof(info);
	struct bpf_program *prog;
	int err;

	a->verifier_len = 0;
	a->verifier_log[0] = '\0';
	at->obj = bpf_object__open_file(path, NULL);
	if (!at->obj) {
		char msg[128];

		err = -errno;
		libbpf_strerror(err, msg, sizeof(msg));
		/* libelf and format errors have libbpf's own codes, which strerror() cannot name. */
		if (err == -LIBBPF_ERRNO__FORMAT || err == -LIBBPF_ERRNO__LIBELF)
			reply("error: Failed to open %s: not a BPF ELF object (%s) - build it with clang -target bpf\n",
			      path, msg);
		else
			reply("error: Failed to open %s: %s\n", path, msg);
		return err;
	}
	for (int i = 0; i < nopts; i++) {
		if (!strchr(opts[i], '='))
			continue;
		err = set_tunable(at->obj, opts[i]);
		if (err) {
			reply("error: Failed to set %s in %s: %s%s\n", opts[i], path, strerror(-err),
			      err == -ENOENT ? " - the object has no such const volatile global" : "");
			goto err_close_obj;
		}
	}
	err = bpf_object__load(at->obj);
	if (err) {
		size_t len = a->verifier_len, from = len > 1500 ? len - 1500 : 0;

		reply("error: Failed to load %s: %s\n%s", path, strerror(-err), a->verifier_log + from);
		goto err_close_obj;
	}
	prog = bpf_object__next_program(at->obj, NULL);
	if (!prog) {
		reply("error: %s has no program\n", path);
		err = -ENOENT;
		goto err_close_obj;
	}
	at->prog_fd = bpf_program__fd(prog);
	snprintf(at->object, sizeof(at->object), "%s", path);
	snprintf(at->program, sizeof(at->program), "%s", bpf_program__name(prog));
	at->prog_id = bpf_obj_get_info_by_fd(at->prog_fd, &info, &info_len) ? 0 : info.id;
	at->stats_fd = bpf_object__find_map_fd_by_name(at->obj, "stats");
	at->sources_fd = bpf_object__find_map_fd_by_name(at->obj, "sources");
	at->events = NULL;
	memset(at->last, 0, sizeof(at->last));
	clock_gettime(CLOCK_MONOTONIC, &at->last_at);
	return 0;

err_close_obj:
	bpf_object__close(at->obj);
	at->obj = NULL;
	return err;
}

/* Opens the program's `events` ring buffer, if it has one, in the epoll set. */
static void watch_events(struct app *a, struct attachment *at)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (!bpf_object__find_map_by_name(at->obj, "events"))
		return;
	at->events = ring_buffer__new(bpf_object__find_map_fd_by_name(at->obj, "events"), on_event, a, NULL);
	ev.data.fd = at->events ? ring_buffer__epoll_fd(at->events) : -1;
	if (!at->events || epoll_ctl(a->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		reply("warning: events of %s will not be shown: %s\n", at->ifname, strerror(errno));
}

static const char *driver_hint(__u32 flags)
{
	return flags == XDP_FLAGS_DRV_MODE ? " - not supported by this driver, try generic mode" : "";
}

/*
 * Puts NEW live on an interface that runs OLD. In the same mode the kernel swaps them in one step
 * (XDP_FLAGS_REPLACE: it refuses when OLD is no longer the one attached). The kernel refuses
 * native and generic on one device at once, so a mode change detaches OLD first and attaches it
 * again when NEW is refused.
 */
static int replace(struct attachment *old, struct attachment *new, const char *path)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old->prog_fd);
	int err, err2;

	if (new->flags == old->flags) {
		err = bpf_xdp_attach(old->ifindex, new->prog_fd, new->flags | XDP_FLAGS_REPLACE, &opts);
		if (err)
			reply("error: Failed to attach %s to %s: %s%s; %s (id %u) stays attached\n", path,
			      old->ifname, strerror(-err), driver_hint(new->flags), old->program,
			      old->prog_id);
		return err;
	}
	err = bpf_xdp_detach(old->ifindex, old->flags | XDP_FLAGS_REPLACE, &opts);
	if (err) {
		reply("error: Failed to detach %s from %s for the mode change: %s; it stays attached\n",
		      old->program, old->ifname, strerror(-err));
		return err;
	}
	err = bpf_xdp_attach(old->ifindex, new->prog_fd, new->flags, NULL);
	if (!err)
		return 0;
	err2 = bpf_xdp_attach(old->ifindex, old->prog_fd, old->flags, NULL);
	if (!err2) {
		reply("error: Failed to attach %s to %s in %s mode: %s%s; %s (id %u) is attached again in %s mode\n",
		      path, old->ifname, mode_name(new->flags), strerror(-err), driver_hint(new->flags),
		      old->program, old->prog_id, mode_name(old->flags));
	} else {
		reply("error: Failed to attach %s to %s in %s mode: %s%s; %s could not be attached again "
		      "(%s): %s has no program now\n", path, old->ifname, mode_name(new->flags),
		      strerror(-err), driver_hint(new->flags), old->program, strerror(-err2), old->ifname);
		release(old);
	}
	return err;
}

/*
 * load OBJ IFACE [native|generic] [NAME=VALUE ...]: the new program is opened, tuned and loaded
 * before anything changes on the interface, then goes live in one step: when any of it fails, the
 * program that ran before keeps running.
 */
static void cmd_load(struct app *a, const char *path, const char *ifname, char **opts, int nopts)
{
	struct attachment new = { 0 }, *old, *at = NULL;
	const char *mode = NULL;
	__u32 replaced = 0;
	int ifindex, err;

	if (!path || !ifname) {
		reply("error: usage: load OBJ IFACE [native|generic] [NAME=VALUE ...]\n");
		return;
	}
	for (int i = 0; i < nopts; i++) {
		if (!strcmp(opts[i], "native") || !strcmp(opts[i], "generic")) {
			mode = opts[i];
		} else if (!strchr(opts[i], '=')) {
			reply("error: unknown mode '%s': use native or generic (or NAME=VALUE to set a tunable)\n",
			      opts[i]);
			return;
		}
	}
	if (access(path, R_OK)) {
		reply("error: cannot read object %s: %s%s\n", path, strerror(errno),
		      errno == ENOENT ? " - the file does not exist" : "");
		return;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		reply("error: unknown interface '%s': see 'ip link' for the names here\n", ifname);
		return;
	}
	old = find_attachment(a, ifname);
	for (int i = 0; i < MAX_ATTACHED && !old && !at; i++)
		if (!a->att[i].obj)
			at = &a->att[i];
	if (!old && !at) {
		reply("error: too many programs attached (%d)\n", MAX_ATTACHED);
		return;
	}
	if (prepare(a, &new, path, opts, nopts))
		return;
	snprintf(new.ifname, sizeof(new.ifname), "%s", ifname);
	new.ifindex = ifindex;

	/* Native first; a driver that cannot run XDP itself still gets the generic hook. A replace keeps the mode. */
	if (mode)
		new.flags = !strcmp(mode, "generic") ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	else
		new.flags = old ? old->flags : XDP_FLAGS_DRV_MODE;
	if (old) {
		err = replace(old, &new, path);
		if (err)
			goto err_release;
		/* Live: only now does the old program's state go. */
		replaced = old->prog_id;
		release(old);
		at = old;
	} else {
		err = bpf_xdp_attach(ifindex, new.prog_fd, new.flags, NULL);
		if (err && !mode) {
			new.flags = XDP_FLAGS_SKB_MODE;
			err = bpf_xdp_attach(ifindex, new.prog_fd, new.flags, NULL);
		}
		if (err) {
			reply("error: Failed to attach %s to %s: %s%s\n", path, ifname, strerror(-err),
			      driver_hint(new.flags));
			goto err_release;
		}
	}
	*at = new;
	watch_events(a, at);
	if (replaced)
		reply("loaded %s on %s mode=%s id=%u replaced=%u\n", at->program, ifname,
		      mode_name(at->flags), at->prog_id, replaced);
	else
		reply("loaded %s on %s mode=%s id=%u\n", at->program, ifname, mode_name(at->flags),
		      at->prog_id);
	result_str("iface", ifname);
	result_str("program", at->program);
	result_str("object", path);
	result_str("mode", mode_name(at->flags));
	result_raw("id", "%u", at->prog_id);
	if (replaced)
		result_raw("replaced", "%u", replaced);
	return;

err_release:
	release(&new);
}

static void detach(struct attachment *at)
{
	bpf_xdp_detach(at->ifindex, at->flags, NULL);
	release(at);
}

static void cmd_unload(struct app *a, const char *ifname)
{
	struct attachment *at;

	if (!ifname) {
		reply("error: usage: unload IFACE\n");
		return;
	}
	at = find_attachment(a, ifname);
	if (!at) {
		reply("error: no program attached to '%s'\n", ifname);
		return;
	}
	detach(at);
	reply("unloaded %s\n", ifname);
	result_str("iface", ifname);
}

/* Appends one attribute to a netlink message built in buf. */
static void put_attr(struct nlmsghdr *nlh, __u16 type, const void *data, __u16 len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));

	nla->nla_type = type;
	nla->nla_len = NLA_HDRLEN + len;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(nla->nla_len);
}

/* The payload of the first attribute of `type` in [start, end), or NULL; malformed lengths stop it. */
static const void *find_attr(const void *start, const void *end, __u16 type)
{
	const struct nlattr *nla = start;

	while ((const char *)end - (const char *)nla >= NLA_HDRLEN && nla->nla_len >= NLA_HDRLEN &&
	       (const char *)nla + nla->nla_len <= (const char *)end) {
		if ((nla->nla_type & NLA_TYPE_MASK) == type)
			return (const char *)nla + NLA_HDRLEN;
		nla = (const void *)((const char *)nla + NLA_ALIGN(nla->nla_len));
	}
	return NULL;
}

/* An attribute of a generic netlink message (after its genlmsghdr), or NULL. */
static const void *genl_attr(const struct nlmsghdr *nlh, __u16 type)
{
	return find_attr((const char *)NLMSG_DATA(nlh) + GENL_HDRLEN,
			 (const char *)nlh + nlh->nlmsg_len, type);
}

static int genl_send(struct app *a, __u16 family, __u8 cmd, __u16 attr, const char *text, __u32 *seq)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	nlh->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++a->genl_seq;
	g->cmd = cmd;
	g->version = 1;
	if (text)
		put_attr(nlh, attr, text, strlen(text) + 1);
	if (seq)
		*seq = nlh->nlmsg_seq;
	return send(a->genl_fd, buf, nlh->nlmsg_len, 0) < 0 ? -errno : 0;
}

/* Resolves the echo family's id once; a missing module is the caller's message to give. */
static int genl_resolve(struct app *a)
{
	char buf[4096];
	ssize_t n;
	int err;

	if (a->genl_family)
		return 0;
	err = genl_send(a, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
			XDP_LAB_ECHO_FAMILY_NAME, NULL);
	if (err)
		return err;
	/* The controller answers at once; this is the one synchronous read, done before any echo. */
	while ((n = recv(a->genl_fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *nlh = (void *)buf; NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nlh);

				if (e->error)
					return e->error;
				return a->genl_family ? 0 : -ENOENT;
			}
			if (nlh->nlmsg_type == GENL_ID_CTRL) {
				const __u16 *id = genl_attr(nlh, CTRL_ATTR_FAMILY_ID);

				if (id)
					a->genl_family = *id;
			}
		}
	}
	return a->genl_family ? 0 : -ENOENT;
}

/* The request with netlink sequence NL_SEQ; 0 finds a free slot (no request has sequence 0). */
static struct pending_echo *find_pending(struct app *a, __u32 nl_seq)
{
	for (int i = 0; i < MAX_PENDING; i++)
		if (a->pending[i].nl_seq == nl_seq)
			return &a->pending[i];
	return NULL;
}

static unsigned long long rtt_us(const struct pending_echo *p, const struct timespec *now)
{
	return (now->tv_sec - p->sent.tv_sec) * 1000000ULL + (now->tv_nsec - p->sent.tv_nsec) / 1000;
}

/* Sends TEXT to the module; CLIENT (a control client's index, or -1) gets the answer later. */
static void cmd_echo(struct app *a, const char *text, int client)
{
	struct pending_echo *p = find_pending(a, 0);
	__u32 nl_seq;
	int err;

	if (!text) {
		reply("error: usage: echo TEXT\n");
		return;
	}
	if (!p) {
		reply("error: too many echo requests in flight (%d): wait for their answers\n", MAX_PENDING);
		return;
	}
	err = genl_resolve(a);
	if (err == -ENOENT) {
		reply("error: generic netlink family %s not found: load the module (insmod xdp_lab_echo.ko)\n",
		      XDP_LAB_ECHO_FAMILY_NAME);
		return;
	}
	if (!err)
		err = genl_send(a, a->genl_family, XDP_LAB_ECHO_CMD_ECHO, XDP_LAB_ECHO_A_TEXT, text, &nl_seq);
	if (err) {
		reply("error: Failed to send echo: %s\n", strerror(-err));
		return;
	}
	memset(p, 0, sizeof(*p));
	p->nl_seq = nl_seq;
	p->client = client;
	clock_gettime(CLOCK_MONOTONIC, &p->sent);
	a->genl_pending++;
	if (client >= 0 && cur)
		cur->deferred = true;
}

/* An echo is complete (answered, or refused with ERR): tell whoever asked. */
static void echo_done(struct app *a, struct pending_echo *p, int err, const char *msg)
{
	struct timespec now;
	struct session s = { 0 };

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->client >= 0)
		cur = &s;
	if (err)
		reply("error: echo rejected: %s%s%s\n", strerror(-err), *msg ? ": " : "", msg);
	else if (p->answered)
		reply("echo seq=%u rtt_us=%llu %s\n", p->seq, rtt_us(p, &now), p->text);
	else
		reply("error: echo: the module acknowledged without an answer\n");
	if (p->client >= 0) {
		if (!err && p->answered) {
			result_str("text", p->text);
			result_raw("seq", "%u", p->seq);
			result_raw("rtt_us", "%llu", rtt_us(p, &now));
		}
		cur = NULL;
		answer(a, p->client, "echo", &s);
	}
	p->nl_seq = 0;
}

/* Replies arrive here, in the event loop: the echo's answer, then its ack or an error with its extended ack. */
static void on_genl(struct app *a)
{
	char buf[8192];
	ssize_t n = recv(a->genl_fd, buf, sizeof(buf), MSG_DONTWAIT);

	for (struct nlmsghdr *nlh = (void *)buf; n > 0 && NLMSG_OK(nlh, n); nlh = NLMSG_NEXT(nlh, n)) {
		struct pending_echo *p = nlh->nlmsg_seq ? find_pending(a, nlh->nlmsg_seq) : NULL;

		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nlh);
			const char *msg = "";

			/* Each request ends with exactly one ack or error. */
			if (a->genl_pending > 0)
				a->genl_pending--;
			/* The extended ack follows the echoed request header (capped: no payload). */
			if (e->error && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
				const char *tlvs = (const char *)e + sizeof(*e) + e->msg.nlmsg_len -
						   NLMSG_HDRLEN;
				const char *found = find_attr(tlvs, (const char *)nlh + nlh->nlmsg_len,
							      NLMSGERR_ATTR_MSG);

				if (found)
					msg = found;
			}
			if (p)
				echo_done(a, p, e->error, msg);
			else if (e->error)
				reply("error: echo rejected: %s%s%s\n", strerror(-e->error), *msg ? ": " : "", msg);
		} else if (nlh->nlmsg_type == a->genl_family && p) {
			const char *text = genl_attr(nlh, XDP_LAB_ECHO_A_TEXT);
			const __u32 *seq = genl_attr(nlh, XDP_LAB_ECHO_A_SEQ);

			p->answered = true;
			p->seq = seq ? *seq : 0;
			snprintf(p->text, sizeof(p->text), "%s", text ? text : "");
		}
	}
}

/* The timer runs while stats are watched or a script is loaded (for its on_tick). */
static void update_timer(struct app *a)
{
	struct itimerspec its = { 0 };

	if (a->watch || a->lua) {
		its.it_interval.tv_sec = a->interval_ms / 1000;
		its.it_interval.tv_nsec = (a->interval_ms % 1000) * 1000000L;
		its.it_value = its.it_interval;
	}
	timerfd_settime(a->timerfd, 0, &its, NULL);
}

static void set_watch(struct app *a, bool on)
{
	a->watch = on;
	update_timer(a);
}

static struct app *lua_owner(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

static int lab_block(lua_State *L)
{
	cmd_block(lua_owner(L), luaL_checkstring(L, 1), true);
	return 0;
}

static int lab_unblock(lua_State *L)
{
	cmd_block(lua_owner(L), luaL_checkstring(L, 1), false);
	return 0;
}

static int lab_echo(lua_State *L)
{
	cmd_echo(lua_owner(L), luaL_checkstring(L, 1), -1);
	return 0;
}

static int lab_log(lua_State *L)
{
	luaL_Buffer b;
	int n = lua_gettop(L);

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
		if (i < n)
			luaL_addchar(&b, ' ');
	}
	luaL_pushresult(&b);
	reply("lua: %s\n", lua_tostring(L, -1));
	return 0;
}

/* lab.sources(): { ["10.0.0.2"] = { packets = N, blocked = bool }, ... } from the firewall's map. */
static int lab_sources(lua_State *L)
{
	struct app *a = lua_owner(L);

	lua_newtable(L);
	for (int i = 0; i < MAX_ATTACHED; i++) {
		struct attachment *at = &a->att[i];
		__u32 key, *prev = NULL;

		if (!at->obj || at->sources_fd < 0)
			continue;
		while (!bpf_map_get_next_key(at->sources_fd, prev, &key)) {
			struct xdp_lab_source v;
			char ip[INET_ADDRSTRLEN];

			prev = &key;
			if (bpf_map_lookup_elem(at->sources_fd, &key, &v))
				continue;
			inet_ntop(AF_INET, &key, ip, sizeof(ip));
			lua_newtable(L);
			lua_pushinteger(L, v.packets);
			lua_setfield(L, -2, "packets");
			lua_pushboolean(L, v.blocked);
			lua_setfield(L, -2, "blocked");
			lua_setfield(L, -2, ip);
		}
	}
	return 1;
}

static int lua_panic_handler(lua_State *L)
{
	fprintf(stderr, "lua: unprotected error: %s\n", lua_tostring(L, -1));
	return 0;	/* Lua aborts the app */
}

/* Opens the standard libraries and `lab` inside a protected call: they too can run out of memory. */
static int script_setup(lua_State *L)
{
	static const luaL_Reg lab[] = {
		{ "block", lab_block }, { "unblock", lab_unblock }, { "echo", lab_echo },
		{ "log", lab_log }, { "sources", lab_sources }, { NULL, NULL },
	};
	struct app *a = lua_touserdata(L, 1);

	luaL_openlibs(L);
	luaL_newlibtable(L, lab);
	lua_pushlightuserdata(L, a);
	luaL_setfuncs(L, lab, 1);
	lua_setglobal(L, "lab");
	return 0;
}

/* Loads (or reloads) a script; on any error the script that was running stays. */
static void cmd_lua(struct app *a, const char *path)
{
	struct script *sc;
	lua_State *L;
	int status;

	if (!path) {
		reply("error: usage: lua FILE\n");
		return;
	}
	sc = calloc(1, sizeof(*sc));
	if (sc)
		sc->mem_limit = (size_t)a->lua_memory_mb << 20;
	L = sc ? lua_newstate(script_alloc, sc) : NULL;
	if (!L) {
		reply("error: Failed to create a Lua state: out of memory\n");
		free(sc);
		return;
	}
	sc->app = a;
	snprintf(sc->path, sizeof(sc->path), "%s", path);
	sc->name = strrchr(sc->path, '/') ? strrchr(sc->path, '/') + 1 : sc->path;
	*(struct script **)lua_getextraspace(L) = sc;
	lua_atpanic(L, lua_panic_handler);
	lua_sethook(L, budget_hook, LUA_MASKCOUNT, LUA_CHECK_EVERY);
	lua_pushcfunction(L, script_setup);
	lua_pushlightuserdata(L, a);
	status = lua_pcall(L, 1, 0, 0);
	if (status == LUA_OK)
		status = luaL_loadfile(L, path);
	if (status == LUA_OK)
		status = script_pcall(sc, L, "main chunk", 0);
	if (status != LUA_OK) {
		if (sc->overrun)
			reply("error: lua: %s; the previous script keeps running\n", sc->overrun_msg);
		else if (status == LUA_ERRMEM)
			reply("error: lua: %s: out of memory (the limit is %u MiB); the previous script keeps running\n",
			      sc->name, a->lua_memory_mb);
		else
			reply("error: lua: %s; the previous script keeps running\n", lua_tostring(L, -1));
		script_close(L);
		return;
	}
	script_close(a->lua);
	a->lua = L;
	update_timer(a);
	reply("lua loaded %s\n", path);
	result_str("script", path);
}

/* lua-budget [MS]: shows or sets the time each call into the script may take. */
static void cmd_lua_budget(struct app *a, const char *ms)
{
	char *end;
	unsigned long v;

	if (ms) {
		errno = 0;
		v = strtoul(ms, &end, 10);
		if (errno || *end || v < 1 || v > 60000) {
			reply("error: '%s' is not a budget: give milliseconds from 1 to 60000, e.g. lua-budget 50\n", ms);
			return;
		}
		a->lua_budget_ms = v;
	}
	reply("lua budget %u ms per call, memory limit %u MiB\n", a->lua_budget_ms, a->lua_memory_mb);
	result_raw("budget_ms", "%u", a->lua_budget_ms);
	result_raw("memory_mb", "%u", a->lua_memory_mb);
}

static void help(void)
{
	reply("commands:\n"
	      "  load OBJ IFACE [native|generic] [NAME=VALUE ...]\n"
	      "                                   attach an XDP object (native first, then generic),\n"
	      "                                   setting its const volatile tunables first\n"
	      "  unload IFACE                     detach it\n"
	      "  stats                            packets, bytes and rates per verdict\n"
	      "  watch on|off                     print stats every interval\n"
	      "  block IP | unblock IP            set or clear a source in the firewall's map\n"
	      "  echo TEXT                        round trip through the xdp_lab_echo module\n"
	      "  lua FILE                         load or reload a script (on_event, on_tick; lab.*)\n"
	      "  lua-budget [MS]                  show or set the time a script's call may take\n"
	      "  quit                             detach everything and exit\n");
	result_raw("commands", "[\"load\",\"unload\",\"stats\",\"watch\",\"block\",\"unblock\",\"echo\",\"lua\",\"lua-budget\",\"quit\",\"help\"]");
}

/* Runs one command line (console or control client); returns false on quit. */
static bool run_command(struct app *a, char *line)
{
	char *rest = line + strspn(line, " \t");
	char *cmd = strsep(&rest, " \t");
	char *text = rest ? rest + strspn(rest, " \t") : NULL;
	char *arg[8];
	int nargs = 0;

	if (!cmd || !*cmd)
		return true;
	/* echo takes the rest of the line as is; the others take words. */
	if (!strcmp(cmd, "echo")) {
		cmd_echo(a, text && *text ? text : NULL, cur_client);
		return true;
	}
	for (char *w = text ? strtok(text, " \t") : NULL; w && nargs < 8; w = strtok(NULL, " \t"))
		arg[nargs++] = w;
	for (int i = nargs; i < 8; i++)
		arg[i] = NULL;
	if (!strcmp(cmd, "help")) {
		help();
	} else if (!strcmp(cmd, "load")) {
		cmd_load(a, arg[0], arg[1], arg + 2, nargs > 2 ? nargs - 2 : 0);
	} else if (!strcmp(cmd, "unload")) {
		cmd_unload(a, arg[0]);
	} else if (!strcmp(cmd, "stats")) {
		print_stats(a);
	} else if (!strcmp(cmd, "watch") && arg[0] && (!strcmp(arg[0], "on") || !strcmp(arg[0], "off"))) {
		set_watch(a, !strcmp(arg[0], "on"));
		result_raw("watch", "%s", a->watch ? "true" : "false");
	} else if (!strcmp(cmd, "watch")) {
		reply("error: usage: watch on|off\n");
	} else if (!strcmp(cmd, "lua-budget")) {
		cmd_lua_budget(a, arg[0]);
	} else if (!strcmp(cmd, "lua")) {
		cmd_lua(a, arg[0]);
	} else if (!strcmp(cmd, "block") || !strcmp(cmd, "unblock")) {
		cmd_block(a, arg[0], !strcmp(cmd, "block"));
	} else if (!strcmp(cmd, "quit")) {
		return false;
	} else {
		reply("error: unknown command '%s': type help\n", cmd);
	}
	return true;
}

static int add_fd(struct app *a, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* Writes a control command's one-line JSON answer to its client. */
static void answer(struct app *a, int client, const char *command, struct session *sess)
{
	struct client *c = &a->clients[client];
	struct sbuf b = { 0 };
	const char *p;
	ssize_t n;

	sb_printf(&b, "{\"ok\":%s,\"command\":", sess->failed ? "false" : "true");
	sb_json(&b, command);
	if (sess->failed) {
		sb_printf(&b, ",\"error\":");
		sb_json(&b, sess->error.s ? sess->error.s : "");
	} else {
		sb_printf(&b, ",\"result\":{%s}", sess->result.s ? sess->result.s : "");
	}
	sb_printf(&b, ",\"output\":");
	sb_json(&b, sess->output.s ? sess->output.s : "");
	sb_add(&b, "}\n", 2);
	/* Answers are small; a client that does not read them is dropped, not waited for. */
	for (p = b.s; c->fd >= 0 && p < b.s + b.len; p += n) {
		n = write(c->fd, p, b.s + b.len - p);
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
	sb_free(&sess->output);
	sb_free(&sess->error);
	sb_free(&sess->result);
}

static void close_client(struct app *a, int i)
{
	close(a->clients[i].fd);	/* closing it takes it out of the epoll set */
	a->clients[i].fd = -1;
	/* Echo answers still on their way have nobody to go to: they go to the console. */
	for (int k = 0; k < MAX_PENDING; k++)
		if (a->pending[k].nl_seq && a->pending[k].client == i)
			a->pending[k].client = -1;
}

/* Runs one command from a control client; returns false on quit. */
static bool run_control(struct app *a, int client, char *line)
{
	struct session s = { 0 };
	char command[32];
	bool running;

	snprintf(command, sizeof(command), "%.*s", (int)strcspn(line + strspn(line, " \t"), " \t"),
		 line + strspn(line, " \t"));
	if (!*command)
		return true;
	cur = &s;
	cur_client = client;
	running = run_command(a, line);
	cur = NULL;
	cur_client = -1;
	if (s.deferred) {
		sb_free(&s.output);
		sb_free(&s.result);
		return running;
	}
	answer(a, client, command, &s);
	return running;
}

/* Reads what a client sent and runs each complete line; returns false on quit. */
static bool on_client(struct app *a, int i)
{
	struct client *c = &a->clients[i];
	ssize_t r = read(c->fd, c->buf + c->used, sizeof(c->buf) - 1 - c->used);
	bool running = true;
	char *nl;

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (r <= 0) {
		close_client(a, i);
		return true;
	}
	c->used += r;
	c->buf[c->used] = '\0';
	while (running && c->fd >= 0 && (nl = strchr(c->buf, '\n'))) {
		*nl = '\0';
		running = run_control(a, i, c->buf);
		c->used -= nl + 1 - c->buf;
		memmove(c->buf, nl + 1, c->used + 1);
	}
	if (c->fd >= 0 && c->used == sizeof(c->buf) - 1) {
		struct session s = { 0 };

		cur = &s;
		reply("error: line too long (max %zu bytes)\n", sizeof(c->buf) - 2);
		cur = NULL;
		answer(a, i, "", &s);
		c->used = 0;
	}
	return running;
}

static void on_accept(struct app *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (a->clients[i].fd >= 0)
			continue;
		a->clients[i].fd = fd;
		a->clients[i].used = 0;
		if (add_fd(a, fd)) {
			close_client(a, i);
			return;
		}
		return;
	}
	dprintf(fd, "{\"ok\":false,\"command\":\"\",\"error\":\"too many control clients (%d)\"}\n",
		MAX_CLIENTS);
	close(fd);
}

/*
 * Listens on PATH. A socket file nobody answers on is stale (a crashed app) and is replaced; one
 * that answers belongs to another app, which is an error.
 */
static int control_listen(struct app *a, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
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
	a->listen_fd = fd;
	a->control_path = path;
	return 0;

err_close:
	close(fd);
err:
	fprintf(stderr, "Failed to listen on %s: %s\n", path, strerror(errno));
	return -1;
}

/* `xdp-lab-app ctl [--control PATH] COMMAND...`: one command, its JSON answer on stdout. */
static int ctl_main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = DEFAULT_CONTROL;
	char buf[65536], line[1024] = "";
	struct pollfd pfd;
	size_t used = 0;
	int i = 2, fd;

	if (argc > 3 && !strcmp(argv[2], "--control")) {
		path = argv[3];
		i = 4;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: xdp-lab-app ctl [--control PATH] COMMAND [ARGS...]\n");
		return 2;
	}
	for (; i < argc; i++) {
		if (strlen(line) + strlen(argv[i]) + 2 >= sizeof(line)) {
			fprintf(stderr, "command longer than %zu bytes\n", sizeof(line) - 2);
			return 2;
		}
		strcat(line, argv[i]);
		strcat(line, i + 1 < argc ? " " : "\n");
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		fprintf(stderr, "Failed to connect to %s: %s - start the app with: xdp-lab-app --control %s\n",
			path, strerror(errno), path);
		return 2;
	}
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line)) {
		fprintf(stderr, "Failed to send to %s: %s\n", path, strerror(errno));
		return 2;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (used < sizeof(buf) - 1 && !memchr(buf, '\n', used)) {
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0) {
			fprintf(stderr, "No answer from %s within 10 s\n", path);
			return 2;
		}
		n = read(fd, buf + used, sizeof(buf) - 1 - used);
		if (n <= 0) {
			fprintf(stderr, "%s closed the connection without an answer\n", path);
			return 2;
		}
		used += n;
	}
	buf[used] = '\0';
	fputs(buf, stdout);
	close(fd);
	return strncmp(buf, "{\"ok\":true", 10) ? 1 : 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: xdp-lab-app [--interval-ms N] [--control PATH] [--no-console]\n"
		   "                   [--lua-budget-ms N (50)] [--lua-memory-mb N (64)]\n"
		   "       xdp-lab-app ctl [--control PATH] COMMAND [ARGS...]\n"
		   "The console reads commands on stdin (type help). With --control, the same commands\n"
		   "are served on a Unix socket with one JSON answer per line (default path %s);\n"
		   "the app then keeps running when stdin ends.\n", DEFAULT_CONTROL);
}

int main(int argc, char **argv)
{
	struct app a = {
		.interval_ms = 1000, .listen_fd = -1, .console = true,
		.lua_budget_ms = 50, .lua_memory_mb = 64,
	};
	const char *control = NULL;
	char line[1024];
	size_t used = 0;
	bool running = true;
	sigset_t mask;
	int one = 1, err = 1;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc, argv);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--interval-ms") && i + 1 < argc) {
			a.interval_ms = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1000;
		} else if (!strcmp(argv[i], "--lua-budget-ms") && i + 1 < argc) {
			a.lua_budget_ms = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 50;
		} else if (!strcmp(argv[i], "--lua-memory-mb") && i + 1 < argc) {
			a.lua_memory_mb = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 64;
		} else if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			control = argv[++i];
		} else if (!strcmp(argv[i], "--no-console")) {
			a.console = false;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		a.clients[i].fd = -1;
	log_sink = &a;
	libbpf_set_print(libbpf_print);
	setvbuf(stdout, NULL, _IOLBF, 0);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		fprintf(stderr, "Failed to block signals: %s\n", strerror(errno));
		return 1;
	}
	/* A control client that goes away while answered must not kill the app. */
	signal(SIGPIPE, SIG_IGN);
	a.sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	a.timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a.genl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a.sigfd < 0 || a.timerfd < 0 || a.genl_fd < 0 || a.epfd < 0) {
		fprintf(stderr, "Failed to create event sources: %s\n", strerror(errno));
		goto out_close;
	}
	setsockopt(a.genl_fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (control && control_listen(&a, control))
		goto out_close;
	if (add_fd(&a, a.sigfd) || add_fd(&a, a.timerfd) || add_fd(&a, a.genl_fd) ||
	    (a.listen_fd >= 0 && add_fd(&a, a.listen_fd))) {
		fprintf(stderr, "Failed to add to epoll: %s\n", strerror(errno));
		goto out_close;
	}
	/* A daemon's stdin may be /dev/null or a file, which epoll refuses: the socket is its console. */
	if (a.console && add_fd(&a, STDIN_FILENO)) {
		if (a.listen_fd < 0) {
			fprintf(stderr, "Failed to read commands on stdin: %s - give --control PATH to run without a console\n",
				strerror(errno));
			goto out_close;
		}
		a.console = false;
	}
	if (a.listen_fd >= 0)
		reply("xdp-lab-app ready; control socket %s\n", a.control_path);
	else
		reply("xdp-lab-app ready; type help\n");

	while (running) {
		struct epoll_event ev[8];
		int n = epoll_wait(a.epfd, ev, 8, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "Failed to wait for events: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n && running; i++) {
			int fd = ev[i].data.fd;
			int client = -1;

			for (int k = 0; k < MAX_CLIENTS; k++)
				if (a.clients[k].fd == fd)
					client = k;
			if (fd == a.sigfd) {
				running = false;
			} else if (fd == a.timerfd) {
				__u64 ticks;

				if (read(a.timerfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					tick(&a, a.watch);
			} else if (fd == a.genl_fd) {
				on_genl(&a);
			} else if (a.listen_fd >= 0 && fd == a.listen_fd) {
				on_accept(&a);
			} else if (client >= 0) {
				running = on_client(&a, client);
			} else if (fd == STDIN_FILENO && a.console) {
				ssize_t r = read(STDIN_FILENO, line + used, sizeof(line) - 1 - used);
				char *nl;

				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0) {
					/* End of the console: quit, unless clients can still talk to us. */
					epoll_ctl(a.epfd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
					a.console = false;
					if (a.listen_fd < 0)
						running = false;
					continue;
				}
				used += r;
				line[used] = '\0';
				while (running && (nl = strchr(line, '\n'))) {
					*nl = '\0';
					running = run_command(&a, line);
					used -= nl + 1 - line;
					memmove(line, nl + 1, used + 1);
				}
				if (used == sizeof(line) - 1) {
					reply("error: line too long\n");
					used = 0;
				}
			} else {
				/* One of the attached programs' ring buffers. */
				for (int k = 0; k < MAX_ATTACHED; k++)
					if (a.att[k].events && ring_buffer__epoll_fd(a.att[k].events) == fd)
						ring_buffer__consume(a.att[k].events);
			}
		}
	}
	/* Answers to requests sent just before quit still belong to this session. */
	while (a.genl_pending > 0) {
		struct epoll_event ev;
		int before = a.genl_pending;

		if (epoll_wait(a.epfd, &ev, 1, 1000) <= 0)
			break;
		if (ev.data.fd == a.genl_fd)
			on_genl(&a);
		else if (ev.data.fd != a.sigfd)
			epoll_ctl(a.epfd, EPOLL_CTL_DEL, ev.data.fd, NULL);
		if (a.genl_pending == before && ev.data.fd == a.sigfd)
			break;
	}
	err = 0;

out_close:
	for (int i = 0; i < MAX_ATTACHED; i++)
		if (a.att[i].obj)
			detach(&a.att[i]);
	script_close(a.lua);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (a.clients[i].fd >= 0)
			close(a.clients[i].fd);
	if (a.listen_fd >= 0) {
		close(a.listen_fd);
		unlink(a.control_path);
	}
	reply("bye\n");
	close(a.epfd);
	close(a.genl_fd);
	close(a.timerfd);
	close(a.sigfd);
	return err;
}
