/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SKPD_MANAGER_H
#define SKPD_MANAGER_H

struct skpd;

/* 1 when systemd is taking the system down, 0 otherwise (a restart, no systemd). */
int manager_system_stopping(void);
/* At system shutdown: close every mapping of this skpd that nothing holds open. */
void manager_close_unused(struct skpd *d);
/* A device unlocked after boot: start the fstab mounts waiting on /dev/mapper/name. */
void manager_start_mounts(const char *name);

#endif
