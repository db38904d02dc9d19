/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/* Structs and constants the XDP programs and the userspace app both see. */
#ifndef XDP_LAB_H
#define XDP_LAB_H

/* Per-CPU counters, one slot per verdict (index = XDP action: XDP_DROP 1, XDP_PASS 2). */
struct xdp_lab_stats {
	__u64 packets;
	__u64 bytes;
};

#define XDP_LAB_STATS_SLOTS 5

/* Why the firewall gave its verdict. */
enum xdp_lab_reason {
	XDP_LAB_REASON_ALLOWED = 0,
	XDP_LAB_REASON_BLOCKED = 1,	/* source in the blocklist */
	XDP_LAB_REASON_RUNT = 2,	/* shorter than its headers say */
	XDP_LAB_REASON_NOT_IPV4 = 3,
};

/* Value of the firewall's `sources` map, keyed by IPv4 source address (network order). */
struct xdp_lab_source {
	__u8 blocked;		/* 1: drop its packets; userspace sets and clears it */
	__u8 reported;		/* 1: an event was sent for it */
	__u8 pad[6];
	__u64 packets;		/* frames seen from it, blocked or not (approximate across CPUs) */
};

/* Ring-buffer event: the first packet of each new IPv4 source, with its verdict. */
struct xdp_lab_event {
	__u32 saddr;		/* network byte order */
	__u32 daddr;		/* network byte order */
	__u16 sport;		/* host byte order, 0 without TCP/UDP */
	__u16 dport;
	__u8 protocol;		/* IPPROTO_* */
	__u8 verdict;		/* XDP_* */
	__u8 reason;		/* enum xdp_lab_reason */
	__u8 pad;
	__u32 len;		/* frame length */
};

#endif
