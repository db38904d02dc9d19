/* SPDX-License-Identifier: GPL-2.0 */
/* ctl.h: the control socket's client for shells. */
#ifndef XDP_LAB_CTL_H
#define XDP_LAB_CTL_H

/* argv[1] is "ctl"; returns the process's exit status. */
int ctl_main(int argc, char **argv);

#endif
