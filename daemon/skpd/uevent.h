/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel uevents (netlink, no libudev): a block device appeared or changed. */
#ifndef SKPD_UEVENT_H
#define SKPD_UEVENT_H

#include <stddef.h>

/* A socket for the kernel's uevents (group 1), non-blocking; -errno on error. */
int uevent_open(void);
/* Reads every queued event; 1 if one was a block device's add or change. */
int uevent_drain(int fd);
/* One event as the kernel sends it ("add@/devices/...\0ACTION=add\0SUBSYSTEM=block\0...").
 * 1 for a block add or change, else 0. */
int uevent_is_block_add(const char *buf, size_t len);

#endif
