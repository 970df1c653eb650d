/* SPDX-License-Identifier: GPL-2.0 */
/* /etc/fstab lines on skptab mappings: they must wait for the network, as skpd does. */
#ifndef SKPD_FSTAB_H
#define SKPD_FSTAB_H

struct skpd;

#define SKPD_FSTAB "/etc/fstab"

/* Logs a warning per line of path (read only) that mounts /dev/mapper/NAME of an skptab
 * entry at boot (not noauto) without _netdev (or, for a nofail entry, without nofail);
 * returns how many. */
int fstab_check(const struct skpd *d, const char *path);

#endif
