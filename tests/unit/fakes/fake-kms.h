/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake of daemon/lib/provider.h for unit tests: each provider name is backed by an
 * in-memory KMS (a key store with KMIP States) that outlives the provider objects, as a
 * real KMS outlives skpd.  It counts requests by kind, and can refuse a given key, serve
 * it wrong from given nodes, or be down altogether.  Gets go to node 0, or with a node
 * to avoid, to the next one.
 */
#ifndef SKP_FAKE_KMS_H
#define SKP_FAKE_KMS_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

#define FAKE_KMS_KEYS 64

struct fake_kms_key {
	char uid[SKP_UID_MAX];
	char name[SKP_KMIP_NAME_MAX];
	unsigned char key[SKP_KEK_LEN];
	int state;			/* KMIP: 2 Active, 3 Deactivated, 4 Compromised */
	uint32_t revoke_reason;		/* KMIP_REVOKE_*, 0 never revoked */
	int refuse;			/* every request naming this key fails with it (-EACCES...) */
	unsigned int bad_nodes;		/* bit i: node i serves this key with wrong bytes */
};

struct fake_kms {
	char name[64];			/* the provider's */
	int down;			/* every request fails as if no node answered */
	int refuse_create;		/* Create fails with it */
	struct fake_kms_key keys[FAKE_KMS_KEYS];
	size_t n_keys;
	/* Requests by kind: a batch of Gets (or of Get Attributes) is one request. */
	unsigned long n_create, n_get, n_get_items, n_attrs, n_revoke, n_check;
	int last_node;			/* the node that served the last Get */
	unsigned long n_attrs_items;	/* keys asked in Get Attributes requests */
};

/* The KMS behind provider `name`, made empty on first use. */
struct fake_kms *fake_kms(const char *name);
struct fake_kms_key *fake_kms_key(struct fake_kms *k, const char *uid);
/* Requests that reached the KMS (not those refused while down). */
unsigned long fake_kms_requests(const struct fake_kms *k);
/* Provider objects freed on another thread than the one that made them: OpenSSL's
 * per-thread state in a real one's library contexts would outlive the contexts. */
unsigned long fake_provider_foreign_frees(void);

#endif
