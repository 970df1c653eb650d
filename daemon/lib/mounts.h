/* SPDX-License-Identifier: GPL-2.0 */
/* fstab lines that mount an skp mapping, as skpd and skp-generator both read them. */
#ifndef SKP_MOUNTS_H
#define SKP_MOUNTS_H

#include <mntent.h>

/*
 * The mapping name of an fstab line that mounts /dev/mapper/NAME at boot, or NULL
 * (another device, or noauto: mounted by hand, not part of the boot's ordering).
 */
const char *skp_mount_boot_mapping(const struct mntent *m);

/* A boot mount of a mapping that waits for no network (no _netdev): local-fs.target's. */
int skp_mount_is_local(const struct mntent *m);

#endif
