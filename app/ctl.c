// SPDX-License-Identifier: GPL-2.0
/* ctl.c: `xdp-lab-app ctl [--control PATH] COMMAND...`, one command and its JSON answer on stdout. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "protocol.h"

/* Exit status: 0 the answer is ok, 1 it is not, 2 nobody answered. */
int ctl_main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = XDP_LAB_CONTROL_DEFAULT;
	char buf[65536], line[XDP_LAB_LINE_MAX] = "";
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
