/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dm-skp: names and limits shared by the kernel target and userspace.
 * Only fixed-width types; this header is included by both sides.
 * The table syntax is described in docs/table-syntax.md.
 */
#ifndef _UAPI_LINUX_DM_SKP_H
#define _UAPI_LINUX_DM_SKP_H

#define DM_SKP_TARGET_NAME	"skp"
/* Bumped whenever the table, message or status syntax changes. */
#define DM_SKP_VERSION_MAJOR	1
#define DM_SKP_VERSION_MINOR	3
#define DM_SKP_VERSION_PATCH	0

/* <cipher>: the only one accepted, AES-256 in XTS mode with a plain64 IV as dm-crypt. */
#define DM_SKP_CIPHER		"aes-xts-plain64"
/* <key> := :<DM_SKP_KEY_SIZE>:<logon|user>:<description> */
#define DM_SKP_KEY_SIZE		64U
#define DM_SKP_KEY_TYPE_LOGON	"logon"
#define DM_SKP_KEY_TYPE_USER	"user"

/* Optional parameters ("<name>:<value>" or a bare flag). */
#define DM_SKP_OPT_SECTOR_SIZE		"sector_size"
#define DM_SKP_OPT_IV_LARGE_SECTORS	"iv_large_sectors"
#define DM_SKP_OPT_ALLOW_DISCARDS	"allow_discards"
#define DM_SKP_OPT_NEW_KEY		"new_key"
#define DM_SKP_OPT_BOUNDARY		"boundary"
#define DM_SKP_MAX_OPT_PARAMS		5U

/* Crypto sector size in bytes: a power of two in [MIN, MAX]. */
#define DM_SKP_SECTOR_SIZE_MIN		512U
#define DM_SKP_SECTOR_SIZE_MAX		4096U

/* Messages. */
#define DM_SKP_MSG_REENCRYPT		"reencrypt"
#define DM_SKP_MSG_HOLD			"hold"
#define DM_SKP_MSG_RELEASE		"release"
#define DM_SKP_MSG_KEY			"key"
#define DM_SKP_MSG_KEY_WIPE		"wipe"
#define DM_SKP_MSG_DRIVER		"driver"	/* answers "<fast> <any-context>" drivers */
/*
 * Upper bound of <count> in "reencrypt <sector> <count>", in 512-byte sectors (4 MiB):
 * user I/O to the range waits for at most one such chunk.
 */
#define DM_SKP_MAX_REENCRYPT_SECTORS	8192U
/*
 * "hold <sector> <count>" blocks user I/O to the range until the matching "reencrypt",
 * a "release", a suspend, or this many seconds pass; after an expiry the unheld
 * "reencrypt" of that range fails with -ETIMEDOUT until the range is held again.
 */
#define DM_SKP_HOLD_TIMEOUT_SECS	30U

/*
 * STATUSTYPE_INFO fields, space separated, all decimal, sectors are 512 bytes:
 * <boundary> <length> <sectors read> <sectors written> <sectors re-encrypted> <I/O errors>
 * <fenced>
 * <fenced>: sectors from the boundary on that a failed "reencrypt" may have left partly
 * rewritten; I/O to them fails and hold/reencrypt are refused until a table reload
 * (the caller repairs the range from its resilience data first).  0: none.
 * A later minor version may append fields (1.2.0 appended <fenced>), decimal as well:
 * readers take the first DM_SKP_STATUS_INFO_FIELDS.
 */
#define DM_SKP_STATUS_INFO_FIELDS	7U

#endif /* _UAPI_LINUX_DM_SKP_H */
