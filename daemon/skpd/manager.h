/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SKPD_MANAGER_H
#define SKPD_MANAGER_H

#include <stddef.h>

struct skpd;

/* 1 when systemd is taking the system down, 0 otherwise (a restart, no systemd). */
int manager_system_stopping(void);
/* At system shutdown: close every mapping of this skpd that nothing holds open, but
 * leave skptab's initramfs entries (root) to the kernel. */
void manager_close_unused(struct skpd *d);
/* Devices skptab opened: start the fstab mounts of the boot that wait on
 * /dev/mapper/NAME and are not active (their job may have given up); one connection. */
void manager_start_mounts(const char *const *names, size_t n);

#endif
