/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake of daemon/lib/dm.h for unit tests: device-mapper and the dm-skp target in
 * process memory, over a backing file or device.
 *
 * Each mapping keeps its table (the keys themselves, copied from the fake keyring by
 * description at create/reload, as the kernel's request_key does; the boundary; one or two
 * keys), answers status and table lines in the kernel's format (docs/table-syntax.md,
 * uapi/linux/dm-skp.h), and executes hold / reencrypt / release on the backing file for
 * real: decrypt with the old key, encrypt with the new (AES-256-XTS plain64 through EVP,
 * the table's sector size), as kernel/skp-reencrypt.c does, with its rules (boundary,
 * hold, fence, suspend).  A reload stays inactive until resume, as in dm.  Faults can be
 * injected: a reencrypt that fails before writing, after writing half the chunk or
 * tearing a crypto sector (the kernel then fences the chunk: status field 7); a failed
 * table load.
 *
 * Deliberate differences: any regular file may back a mapping (the real library needs a
 * block device, and names it major:minor in the table; a file shows as 0:0, so op_open's
 * adoption, which checks the backing device, cannot be run on one); user I/O is
 * fake_dm_read/fake_dm_write, which refuse (-EBUSY) what the kernel would make wait; a
 * hold never expires (30 s in the kernel); "key wipe" is not faked.  Table and status
 * lines are written as the kernel writes them; skpd parses them with lib/target.c.
 */
#ifndef SKP_FAKE_DM_H
#define SKP_FAKE_DM_H

#include <stddef.h>
#include <stdint.h>

#include "dm.h"
#include "keyring.h"

#define FAKE_DM_KEY_LEN 64

struct fake_dm_table {
	char target[16];
	char dev[256];
	uint64_t offset, len;			/* 512-byte sectors */
	uint32_t sector_size;
	int allow_discards, read_only;
	char key_desc[SKP_KEY_DESC_MAX], new_key_desc[SKP_KEY_DESC_MAX];
	unsigned char key[FAKE_DM_KEY_LEN];	/* the target's own copies */
	unsigned char new_key[FAKE_DM_KEY_LEN];
	int two_keys;
	uint64_t boundary;			/* two-key mode: [0, boundary) under new_key */
};

struct fake_dm_map {
	int used;
	char name[SKP_DM_NAME_MAX];
	char uuid[130];
	uint32_t minor;
	int suspended;
	uint32_t open_count;			/* a test may set it: something holds the mapping open */
	struct fake_dm_table t;			/* live */
	struct fake_dm_table next;		/* loaded by a reload, live at the next resume */
	int has_next;
	int held, hold_lost;			/* hold; dropped by a suspend (lost) */
	uint64_t lock_start, lock_end;
	uint64_t fence_start, fence_end;	/* a failed reencrypt's chunk */
	uint64_t n_read, n_written, n_reencrypted, n_errors;	/* status fields 3..6 */
};

enum fake_dm_fail {
	FAKE_DM_FAIL_BEFORE_WRITE = 1,	/* read fails: nothing written, chunk fenced */
	FAKE_DM_FAIL_HALF_WRITTEN,	/* the first half of the chunk (whole crypto sectors) written, then EIO */
	FAKE_DM_FAIL_TORN,		/* as HALF_WRITTEN plus the first 512 bytes of the next crypto sector */
};

struct fake_dm_faults {
	/* Counters: n = the n-th such call from now fails (1 = the next); 0 = none. */
	unsigned int reencrypt_n;
	enum fake_dm_fail reencrypt_how;
	unsigned int reload_n;
	unsigned int create_n;
};
extern struct fake_dm_faults fake_dm_faults;

struct fake_dm_stats {
	unsigned long create, reload, suspend, resume, remove, hold, reencrypt, release, message;
};
extern struct fake_dm_stats fake_dm_stats;

/* What skp_dm_target_version answers for "skp" (a test may make it older). */
extern uint32_t fake_dm_skp_version[3];

struct fake_dm_map *fake_dm_find(const char *name);
/* The mapping vanishes without a close (a power cut, a reboot): its keys go with it. */
void fake_dm_forget(const char *name);
size_t fake_dm_count(void);
/* User I/O through the mapping at a 512-byte sector, len a multiple of the sector size. */
int fake_dm_write(const char *name, uint64_t sector, const void *buf, size_t len);
int fake_dm_read(const char *name, uint64_t sector, void *buf, size_t len);
/* AES-256-XTS of one crypto sector as dm-crypt aes-xts-plain64 (IV: 512-byte sector number). */
int fake_xts(const unsigned char key[FAKE_DM_KEY_LEN], uint32_t sector_size, uint64_t sector, int enc,
	     const unsigned char *in, unsigned char *out);

#endif
