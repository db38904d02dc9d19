// SPDX-License-Identifier: MIT
/*
 * udp-flood: sends small UDP datagrams to HOST:PORT as fast as one core can (sendmmsg, 64 at a
 * time) for SECONDS and prints {"sent": N, "seconds": S}. It needs no answer, so it works while
 * everything is dropped. Built by bench:lab: cc -O2 -o udp-flood udp-flood.c
 *   udp-flood HOST PORT SECONDS [PAYLOAD_BYTES]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	char payload[1472] = { 0 };
	unsigned long long sent = 0;
	double start, end;
	int fd;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udp-flood HOST PORT SECONDS [PAYLOAD_BYTES]\n");
		return 2;
	}
	dst.sin_port = htons(atoi(argv[2]));
	iov.iov_base = payload;
	iov.iov_len = argc > 4 ? (size_t)atoi(argv[4]) : 18;
	if (iov.iov_len > sizeof(payload))
		iov.iov_len = sizeof(payload);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst))) {
		perror("Failed to open the socket");
		return 1;
	}
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	start = now();
	end = start + atof(argv[3]);
	while (now() < end) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n > 0)
			sent += n;
	}
	printf("{\"sent\": %llu, \"seconds\": %.3f}\n", sent, now() - start);
	return 0;
}
