/* SPDX-License-Identifier: GPL-2.0 */
/* app.h: the app's state, and what its parts (one file per concern) call of each other. */
#ifndef XDP_LAB_APP_H
#define XDP_LAB_APP_H

#include <linux/types.h>
#include <net/if.h>
#include <stdbool.h>
#include <time.h>

#include "../bpf/xdp_lab.h"
#include "control.h"
#include "loop.h"
#include "out.h"
#include "protocol.h"

#define MAX_ATTACHED 8
#define MAX_PENDING 64

struct bpf_object;
struct ring_buffer;
struct lua_State;

/* A program the app attached, and what it reads from it. */
struct attachment {
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 flags;			/* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
	struct bpf_object *obj;		/* NULL: a free slot */
	char object[256];		/* the path it was loaded from */
	char program[64];
	__u32 prog_id;
	int prog_fd;			/* owned by obj */
	int stats_fd;			/* -1 when the program has no `stats` map */
	int sources_fd;			/* the firewall's `sources` map, else -1 */
	struct ring_buffer *events;	/* the program's `events` ring buffer, if any */
	struct handler events_h;	/* its epoll fd in the loop */
	struct xdp_lab_stats last[XDP_LAB_STATS_SLOTS];
	struct timespec last_at;
};

/* An echo request on its way through the module: who asked, and when. */
struct pending_echo {
	__u32 nl_seq;			/* 0: a free slot */
	int client;			/* a control client's index, or -1 for the console and Lua */
	struct timespec sent;
	bool answered;
	__u32 seq;
	char text[260];
};

struct app {
	struct loop loop;
	struct handler sig_h, timer_h, genl_h;
	struct out console;		/* stdout: the console, hooks, the kernel's events */
	struct control control;
	unsigned int interval_ms;
	bool watch;
	struct attachment att[MAX_ATTACHED];
	__u64 events, lua_events;	/* ring-buffer records read; handed to on_event */
	__u16 genl_family;
	__u32 genl_seq;
	int genl_pending;		/* echo requests sent and not yet answered */
	struct pending_echo pending[MAX_PENDING];
	struct lua_State *lua;		/* the loaded script, or NULL */
	unsigned int lua_budget_ms;	/* per call into the script */
	unsigned int lua_memory_mb;	/* for the script's whole state */
};

/* One attached program's counters and rates per verdict, computed from two readings. */
struct verdict_rate {
	unsigned long long packets, bytes;
	double pps, bps;
};

struct prog_rates {
	const struct attachment *at;
	struct verdict_rate v[XDP_LAB_STATS_SLOTS];
};

struct stats_view {
	int n;
	double seconds;			/* the longest interval the rates cover */
	struct prog_rates p[MAX_ATTACHED];
};

/* One event of a program's ring buffer, decoded. */
struct event_view {
	char src[16], dst[16];
	unsigned int proto, sport, dport, len;
	const char *verdict, *reason;
};

extern const char *const verdict_names[XDP_LAB_STATS_SLOTS];

/* commands.c: a handler's result. */
enum { CMD_OK = 0, CMD_FAILED = -1, CMD_QUIT = 1, CMD_EMPTY = 2 };
/* Runs one command line into O; COMMAND gets its name (for the answer). */
int commands_run(struct app *a, struct out *o, char *line, char *command, size_t size);

/* xdp.c */
void xdp_init(void);
const char *mode_name(__u32 flags);
int cmd_load(struct app *a, struct out *o, int argc, char **argv);
int cmd_unload(struct app *a, struct out *o, int argc, char **argv);
int xdp_block(struct app *a, struct out *o, const char *ip, bool block);
struct attachment *find_attachment(struct app *a, const char *ifname);
void detach_all(struct app *a);

/* stats.c */
void tick(struct app *a, struct out *o);
void update_timer(struct app *a);
void stats_on_timer(struct handler *h);

/* events.c */
int events_watch(struct app *a, struct attachment *at);
void events_unwatch(struct app *a, struct attachment *at);

/* echo_genl.c */
int echo_init(struct app *a);
/* CLIENT: a control client to answer when the module does, or -1 (console, Lua). */
int echo_send(struct app *a, struct out *o, const char *text, int client);
void echo_on_reply(struct handler *h);
void echo_drain(struct app *a);

/* script_lua.c */
int cmd_lua(struct app *a, struct out *o, int argc, char **argv);
bool script_has_hook(struct app *a, const char *name);
void script_on_tick(struct app *a, const struct stats_view *s);
void script_on_event(struct app *a, const struct event_view *e);
void script_close(struct lua_State *L);

#endif
