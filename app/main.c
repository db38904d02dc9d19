// SPDX-License-Identifier: GPL-2.0
/*
 * xdp-lab-app: loads the lab's XDP programs and runs one epoll loop over file descriptors only:
 * the console on stdin, a timerfd that reads the counters, a generic netlink socket talking to the
 * xdp_lab_echo module, a signalfd that detaches everything on SIGINT/SIGTERM, the programs' ring
 * buffers, and (with --control PATH) a Unix control socket with its clients (protocol.h).
 * main.c: arguments, setup and teardown.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "app.h"
#include "ctl.h"
#include "parse.h"

static void on_signal(struct handler *h)
{
	struct app *a = container_of(h, struct app, sig_h);

	a->loop.running = false;
}

/* The event sources every run has: signals, the stats timer, the echo module's socket. */
static int open_sources(struct app *a)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		fprintf(stderr, "Failed to block signals: %s\n", strerror(errno));
		return -1;
	}
	/* A control client that goes away while answered must not kill the app. */
	signal(SIGPIPE, SIG_IGN);
	a->sig_h.fd = signalfd(-1, &mask, SFD_CLOEXEC);
	a->sig_h.fn = on_signal;
	if (a->sig_h.fd < 0 || echo_init(a) || loop_init(&a->loop)) {
		fprintf(stderr, "Failed to create event sources: %s\n", strerror(errno));
		return -1;
	}
	if (loop_add(&a->loop, &a->sig_h) || loop_add(&a->loop, &a->genl_h)) {
		fprintf(stderr, "Failed to add to epoll: %s\n", strerror(errno));
		return -1;
	}
	if (stats_init(a)) {
		fprintf(stderr, "Failed to create the stats timer: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* Every part's commands, in the order help lists them. */
static int add_commands(struct app *a)
{
	static const struct command *const parts[] = {
		xdp_commands, stats_commands, echo_commands, script_commands, commands_builtin,
	};

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (commands_add(a, parts[i]))
			return -1;
	return 0;
}

/* Sources, commands, the control socket and the console; -1 with the reason on stderr. */
static int app_start(struct app *a, const struct options *opt)
{
	a->interval_ms = opt->interval_ms;
	a->lua_budget_ms = opt->lua_budget_ms;
	a->lua_memory_mb = opt->lua_memory_mb;
	setvbuf(stdout, NULL, _IOLBF, 0);
	out_console(&a->console, stdout);
	control_init(a);
	xdp_init();
	if (open_sources(a) || add_commands(a))
		return -1;
	if (opt->control && control_listen(a, opt->control))
		return -1;
	/* A daemon's stdin may be /dev/null or a file, which epoll refuses: the socket is its console. */
	if (!opt->no_console && console_start(a) && !opt->control) {
		fprintf(stderr, "Failed to read commands on stdin: %s - give --control PATH to run without a console\n",
			strerror(errno));
		return -1;
	}
	if (opt->control)
		out_printf(&a->console, "xdp-lab-app ready; control socket %s\n", opt->control);
	else
		out_printf(&a->console, "xdp-lab-app ready; type help\n");
	return 0;
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void app_stop(struct app *a)
{
	detach_all(a);
	script_close(a);
	control_close(a);
	out_printf(&a->console, "bye\n");
	loop_fini(&a->loop);
	close_fd(a->genl_h.fd);
	close_fd(a->timer_h.fd);
	close_fd(a->sig_h.fd);
}

int main(int argc, char **argv)
{
	struct app a = { .sig_h.fd = -1, .timer_h.fd = -1, .genl_h.fd = -1, .loop.epfd = -1 };
	struct options opt;
	char err[256];
	int status = 1;

	if (argc > 1 && !strcmp(argv[1], "ctl"))
		return ctl_main(argc, argv);
	if (parse_options(argc, argv, &opt, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		options_usage(stderr);
		return 2;
	}
	if (opt.help) {
		options_usage(stdout);
		return 0;
	}
	if (!app_start(&a, &opt)) {
		status = loop_run(&a.loop) ? 1 : 0;
		echo_drain(&a);
	}
	app_stop(&a);
	return status;
}
