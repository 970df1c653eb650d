/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-skp's text grammar, built from uapi/linux/dm-skp.h: the table line skpd loads, the
 * table and status lines the kernel reports, the messages skpd sends (docs/table-syntax.md).
 * Text only, no device-mapper calls (lib/dm.c does those), so it is tested on the host.
 * The crypt fallback (skpd.conf `target = crypt`) loads the same, byte-compatible line.
 */
#ifndef SKP_TARGET_H
#define SKP_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include <linux/dm-skp.h>

#include "err.h"

/* The fallback target type: dm-crypt reads the single-key line as dm-skp does. */
#define SKP_TARGET_CRYPT	"crypt"
/* Room for any message skp_target_msg_* formats. */
#define SKP_TARGET_MSG_MAX	64

struct skp_dm_table {
	const char *target;		/* DM_SKP_TARGET_NAME, or SKP_TARGET_CRYPT */
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

/* A table line's params as the kernel reports them (STATUSTYPE_TABLE). */
struct skp_target_table {
	unsigned int major, minor;	/* <dev>: the kernel always writes major:minor */
	uint64_t iv_offset;
	uint64_t offset_sectors;	/* <offset> */
	uint32_t sector_size;		/* 512 unless the sector_size option says otherwise */
	int iv_large_sectors;
	int allow_discards;
	int two_key;			/* new_key and boundary are present */
	uint64_t boundary;		/* two_key only */
};

/* The STATUSTYPE_INFO line, in 512-byte sectors (DM_SKP_STATUS_INFO_FIELDS fields). */
struct skp_target_status {
	uint64_t boundary;		/* 0 in single-key mode */
	uint64_t length;
	uint64_t sectors_read;
	uint64_t sectors_written;
	uint64_t sectors_reencrypted;
	uint64_t io_errors;
	uint64_t fenced;		/* sectors fenced at the boundary by a failed reencrypt */
};

/* DM_SKP_TARGET_NAME or SKP_TARGET_CRYPT: a target type skpd loads and adopts. */
int skp_target_type_ok(const char *type);

/* Formats the table line (params part) into buf; -ENAMETOOLONG if it does not fit,
 * -EINVAL if dev or a key description is empty or holds a space or a control character
 * (it would add or shift fields of the line). */
int skp_target_params(const struct skp_dm_table *t, char *buf, size_t size);

/*
 * Parses the params of an skp or crypt table line as the kernel reports them: cipher, key,
 * iv_offset, major:minor, offset and the options skpd can load (DM_SKP_OPT_*, any order, as
 * dm-crypt orders them differently).  -EPROTO for anything else: another cipher or target's
 * line, a path for the device, unknown or repeated options, a wrong option count, bad
 * numbers, doubled or trailing spaces.
 */
int skp_target_table_parse(const char *params, struct skp_target_table *ret);

/*
 * Parses the STATUSTYPE_INFO line.  Fields are decimal, one space apart, at least
 * DM_SKP_STATUS_INFO_FIELDS of them; more are allowed (a later minor version of the target
 * may append fields, as 1.2.0 appended <fenced>) but must be decimal too.  -EPROTO on a
 * missing field, a sign, a non-digit, a value above UINT64_MAX, or stray spaces.
 */
int skp_target_status_parse(const char *line, struct skp_target_status *ret);

/*
 * "hold <sector> <count>" and "reencrypt <sector> <count>" into buf (SKP_TARGET_MSG_MAX
 * bytes suffice): -EINVAL if count is 0 or above DM_SKP_MAX_REENCRYPT_SECTORS or the range
 * wraps, -ENAMETOOLONG if buf is too small; err says which.  "release" is DM_SKP_MSG_RELEASE.
 */
int skp_target_msg_hold(char *buf, size_t size, uint64_t sector, uint64_t count, struct skp_err *err);
int skp_target_msg_reencrypt(char *buf, size_t size, uint64_t sector, uint64_t count, struct skp_err *err);

#endif
