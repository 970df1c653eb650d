/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device-mapper access for skp mappings through libdevmapper, without udev:
 * nodes in /dev/mapper are made by the library itself.  Tables carry key
 * descriptions only, never key bytes.
 */
#ifndef SKP_DM_H
#define SKP_DM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_DM_NAME_MAX 128

struct skp_dm_table {
	const char *target;		/* "skp" (uapi), or "crypt" for the byte-compatible fallback */
	const char *dev;		/* backing device path */
	uint64_t offset_sectors;	/* data offset on dev, 512-byte sectors */
	uint64_t len_sectors;		/* mapping length, 512-byte sectors */
	const char *key_desc;		/* logon key description */
	uint32_t sector_size;
	int allow_discards;
	const char *new_key_desc;	/* two-key mode (deep rekey): key of [0, boundary) */
	uint64_t boundary;		/* 512-byte sectors, with new_key_desc only */
	int read_only;			/* create only: the mapping refuses writes */
};

struct skp_dm_info {
	int exists;
	int suspended;
	uint32_t open_count;
	uint32_t major, minor;
	char uuid[130];
};

/* Formats the table line (params part) into buf; -ENAMETOOLONG if it does not fit,
 * -EINVAL if dev or a key description is empty or holds a space or a control character
 * (it would add or shift fields of the line). */
int skp_dm_params(const struct skp_dm_table *t, char *buf, size_t size);
/* From the params of an skp or crypt table line as the kernel reports it: the backing
 * device (the kernel always writes major:minor) and the data offset; -EINVAL if the
 * line is not of that form. */
int skp_dm_params_dev(const char *params, unsigned int *major, unsigned int *minor, uint64_t *offset);
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
int skp_dm_target_version(const char *target, uint32_t version[3], struct skp_err *err);

#endif
