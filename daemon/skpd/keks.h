/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KEK cache (locked memory), and what is done with KEKs: get one (cache, else its
 * provider), wrap a DEK under a new one, unwrap a header slot's DEK.
 */
#ifndef SKPD_KEKS_H
#define SKPD_KEKS_H

#include <time.h>

#include "err.h"
#include "header.h"

struct skpd;
struct prov;

struct kek {
	char provider[SKP_PROVIDER_MAX];
	char uid[SKP_KEK_UID_MAX];
	unsigned char *key;		/* SKP_KEK_LEN bytes of secmem */
	int state;			/* KMIP State when last asked, 0 unknown */
	time_t state_at;		/* when (monotonic seconds), for kek_retired() */
	/* The node that served it, by address ("": key_persistence), as a reload may
	 * renumber the provider's nodes. */
	char node[300];
};

const unsigned char *kek_cache_get(struct skpd *d, const char *provider, const char *uid);
int kek_cache_put(struct skpd *d, const char *provider, const char *uid, const unsigned char *key,
		  struct skp_err *err);
/* Forgets one cached KEK (wiped). */
void kek_cache_drop(struct skpd *d, const char *provider, const char *uid);
void kek_cache_free(struct skpd *d);
/* Which node of its provider served a cached KEK (skp_provider_node index, now). */
void kek_node_note(struct skpd *d, const char *provider, const char *uid, int node);
/* Keeps the KMIP State the KMS just gave for a cached KEK (kek_retired() uses it a while). */
void kek_state_note(struct skpd *d, const char *provider, const char *uid, int state);
/*
 * Has the KMS taken KEK uid out of service (Deactivated: superseded by a deep rekey;
 * Compromised; Destroyed)?  1 yes (*state says which), 0 no, <0 not known (KMS unreachable).
 */
int kek_retired(struct skpd *d, const char *provider, const char *uid, int *state, struct skp_err *err);
/* From the cache, or fetched from the provider (with its State) and cached. */
int kek_get(struct skpd *d, const char *provider, const char *uid, const unsigned char **ret,
	    struct skp_err *err);
/* Creates a KEK on pv (named for the device uuid), fetches it into the cache and wraps dek
 * into slot (provider, uid, name and wrapped key set; state and generation untouched). */
int kek_wrap_new(struct skpd *d, struct prov *pv, const unsigned char uuid[16], const unsigned char *dek,
		 struct skp_slot *slot, struct skp_err *err);
/*
 * Slot i of dev's header h: its DEK, unwrapped into secmem (caller frees) and checked
 * against the header MAC.  A cached KEK that does not unwrap it (a bad copy from a
 * node, or a stale key_persistence file) is logged and fetched again, from another node
 * of the provider if it has one; a different fresh copy replaces it in the cache, and
 * failing too, is an error (neither copy kept).  The same fresh copy, or none (KMS
 * down), leaves the cache as it was: the header may be what is wrong.
 */
int kek_unwrap_slot(struct skpd *d, const char *dev, const struct skp_header *h, int i, unsigned char **ret,
		    struct skp_err *err);

#endif
