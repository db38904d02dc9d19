/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * UAPI of the xdp_lab_echo generic netlink family, shared by the kernel module and userspace.
 *
 * XDP_LAB_ECHO_CMD_ECHO: the request carries XDP_LAB_ECHO_A_TEXT; the reply carries the same text
 * and XDP_LAB_ECHO_A_SEQ, a per-module sequence number that counts replies from 1.
 */
#ifndef _UAPI_XDP_LAB_ECHO_H
#define _UAPI_XDP_LAB_ECHO_H

#define XDP_LAB_ECHO_FAMILY_NAME	"xdp_lab_echo"
#define XDP_LAB_ECHO_FAMILY_VERSION	1

/* Longest text accepted, not counting the terminating NUL. */
#define XDP_LAB_ECHO_TEXT_MAX		256

enum {
	XDP_LAB_ECHO_A_UNSPEC,
	XDP_LAB_ECHO_A_TEXT,	/* NUL-terminated string */
	XDP_LAB_ECHO_A_SEQ,	/* u32, replies only */

	__XDP_LAB_ECHO_A_MAX,
	XDP_LAB_ECHO_A_MAX = __XDP_LAB_ECHO_A_MAX - 1
};

enum {
	XDP_LAB_ECHO_CMD_UNSPEC,
	XDP_LAB_ECHO_CMD_ECHO,

	__XDP_LAB_ECHO_CMD_MAX,
	XDP_LAB_ECHO_CMD_MAX = __XDP_LAB_ECHO_CMD_MAX - 1
};

#endif /* _UAPI_XDP_LAB_ECHO_H */
