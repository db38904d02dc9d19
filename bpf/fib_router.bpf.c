// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * An XDP router: an IPv4 frame whose route and next hop the kernel knows is forwarded here, with
 * bpf_fib_lookup() for the route and the MAC addresses, the TTL decremented and bpf_redirect() to
 * the egress port. Everything else goes up to the kernel's stack (XDP_PASS): IPv6, ARP, frames for
 * the router itself, a TTL that would expire (the kernel answers it), a next hop not resolved yet
 * (the kernel resolves it; the next frame is forwarded here).
 *
 * Attach it on every port it forwards to: native XDP on virtio-net can only redirect to a port
 * that has an XDP program of its own.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "counters.bpf.h"

#define AF_INET 2
#define FIB_SLOTS 16

/* What bpf_fib_lookup() answered for each IPv4 frame, by its code (BPF_FIB_LKUP_RET_*: 0 forwarded). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, FIB_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fib_results SEC(".maps");

static __always_inline void note(long rc)
{
	__u32 slot = rc >= 0 && rc < FIB_SLOTS ? rc : FIB_SLOTS - 1;
	__u64 *n = bpf_map_lookup_elem(&fib_results, &slot);

	if (n)
		(*n)++;
}

/* TTL minus one, and the header checksum updated for it alone (RFC 1624): the TTL is the high byte of its 16-bit word. */
static __always_inline void decrement_ttl(struct iphdr *ip)
{
	__u32 sum = (__u32)ip->check + bpf_htons(0x0100);

	ip->check = (__u16)(sum + (sum >= 0xffff));
	ip->ttl--;
}

SEC("xdp")
int xdp_fib_router(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct bpf_fib_lookup fib = {};
	long rc;

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(ctx, XDP_PASS);
	if (ip->ttl <= 1)
		return count(ctx, XDP_PASS);

	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	note(rc);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return count(ctx, XDP_PASS);

	decrement_ttl(ip);
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return count(ctx, bpf_redirect(fib.ifindex, 0));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
