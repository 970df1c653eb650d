/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device-mapper access for skp mappings through libdevmapper.  With udev running, create,
 * resume and remove wait until udev has handled the event (libdevmapper's udev sync:
 * /dev/mapper/NAME and the by-* links exist on return); without it the library makes
 * the nodes in /dev/mapper itself.  Tables carry key
 * descriptions only, never key bytes.  The text of tables, messages and status lines is
 * target.h's.
 */
#ifndef SKP_DM_H
#define SKP_DM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "target.h"	/* struct skp_dm_table and its line */

#define SKP_DM_NAME_MAX 128

struct skp_dm_info {
	int exists;
	int suspended;
	uint32_t open_count;
	uint32_t major, minor;
	char uuid[130];
};

/* create and reload name the device by its major:minor (stat of t->dev: -ENOTBLK if it
 * is not a block device), whatever characters its path holds. */
int skp_dm_create(const char *name, const char *dm_uuid, const struct skp_dm_table *t,
		  struct skp_err *err);
int skp_dm_remove(const char *name, struct skp_err *err);
int skp_dm_info(const char *name, struct skp_dm_info *ret, struct skp_err *err);
/* STATUS (INFO) or TABLE output of the single target: type and params. */
int skp_dm_status(const char *name, int table, char *type, size_t type_size,
		  char *params, size_t params_size, struct skp_err *err);
int skp_dm_message(const char *name, const char *msg, char *resp, size_t resp_size,
		   struct skp_err *err);
int skp_dm_reload(const char *name, const struct skp_dm_table *t, struct skp_err *err);
int skp_dm_suspend(const char *name, int suspend, struct skp_err *err);
/*
 * Version of a target type the kernel has loaded (major, minor, patch).  -ENOENT: not
 * loaded (the kernel loads dm-<target> on the first table that names it).
 */
/* 1 when changes wait for udev (udev running, with device-mapper's rules), else 0. */
int skp_dm_udev_sync(void);

int skp_dm_target_version(const char *target, uint32_t version[3], struct skp_err *err);

#endif
