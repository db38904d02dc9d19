// SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
/*
 * Reflector: sends each IPv4 frame back out of the port it came in on (XDP_TX) with its Ethernet
 * addresses swapped and its TTL decremented (the IP checksum updated to match, RFC 1624). A frame
 * whose TTL would reach 0 is dropped; non-IPv4 frames pass. The example of a program that rewrites
 * frames, for packet cases' `expect.frame`.
 */
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include "counters.bpf.h"

/* The checksum of HDR after its TTL went down by one: the TTL is the high byte of its 16-bit word. */
static __always_inline void decrement_ttl(struct iphdr *ip)
{
	__u32 sum = ip->check + bpf_htons(0x0100);

	ip->check = (__u16)(sum + (sum >= 0xffff));
	ip->ttl--;
}

SEC("xdp")
int xdp_reflect(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	unsigned char mac[ETH_ALEN];
	struct iphdr *ip;

	if ((void *)(eth + 1) > data_end)
		return count(ctx, XDP_DROP);
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return count(ctx, XDP_PASS);
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return count(ctx, XDP_DROP);
	if (ip->ttl <= 1)
		return count(ctx, XDP_DROP);

	decrement_ttl(ip);
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	return count(ctx, XDP_TX);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
