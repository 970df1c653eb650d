/* SPDX-License-Identifier: GPL-2.0 */
/* The devices this skpd opened, and the one way a table is loaded (keys via the keyring). */
#ifndef SKPD_DEVICES_H
#define SKPD_DEVICES_H

#include <stdint.h>
#include <time.h>

#include "dm.h"
#include "err.h"
#include "header.h"

struct skpd;
struct rekey;

struct device {
	char name[SKP_DM_NAME_MAX];
	char dev[256];
	unsigned char uuid[16];
	char label[SKP_LABEL_MAX];
	char provider[SKP_PROVIDER_MAX];
	char kek_uid[SKP_KEK_UID_MAX];
	char kek_name[SKP_KEK_NAME_MAX];
	uint64_t generation;
	uint64_t data_length;
	uint32_t sector_size;
	int discard;			/* allow_discards in its table */
	int read_only;			/* opened read-only: nothing is written to dev */
	char problem[200];		/* remediation finding, "" if fine */
	time_t opened;
	struct rekey *rk;		/* deep rekey state (rekey.c), NULL if none */
};

struct device *dev_find(struct skpd *d, const char *name);
/* Registers an open device from its header's slot 0. */
int dev_add(struct skpd *d, const char *name, const char *dev, const struct skp_header *h,
	    int discard, struct skp_err *err);
/* Forgets v (its rekey state must be freed first). */
void dev_del(struct skpd *d, struct device *v);
/* The slot 0 fields of h (after a shallow or deep rekey). */
void dev_set_slot(struct device *v, const struct skp_slot *s);

/* What to load: the key alone, or two keys split at boundary (a deep rekey). */
struct dev_keys {
	const unsigned char *key;	/* [boundary, end), or all */
	const unsigned char *new_key;	/* [0, boundary), NULL: single key */
	uint64_t boundary;		/* 512-byte sectors */
};

/*
 * Loads name's table over dev as h describes: create a new mapping (dm UUID
 * "SKP-<uuid>-<name>"), or reload a live one (suspend, resume: no unmount).  The keys
 * pass through the kernel keyring for the load only.
 */
int dev_load_table(struct skpd *d, const char *name, const char *dev, const struct skp_header *h,
		   const struct dev_keys *k, int discard, int read_only, int create, struct skp_err *err);

#endif
