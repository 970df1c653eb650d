// SPDX-License-Identifier: GPL-2.0
/*
 * skpd unlocks with a remote KMS, so it runs after the network (skpd.service), and
 * skp-generator orders the _netdev mounts of its mappings after it.  A local fstab mount of an skp mapping is ordered before the
 * network and would time out waiting for /dev/mapper/NAME (boot drops to emergency
 * mode): it needs _netdev, as crypttab devices unlocked over the network do; and nofail
 * when its skptab entry is nofail, or a device that may never open fails the boot.
 */
#include <mntent.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "fstab.h"
#include "log.h"
#include "mounts.h"
#include "skpd.h"

int fstab_check(const struct skpd *d, const char *path)
{
	FILE *f = setmntent(path, "re");
	struct mntent *m;
	int n = 0;

	if (!f)
		return 0;
	while ((m = getmntent(f))) {
		const char *name = skp_mount_boot_mapping(m);

		for (size_t i = 0; name && i < d->n_boot; i++) {
			const struct skptab_entry *e = &d->boot[i].e;

			/* initramfs: open before the real root is mounted, so no wait on the network
			 * is needed */
			if (strcmp(name, e->name) || e->initramfs)
				continue;
			if (skp_mount_is_local(m)) {
				log_msg(LOG_W, "%s: %s on %s has no _netdev: skpd opens it after the network is "
					"up, so the mount must wait for the network too (add _netdev%s)", path,
					m->mnt_fsname, m->mnt_dir, e->nofail ? ",nofail" : "");
				n++;
			} else if (e->nofail && !hasmntopt(m, "nofail")) {
				log_msg(LOG_W, "%s: %s on %s has no nofail, but its skptab entry has: the boot "
					"fails if the device does not open (add nofail)", path, m->mnt_fsname,
					m->mnt_dir);
				n++;
			}
		}
	}
	endmntent(f);
	return n;
}
