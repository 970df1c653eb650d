/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An skpd for unit tests: the daemon's state (struct skpd) started and stopped as main.c
 * does, over the fakes (tests/unit/fakes), with its skpd.conf, skptab and device files
 * in a temporary directory.  The directory is next to the test binary (build/tests/), on
 * a filesystem with O_DIRECT: skpd's deep rekey reads and writes the device with it (not
 * tmpfs).  SKP_UNIT_TMPDIR overrides the parent directory.
 */
#ifndef SKP_TEST_ENV_H
#define SKP_TEST_ENV_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "header.h"

struct skpd;

struct env {
	char dir[PATH_MAX];
	char conf[PATH_MAX + 16], skptab[PATH_MAX + 16];
	struct skpd *d;		/* NULL while "skpd" is not running */
};

/* The directory and an skpd.conf with these providers (the first is the default),
 * each of two servers, and an skptab path in it (the file is not written). */
int env_init(struct env *e, const char *const *providers, size_t n, struct skp_err *err);
/* As skpd starts: configuration, providers.  The fakes' state (mappings, KMS) stays. */
int env_start(struct env *e, struct skp_err *err);
/* As skpd exits (main.c): rekey state wiped, devices forgotten, KEK cache emptied; the
 * mappings stay in the (fake) kernel. */
void env_stop(struct env *e);
/* Stops skpd if running and removes the directory. */
void env_cleanup(struct env *e);

/* A device file of the header's size plus data_mib of data: path out. */
int env_dev(struct env *e, const char *name, unsigned int data_mib, char *path, size_t size);
/* skpctl format: provider NULL for the default, sector_size 0 for skpd's default. */
int env_format(struct env *e, const char *dev, const char *provider, uint32_t sector_size,
	       struct skp_err *err);
/* DEK of slot i of dev's current header, unwrapped with the KEK the fake KMS holds (what
 * a test knows without skpd); the header MAC is checked too. */
int env_dek(const char *dev, int slot, unsigned char dek[SKP_DEK_LEN], struct skp_header *h);
/* Whole-file byte ranges, for "nothing written" checks and putting state back. */
int env_read(const char *path, uint64_t off, void *buf, size_t len);
int env_write(const char *path, uint64_t off, const void *buf, size_t len);
/* A whole file (skptab), 0600. */
int env_write_file(const char *path, const char *text);
/* SHA-256 of the whole file. */
int env_hash(const char *path, unsigned char out[32]);

#endif
