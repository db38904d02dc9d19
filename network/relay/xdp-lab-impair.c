// SPDX-License-Identifier: MIT
/*
 * xdp-lab-impair: netem's delay, jitter, loss, duplication, reordering and
 * corruption in user space, for kernels without sch_netem.
 *
 * tc steals the packets a lab device sends (clsact egress, u32, mirred redirect)
 * into a veth; this program reads them there (AF_PACKET), holds each in a queue
 * ordered by its release time, and sends it on the device it was stolen from,
 * marked, so the same tc filter lets it go. One process serves both directions
 * of a link. Everything is a file descriptor in one epoll set: the four packet
 * sockets, a timerfd armed for the earliest release, and a signalfd (SIGHUP
 * reloads the parameters, SIGUSR1 writes the counters, SIGTERM ends).
 *
 * Parameters file, one line per direction:
 *   NAME IN OUT delay_us jitter_us loss_ppm duplicate_ppm corrupt_ppm reorder_ppm rate_bps limit
 * IN is where the stolen packets arrive, OUT where they leave (marked).
 * The rate is netem's: each packet leaves after the one before it has been
 * serialised at that rate; a packet that would wait over 100 ms for that is
 * dropped, as tbf's latency bounds its queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>

#define MAX_DIRS 2
#define FRAME_MAX (65536 + sizeof(struct virtio_net_hdr))

#define RATE_BACKLOG_NS 100000000ull

struct params {
	uint64_t delay_ns, jitter_ns, rate_bps;
	uint32_t loss, duplicate, corrupt, reorder; /* parts per million */
	uint32_t limit;
};

struct pkt {
	uint64_t due, seq;
	uint32_t len;
	unsigned char data[];
};

struct counters {
	uint64_t received, sent, lost, duplicated, corrupted, reordered, overlimit, failed;
};

struct dir {
	char name[16], in[IF_NAMESIZE], out[IF_NAMESIZE];
	int in_fd, out_fd, out_ifindex;
	struct params p;
	struct pkt **heap;
	size_t n, cap;
	/* when the rate's wire is free again */
	uint64_t wire_free;
	struct counters c;
};

struct relay {
	struct dir dirs[MAX_DIRS];
	int ndirs, epfd, timer_fd, signal_fd;
	uint32_t mark;
	uint64_t seq, rng;
	const char *params_path, *stats_path;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* xorshift64*: fast, and reproducible with --seed */
static uint32_t rnd(struct relay *r)
{
	r->rng ^= r->rng >> 12;
	r->rng ^= r->rng << 25;
	r->rng ^= r->rng >> 27;
	return (uint32_t)((r->rng * 2685821657736338717ull) >> 32);
}

/* true with probability ppm / 1e6 */
static bool chance(struct relay *r, uint32_t ppm)
{
	return ppm && (uint64_t)rnd(r) * 1000000ull < (uint64_t)ppm << 32;
}

static bool before(const struct pkt *a, const struct pkt *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static int heap_push(struct dir *d, struct pkt *p)
{
	size_t i;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct pkt **v = realloc(d->heap, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->heap = v;
		d->cap = cap;
	}
	for (i = d->n++; i && before(p, d->heap[(i - 1) / 2]); i = (i - 1) / 2)
		d->heap[i] = d->heap[(i - 1) / 2];
	d->heap[i] = p;
	return 0;
}

static struct pkt *heap_pop(struct dir *d)
{
	struct pkt *top = d->heap[0], *last = d->heap[--d->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= d->n)
			break;
		if (c + 1 < d->n && before(d->heap[c + 1], d->heap[c]))
			c++;
		if (!before(d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->n)
		d->heap[i] = last;
	return top;
}

static int open_in(const char *ifname)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int one = 1, size = 8 << 20, fd;

	sll.sll_ifindex = if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		return -errno;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	/* Stolen packets keep their GSO state: forwarded whole, the kernel segments on the way out. */
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int open_out(const char *ifname, uint32_t mark, int *ifindex)
{
	int one = 1, fd;

	*ifindex = if_nametoindex(ifname);
	if (!*ifindex)
		return -errno;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Reads the parameters file; with `reload`, only the values of the directions already open. */
static int read_params(struct relay *r, bool reload)
{
	FILE *f = fopen(r->params_path, "r");
	char line[512];
	int n = 0;

	if (!f) {
		fprintf(stderr, "Failed to open %s: %s\n", r->params_path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) && n < MAX_DIRS) {
		struct dir d = { 0 };
		uint64_t delay, jitter;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%15s %15s %15s %" SCNu64 " %" SCNu64 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu32 " %" SCNu64 " %" SCNu32,
			   d.name, d.in, d.out, &delay, &jitter, &d.p.loss, &d.p.duplicate, &d.p.corrupt,
			   &d.p.reorder, &d.p.rate_bps, &d.p.limit) != 11) {
			fprintf(stderr, "%s: bad line: %s", r->params_path, line);
			fclose(f);
			return -1;
		}
		d.p.delay_ns = delay * 1000;
		d.p.jitter_ns = jitter * 1000;
		if (!d.p.limit)
			d.p.limit = 1000;
		if (reload) {
			if (n < r->ndirs && !strcmp(r->dirs[n].name, d.name))
				r->dirs[n].p = d.p;
		} else {
			r->dirs[n] = d;
		}
		n++;
	}
	fclose(f);
	if (!reload)
		r->ndirs = n;
	return n ? 0 : -1;
}

static void enqueue(struct relay *r, struct dir *d, const unsigned char *buf, size_t len, uint64_t now)
{
	int copies = 1 + chance(r, d->p.duplicate);
	uint64_t delay = d->p.delay_ns;

	d->c.received++;
	if (chance(r, d->p.loss)) {
		d->c.lost++;
		return;
	}
	if (copies > 1)
		d->c.duplicated++;
	if (chance(r, d->p.reorder)) {
		/* netem's reorder: this one goes at once, ahead of the delayed ones */
		delay = 0;
		d->c.reordered++;
	} else if (d->p.jitter_ns) {
		uint64_t span = 2 * d->p.jitter_ns + 1;
		int64_t off = (int64_t)(((uint64_t)rnd(r) << 32 | rnd(r)) % span) - (int64_t)d->p.jitter_ns;

		delay = (int64_t)delay + off > 0 ? delay + off : 0;
	}
	while (copies--) {
		uint64_t due = now + delay;
		struct pkt *p;

		if (d->n >= d->p.limit) {
			d->c.overlimit++;
			return;
		}
		if (d->p.rate_bps) {
			uint64_t start = due > d->wire_free ? due : d->wire_free;

			if (start - due > RATE_BACKLOG_NS) {
				d->c.overlimit++;
				return;
			}
			due = start + (uint64_t)len * 8 * 1000000000ull / d->p.rate_bps;
			d->wire_free = due;
		}
		p = malloc(sizeof(*p) + len);
		if (!p) {
			d->c.failed++;
			return;
		}
		memcpy(p->data, buf, len);
		p->len = len;
		p->due = due;
		p->seq = r->seq++;
		if (copies == 0 && chance(r, d->p.corrupt) && len > sizeof(struct virtio_net_hdr) + ETH_HLEN) {
			size_t at = sizeof(struct virtio_net_hdr) + ETH_HLEN;

			p->data[at + rnd(r) % (len - at)] ^= 1u << (rnd(r) % 8);
			d->c.corrupted++;
		}
		if (heap_push(d, p)) {
			free(p);
			d->c.failed++;
		}
	}
}

static void receive(struct relay *r, struct dir *d)
{
	static unsigned char buf[FRAME_MAX];
	uint64_t now = now_ns();

	for (;;) {
		ssize_t len = recv(d->in_fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno != EINTR && errno != EAGAIN)
				d->c.failed++;
			if (errno == EINTR)
				continue;
			return;
		}
		enqueue(r, d, buf, len, now);
	}
}

static void release(struct dir *d, uint64_t now)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = d->out_ifindex };

	while (d->n && d->heap[0]->due <= now) {
		struct pkt *p = heap_pop(d);

		if (sendto(d->out_fd, p->data, p->len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			d->c.failed++;
		else
			d->c.sent++;
		free(p);
	}
}

static void arm_timer(struct relay *r)
{
	struct itimerspec its = { 0 };
	uint64_t due = UINT64_MAX;

	for (int i = 0; i < r->ndirs; i++)
		if (r->dirs[i].n && r->dirs[i].heap[0]->due < due)
			due = r->dirs[i].heap[0]->due;
	if (due != UINT64_MAX) {
		/* 0 would disarm it: a due time already past fires at once */
		due = due ? due : 1;
		its.it_value.tv_sec = due / 1000000000ull;
		its.it_value.tv_nsec = due % 1000000000ull;
	}
	timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void write_stats(struct relay *r)
{
	char tmp[4096];
	FILE *f;

	if (!r->stats_path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", r->stats_path);
	f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "Failed to write %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "{");
	for (int i = 0; i < r->ndirs; i++) {
		struct counters *c = &r->dirs[i].c;

		fprintf(f, "%s\"%s\":{\"received\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"lost\":%" PRIu64
			",\"duplicated\":%" PRIu64 ",\"corrupted\":%" PRIu64 ",\"reordered\":%" PRIu64
			",\"overlimit\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"queued\":%zu}",
			i ? "," : "", r->dirs[i].name, c->received, c->sent, c->lost, c->duplicated,
			c->corrupted, c->reordered, c->overlimit, c->failed, r->dirs[i].n);
	}
	fprintf(f, "}\n");
	if (fclose(f) || rename(tmp, r->stats_path))
		fprintf(stderr, "Failed to write %s: %s\n", r->stats_path, strerror(errno));
}

/* Returns false when the relay should end. */
static bool on_signal(struct relay *r)
{
	struct signalfd_siginfo si;

	while (read(r->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP && read_params(r, true))
			fprintf(stderr, "Failed to reload %s: keeping the old parameters\n", r->params_path);
		else if (si.ssi_signo == SIGUSR1)
			write_stats(r);
		else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			return false;
	}
	return true;
}

static int setup(struct relay *r)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	r->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->epfd < 0 || r->timer_fd < 0 || r->signal_fd < 0)
		return -errno;
	ev.data.ptr = &r->timer_fd;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->timer_fd, &ev))
		return -errno;
	ev.data.ptr = &r->signal_fd;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, r->signal_fd, &ev))
		return -errno;
	for (int i = 0; i < r->ndirs; i++) {
		struct dir *d = &r->dirs[i];

		d->in_fd = open_in(d->in);
		if (d->in_fd < 0) {
			fprintf(stderr, "Failed to open %s for reading: %s\n", d->in, strerror(-d->in_fd));
			return d->in_fd;
		}
		d->out_fd = open_out(d->out, r->mark, &d->out_ifindex);
		if (d->out_fd < 0) {
			fprintf(stderr, "Failed to open %s for sending: %s\n", d->out, strerror(-d->out_fd));
			return d->out_fd;
		}
		ev.data.ptr = d;
		if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, d->in_fd, &ev))
			return -errno;
	}
	return 0;
}

static int usage(const char *prog)
{
	fprintf(stderr, "Usage: %s --params FILE --mark MARK [--stats FILE] [--seed N]\n", prog);
	return 2;
}

int main(int argc, char **argv)
{
	struct relay r = { .rng = 0 };
	struct epoll_event evs[8];
	bool running = true;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--params"))
			r.params_path = argv[i + 1];
		else if (!strcmp(argv[i], "--stats"))
			r.stats_path = argv[i + 1];
		else if (!strcmp(argv[i], "--mark"))
			r.mark = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--seed"))
			r.rng = strtoull(argv[i + 1], NULL, 0);
		else
			return usage(argv[0]);
	}
	if (!r.params_path || !r.mark || argc % 2 == 0)
		return usage(argv[0]);
	if (!r.rng && getrandom(&r.rng, sizeof(r.rng), 0) != sizeof(r.rng))
		r.rng = now_ns();
	r.rng |= 1;
	if (read_params(&r, false))
		return 1;
	if (setup(&r)) {
		fprintf(stderr, "Failed to set up the relay: %s\n", strerror(errno));
		return 1;
	}
	/* The ready line: whoever started us may now steer packets here. */
	printf("ready\n");
	fflush(stdout);
	while (running) {
		int n = epoll_wait(r.epfd, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "Failed to wait for events: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			void *h = evs[i].data.ptr;

			if (h == &r.signal_fd) {
				running = on_signal(&r);
			} else if (h == &r.timer_fd) {
				uint64_t ticks;

				if (read(r.timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					fprintf(stderr, "Failed to read the timer: %s\n", strerror(errno));
			} else {
				receive(&r, h);
			}
		}
		uint64_t now = now_ns();

		for (int i = 0; i < r.ndirs; i++)
			release(&r.dirs[i], now);
		arm_timer(&r);
	}
	write_stats(&r);
	return 0;
}
