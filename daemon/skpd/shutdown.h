/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SKPD_SHUTDOWN_H
#define SKPD_SHUTDOWN_H

struct skpd;

/* 1 when systemd is taking the system down, 0 otherwise (a restart, no systemd). */
int shutdown_system_stopping(void);
/* At system shutdown: close every mapping of this skpd that nothing holds open. */
void shutdown_close_unused(struct skpd *d);

#endif
