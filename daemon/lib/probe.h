/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Foreign signatures on a device: whatever libblkid recognises (filesystems, partition
 * tables, LUKS, swap, RAID members and any other superblock it knows), found and wiped
 * as `wipefs -a` does.  An skp header is not one of them: libblkid does not know it, and
 * format checks it first (skp_header_read).
 */
#ifndef SKP_PROBE_H
#define SKP_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_SIGS_MAX	16

struct skp_sig {
	char type[32];		/* libblkid's TYPE or PTTYPE: "ext4", "crypto_LUKS", "gpt", "swap" */
	char usage[24];		/* "filesystem", "crypto", "raid", "other", "partition table" */
	char label[80];		/* as found, escaped (skp_str_escape); "" if none */
	char uuid[80];		/* the same; a partition table's PTUUID */
	uint64_t offset;	/* of its magic string, bytes from the start of the device */
	uint32_t len;		/* of its magic string; 0: libblkid gave none (cannot be wiped) */
};

struct skp_sigs {
	unsigned int n;
	int more;		/* more than SKP_SIGS_MAX were found: only the first are here */
	int rrpart;		/* skp_probe_wipe: 0, or -errno of the kernel's partition re-read */
	struct skp_sig sig[SKP_SIGS_MAX];
};

/*
 * Every signature on the open device fd, each magic string a record of its own (a LUKS2
 * device has two: its primary header and its secondary one at 0x4000 or further; a GPT
 * disk three: the primary and backup headers and the protective MBR).  Nothing is
 * written.  0, or -errno with err.
 */
int skp_probe_sigs(int fd, struct skp_sigs *ret, struct skp_err *err);
/* The same on the device at path, opened read-only; errors name the path. */
int skp_probe_sigs_dev(const char *path, struct skp_sigs *ret, struct skp_err *err);

/*
 * Erases every signature on fd (open read-write): each magic string is zeroed with
 * blkid_do_wipe, and the device probed again until nothing is found, so what a first
 * magic hid (LUKS2's secondary header, a GPT's backup at the end of the disk) goes too.
 * Only the magic strings are written.  After a partition table of a whole disk, the
 * kernel is asked to re-read it (its failure is in ret_wiped->rrpart, not an error).
 * -EOPNOTSUPP before writing anything if a signature has no magic string to erase.
 * ret_wiped (may be NULL) lists what was erased.
 */
int skp_probe_wipe(int fd, struct skp_sigs *ret_wiped, struct skp_err *err);

/* Flags of skp_sigs_describe. */
enum {
	SKP_SIGS_OFFSETS = 1u << 0,	/* every magic string with its offset ("ext4 at 0x438 ...") */
};

/*
 * One line for messages: `ext4 (label "data", UUID ...), gpt (UUID ...)`.  Without
 * SKP_SIGS_OFFSETS a signature found at several offsets is named once.  Cut with "..."
 * to fit size (> 4).  Returns buf.
 */
char *skp_sigs_describe(const struct skp_sigs *s, unsigned int flags, char *buf, size_t size);

#endif
