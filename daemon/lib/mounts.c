// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "mounts.h"

#define MAPPER "/dev/mapper/"

const char *skp_mount_boot_mapping(const struct mntent *m)
{
	if (strncmp(m->mnt_fsname, MAPPER, strlen(MAPPER)) || !m->mnt_fsname[strlen(MAPPER)] ||
	    hasmntopt(m, "noauto"))
		return NULL;
	return m->mnt_fsname + strlen(MAPPER);
}

int skp_mount_is_local(const struct mntent *m)
{
	return skp_mount_boot_mapping(m) && !hasmntopt(m, "_netdev");
}
