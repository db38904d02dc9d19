// SPDX-License-Identifier: GPL-2.0
/*
 * echo_genl.c: the round trip through the xdp_lab_echo module over generic netlink. Requests go
 * out at once; answers (the echo, then its ack or an error with its extended ack) arrive in the
 * event loop and go to whoever asked: a control client through the answer it deferred (out_defer),
 * the console and the script to the console.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../kmod/xdp_lab_echo.h"
#include "app.h"

static void echo_on_reply(struct handler *h);

int echo_init(struct app *a)
{
	int one = 1;

	a->genl_h.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	a->genl_h.fn = echo_on_reply;
	if (a->genl_h.fd < 0)
		return -1;
	setsockopt(a->genl_h.fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return 0;
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
	return send(a->genl_h.fd, buf, nlh->nlmsg_len, 0) < 0 ? -errno : 0;
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
	while ((n = recv(a->genl_h.fd, buf, sizeof(buf), 0)) > 0) {
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

/*
 * Sends TEXT to the module. When someone awaits O's answer (a control client), the answer is
 * deferred until the module replies; the console's and the script's go to the console then. O
 * hears at once only of failures to send.
 */
static int echo_send(struct app *a, struct out *o, const char *text)
{
	struct pending_echo *p = find_pending(a, 0);
	__u32 nl_seq;
	int err;

	if (!p)
		return out_error(o, "too many echo requests in flight (%d): wait for their answers\n", MAX_PENDING);
	err = genl_resolve(a);
	if (err == -ENOENT)
		return out_error(o, "generic netlink family %s not found: load the module (insmod xdp_lab_echo.ko)\n",
				 XDP_LAB_ECHO_FAMILY_NAME);
	if (!err)
		err = genl_send(a, a->genl_family, XDP_LAB_ECHO_CMD_ECHO, XDP_LAB_ECHO_A_TEXT, text, &nl_seq);
	if (err)
		return out_error(o, "Failed to send echo: %s\n", strerror(-err));
	memset(p, 0, sizeof(*p));
	p->nl_seq = nl_seq;
	clock_gettime(CLOCK_MONOTONIC, &p->sent);
	a->genl_pending++;
	if (!out_awaited(o))
		return CMD_OK;
	p->sink = out_defer(o);
	if (!p->sink)
		return out_error(o, "Failed to keep the echo's answer: %s - it will show on the console\n",
				 strerror(ENOMEM));
	return CMD_OK;
}

/* An echo is complete (answered, or refused with ERR): tell whoever asked. */
static void echo_done(struct app *a, struct pending_echo *p, int err, const char *msg)
{
	struct out *o = p->sink ? p->sink : &a->console;
	struct json *j = out_json(o);
	struct timespec now;
	bool ok = false;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (err) {
		out_error(o, "echo rejected: %s%s%s\n", strerror(-err), *msg ? ": " : "", msg);
	} else if (p->answered) {
		out_printf(o, "echo seq=%u rtt_us=%llu %s\n", p->seq, rtt_us(p, &now), p->text);
		json_str(j, "text", p->text);
		json_uint(j, "seq", p->seq);
		json_uint(j, "rtt_us", rtt_us(p, &now));
		ok = true;
	} else {
		out_error(o, "echo: the module acknowledged without an answer\n");
	}
	if (p->sink)
		out_finish(p->sink, "echo", ok);
	p->sink = NULL;
	p->nl_seq = 0;
}

/* Replies arrive here, in the event loop: the echo's answer, then its ack or an error with its extended ack. */
static void echo_on_reply(struct handler *h)
{
	struct app *a = container_of(h, struct app, genl_h);
	char buf[8192];
	ssize_t n = recv(h->fd, buf, sizeof(buf), MSG_DONTWAIT);

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
				out_error(&a->console, "echo rejected: %s%s%s\n", strerror(-e->error),
					  *msg ? ": " : "", msg);
		} else if (nlh->nlmsg_type == a->genl_family && p) {
			const char *text = genl_attr(nlh, XDP_LAB_ECHO_A_TEXT);
			const __u32 *seq = genl_attr(nlh, XDP_LAB_ECHO_A_SEQ);

			p->answered = true;
			p->seq = seq ? *seq : 0;
			snprintf(p->text, sizeof(p->text), "%s", text ? text : "");
		}
	}
}

/* At quit: answers to requests sent just before it still belong to this session (1 s each at most). */
void echo_drain(struct app *a)
{
	while (a->genl_pending > 0) {
		struct handler *h;
		int before = a->genl_pending;

		if (loop_wait(&a->loop, 1000, &h, 1) <= 0)
			break;
		if (h == &a->genl_h)
			echo_on_reply(h);
		else if (h == &a->sig_h && a->genl_pending == before)
			break;
		else if (h != &a->sig_h)
			loop_del(&a->loop, h);
	}
}

static int cmd_echo(struct app *a, struct out *o, int argc, char **argv)
{
	(void)argc;
	return echo_send(a, o, argv[0]);
}

const struct command echo_commands[] = {
	{ "echo", "TEXT", 1, 1, true, cmd_echo, "round trip through the xdp_lab_echo module" },
	{ .name = NULL },
};
