/* SPDX-License-Identifier: GPL-2.0 */
/* skptab at start: every device opened with one batched KEK request per provider. */
#ifndef SKPD_BOOT_H
#define SKPD_BOOT_H

struct skpd;

/* 0, or -1 when a device failed (each failure is logged with its skptab line). */
int skpd_boot_open(struct skpd *d);

#endif
