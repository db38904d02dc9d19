// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Blocklist firewall: drops IPv4 frames whose source is marked blocked in `sources`, passes the
 * rest, and tells userspace about each source it has not seen before through the `events` ring
 * buffer.
 * Non-IPv4 frames pass; frames too short for their headers (runts) are dropped.
 */
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include "counters.bpf.h"

/*
 * Every IPv4 source: whether it is blocked and whether it was reported. One map, so a packet costs
 * one lookup. A plain hash, not LRU: a blocked source must never be evicted. When it is full, new
 * sources still pass but are not reported.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct xdp_lab_source);
} sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Set through the skeleton before load: 0 reports only new sources, 1 every packet. */
const volatile __u8 report_every_packet = 0;

static __always_inline void report(struct xdp_md *ctx, struct iphdr *ip, __u16 sport, __u16 dport,
				   __u32 verdict, __u8 reason)
{
	struct xdp_lab_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e)
		return;
	e->saddr = ip->saddr;
	e->daddr = ip->daddr;
	e->sport = sport;
	e->dport = dport;
	e->protocol = ip->protocol;
	e->verdict = verdict;
	e->reason = reason;
	e->pad = 0;
	e->len = ctx->data_end - ctx->data;
	bpf_ringbuf_submit(e, 0);
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct xdp_lab_source *src;
	__u16 sport = 0, dport = 0;
	__u32 verdict;

	if ((void *)(eth + 1) > data_end)
		return count(ctx, XDP_DROP);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return count(ctx, XDP_PASS);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return count(ctx, XDP_DROP);

	if (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP) {
		/* Both headers start with the two ports; a udphdr is the shorter of the two. */
		struct udphdr *l4 = (void *)ip + ip->ihl * 4;

		if ((void *)(l4 + 1) > data_end)
			return count(ctx, XDP_DROP);
		sport = bpf_ntohs(l4->source);
		dport = bpf_ntohs(l4->dest);
	}

	src = bpf_map_lookup_elem(&sources, &ip->saddr);
	if (!src) {
		struct xdp_lab_source fresh = { .blocked = 0, .reported = 1, .packets = 1 };

		if (!bpf_map_update_elem(&sources, &ip->saddr, &fresh, BPF_NOEXIST))
			report(ctx, ip, sport, dport, XDP_PASS, XDP_LAB_REASON_ALLOWED);
		return count(ctx, XDP_PASS);
	}
	/* Not atomic: a rate for scripts to judge, not an account; the stats map is exact. */
	src->packets++;
	verdict = src->blocked ? XDP_DROP : XDP_PASS;
	/* Blocked from userspace before its first packet: not reported yet. */
	if (!src->reported || report_every_packet) {
		src->reported = 1;
		report(ctx, ip, sport, dport, verdict,
		       src->blocked ? XDP_LAB_REASON_BLOCKED : XDP_LAB_REASON_ALLOWED);
	}
	return count(ctx, verdict);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
