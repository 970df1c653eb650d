// SPDX-License-Identifier: GPL-2.0
/* The KEK cache, and getting, creating and using KEKs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "provider.h"
#include "secmem.h"
#include "skpd.h"
#include "wrap.h"

static struct kek *kek_find(struct skpd *d, const char *provider, const char *uid)
{
	for (size_t i = 0; i < d->n_keks; i++)
		if (!strcmp(d->keks[i].provider, provider) && !strcmp(d->keks[i].uid, uid))
			return &d->keks[i];
	return NULL;
}

const unsigned char *kek_cache_get(struct skpd *d, const char *provider, const char *uid)
{
	struct kek *k = kek_find(d, provider, uid);

	return k ? k->key : NULL;
}

int kek_cache_put(struct skpd *d, const char *provider, const char *uid, const unsigned char *key,
		  struct skp_err *err)
{
	struct kek *k;

	if (kek_cache_get(d, provider, uid))
		return 0;
	if (d->n_keks == d->cap_keks) {
		size_t ncap = d->cap_keks ? d->cap_keks * 2 : 64;
		struct kek *nk = realloc(d->keks, ncap * sizeof(*nk));

		if (!nk)
			return skp_err_set(err, -ENOMEM, "KEK cache: out of memory");
		d->keks = nk;
		d->cap_keks = ncap;
	}
	k = &d->keks[d->n_keks];
	memset(k, 0, sizeof(*k));
	k->key = skp_secmem_alloc(SKP_KEK_LEN);
	if (!k->key)
		return skp_err_set(err, -ENOMEM, "KEK cache: no locked memory");
	memcpy(k->key, key, SKP_KEK_LEN);
	snprintf(k->provider, sizeof(k->provider), "%s", provider);
	snprintf(k->uid, sizeof(k->uid), "%s", uid);
	d->n_keks++;
	return 0;
}

/* The address of the provider's node i now; "" for none (-1: key_persistence). */
static const char *node_addr(struct skpd *d, const char *provider, int i)
{
	struct prov *pv = skpd_prov(d, provider);

	if (i < 0 || !pv || !pv->p || (size_t)i >= skp_provider_nodes(pv->p))
		return "";
	return skp_provider_node(pv->p, (size_t)i)->addr;
}

void kek_node_note(struct skpd *d, const char *provider, const char *uid, int node)
{
	struct kek *k = kek_find(d, provider, uid);

	if (k)
		snprintf(k->node, sizeof(k->node), "%s", node_addr(d, provider, node));
}

/* The index of the provider's node at addr now, or -1 (key_persistence; gone at a reload). */
static int node_index(struct skpd *d, const char *provider, const char *addr)
{
	struct prov *pv = skpd_prov(d, provider);

	for (size_t i = 0; addr[0] && pv && pv->p && i < skp_provider_nodes(pv->p); i++)
		if (!strcmp(skp_provider_node(pv->p, i)->addr, addr))
			return (int)i;
	return -1;
}

void kek_cache_drop(struct skpd *d, const char *provider, const char *uid)
{
	struct kek *k = kek_find(d, provider, uid);

	if (!k)
		return;
	skp_secmem_free(k->key, SKP_KEK_LEN);
	*k = d->keks[--d->n_keks];
}

static time_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void kek_state_note(struct skpd *d, const char *provider, const char *uid, int state)
{
	struct kek *k = kek_find(d, provider, uid);

	if (k && state) {
		k->state = state;
		k->state_at = mono_s();
	}
}

/* A state the KMS gave with the key this recently (a boot batch, an open) is used as is. */
#define KEK_STATE_FRESH_S 60

int kek_retired(struct skpd *d, const char *provider, const char *uid, int *state, struct skp_err *err)
{
	struct prov *pv = skpd_prov(d, provider);
	struct kek *k = kek_find(d, provider, uid);
	int r;

	if (k && k->state && mono_s() - k->state_at <= KEK_STATE_FRESH_S) {
		*state = k->state;
	} else {
		if (!pv)
			return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", provider);
		r = prov_state(pv, uid, state, err);
		if (r < 0)
			return r;
		kek_state_note(d, provider, uid, *state);
	}
	/* 3 Deactivated, 4 Compromised, 5/6 Destroyed (KMIP 1.x State) */
	return *state >= 3;
}

void kek_cache_free(struct skpd *d)
{
	for (size_t i = 0; i < d->n_keks; i++)
		skp_secmem_free(d->keks[i].key, SKP_KEK_LEN);
	free(d->keks);
	d->keks = NULL;
	d->n_keks = d->cap_keks = 0;
}

/* A copy of the KEK from its provider (node `avoid` only if no other serves): *key in
 * secmem (SKP_KEK_LEN, caller frees), its State and the node that served it. */
static int fetch_key(struct skpd *d, const char *provider, const char *uid, int avoid, unsigned char **key,
		     int *state, int *node, struct skp_err *err)
{
	struct prov *pv = skpd_prov(d, provider);
	struct skp_err item = {0};
	int r;

	*key = NULL;
	if (!pv)
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured (and its KEK %s is not cached)",
				   provider, uid);
	r = prov_get_keks(pv, &uid, 1, key, state, node, avoid, &item, err);
	if (r >= 0 && item.code)
		*err = item, r = item.code;
	if (r < 0) {
		skp_secmem_free(*key, SKP_KEK_LEN);
		*key = NULL;
		return skp_err_wrap(err, "getting KEK %s from provider \"%s\"", uid, provider);
	}
	return 0;
}

/* Puts a fetched copy in the cache, with its State and node. */
static int kek_keep(struct skpd *d, const char *provider, const char *uid, const unsigned char *key, int state,
		    int node, const unsigned char **ret, struct skp_err *err)
{
	int r = kek_cache_put(d, provider, uid, key, err);

	if (r < 0)
		return r;
	kek_state_note(d, provider, uid, state);
	kek_node_note(d, provider, uid, node);
	*ret = kek_cache_get(d, provider, uid);
	return 0;
}

int kek_get(struct skpd *d, const char *provider, const char *uid, const unsigned char **ret,
	    struct skp_err *err)
{
	const unsigned char *k = kek_cache_get(d, provider, uid);
	unsigned char *key;
	int r, state = 0, node = -1;

	if (k) {
		*ret = k;
		return 0;
	}
	r = fetch_key(d, provider, uid, -1, &key, &state, &node, err);
	if (r < 0)
		return r;
	r = kek_keep(d, provider, uid, key, state, node, ret, err);
	skp_secmem_free(key, SKP_KEK_LEN);
	return r;
}

/* KEK names are unique per wrap: device UUID plus random bits. */
static int kek_name(const unsigned char uuid[16], char *out, size_t size, struct skp_err *err)
{
	unsigned char rnd[4];
	char u[37];
	int r = skp_dek_generate(rnd, sizeof(rnd), err);

	if (r < 0)
		return r;
	skp_uuid_format(uuid, u);
	snprintf(out, size, "skp-%s-%02x%02x%02x%02x", u, rnd[0], rnd[1], rnd[2], rnd[3]);
	return 0;
}

/* Creates a KEK on the provider, fetches it (into the cache) and wraps dek into slot. */
int kek_wrap_new(struct skpd *d, struct prov *pv, const unsigned char uuid[16], const unsigned char *dek,
		 struct skp_slot *slot, struct skp_err *err)
{
	char name[SKP_KEK_NAME_MAX], uid[SKP_KEK_UID_MAX];
	const unsigned char *kek;
	size_t wl = 0;
	int r;

	r = kek_name(uuid, name, sizeof(name), err);
	if (r < 0)
		return r;
	r = prov_create_kek(pv, name, uid, sizeof(uid), err);
	if (r < 0)
		return skp_err_wrap(err, "creating KEK on provider \"%s\"", pv->conf->name);
	r = kek_get(d, pv->conf->name, uid, &kek, err);
	if (r < 0)
		return r;
	r = skp_wrap(kek, SKP_KEK_LEN, dek, SKP_DEK_LEN, slot->wrapped, sizeof(slot->wrapped), &wl, err);
	if (r < 0)
		return r;
	slot->wrapped_len = (uint32_t)wl;
	slot->dek_len = SKP_DEK_LEN;
	snprintf(slot->provider, sizeof(slot->provider), "%s", pv->conf->name);
	snprintf(slot->kek_uid, sizeof(slot->kek_uid), "%s", uid);
	snprintf(slot->kek_name, sizeof(slot->kek_name), "%s", name);
	return 0;
}

/* Where a copy of a KEK came from, for the log: its node's address; "" for none (a
 * native provider's store, or key_persistence). */
static void kek_origin(struct skpd *d, const char *provider, const char *addr, char *out, size_t size)
{
	struct prov *pv = skpd_prov(d, provider);

	if (addr[0])
		snprintf(out, size, "node %s", addr);
	else
		snprintf(out, size, "%s", pv && pv->nat ? "its native store" : "key_persistence");
}

/* The DEK of slot s under kek; 1 (err set) when the wrap's integrity check fails: not
 * this KEK. */
static int unwrap(const unsigned char *kek, const struct skp_slot *s, unsigned char *dek, struct skp_err *err)
{
	size_t len = 0;
	int r = skp_unwrap(kek, SKP_KEK_LEN, s->wrapped, s->wrapped_len, dek, SKP_DEK_LEN, &len, err);

	if (r == -EBADMSG)
		return 1;
	if (r == 0 && len != SKP_DEK_LEN)
		r = skp_err_set(err, -EBADMSG, "unwrapped DEK has %zu bytes", len);
	return r;
}

/*
 * The cached KEK of slot s did not unwrap its DEK: a fresh copy, from another node than
 * the one that served the cached copy, decides.  Different and working: the cached copy
 * was wrong and is replaced (0, dek set).  The same bytes: the KEK is what the KMS holds
 * (the header is damaged, or not this KEK's), kept.  No fresh copy (KMS down): the
 * cached one is kept, as it may be the right one.  Both wrong: both dropped.
 */
static int kek_refetch(struct skpd *d, const char *dev, const struct skp_slot *s, unsigned char *dek,
		       struct skp_err *err)
{
	const unsigned char *kek = kek_cache_get(d, s->provider, s->kek_uid);
	struct kek *k = kek_find(d, s->provider, s->kek_uid);
	unsigned char *fresh = NULL;
	char first[320], second[320];
	struct skp_err fe = {0};
	int r, state = 0, fnode = -1;

	kek_origin(d, s->provider, k ? k->node : "", first, sizeof(first));
	log_msg(LOG_W, "%s: KEK %s of provider \"%s\" (from %s) does not unwrap the DEK of the header: "
		"fetching it again", dev, s->kek_uid, s->provider, first);
	r = fetch_key(d, s->provider, s->kek_uid, node_index(d, s->provider, k ? k->node : ""), &fresh, &state,
		      &fnode, &fe);
	if (r < 0)
		return skp_err_set(err, -EBADMSG, "KEK %s of provider \"%s\" (from %s) does not unwrap the header's "
				   "DEK, and fetching it again failed: %s", s->kek_uid, s->provider, first, fe.msg);
	kek_origin(d, s->provider, node_addr(d, s->provider, fnode), second, sizeof(second));
	if (kek && !memcmp(kek, fresh, SKP_KEK_LEN)) {
		skp_secmem_free(fresh, SKP_KEK_LEN);
		return skp_err_set(err, -EBADMSG, "KEK %s of provider \"%s\" (the same again from %s) does not "
				   "unwrap the header's DEK: a damaged header, or not its KEK", s->kek_uid, s->provider,
				   second);
	}
	kek_cache_drop(d, s->provider, s->kek_uid);
	log_msg(LOG_W, "%s: KEK %s of provider \"%s\": the copy from %s dropped from the cache", dev, s->kek_uid,
		s->provider, first);
	r = kek_keep(d, s->provider, s->kek_uid, fresh, state, fnode, &kek, err);
	skp_secmem_free(fresh, SKP_KEK_LEN);
	if (r < 0)
		return r;
	r = unwrap(kek, s, dek, err);
	if (r == 1) {
		kek_cache_drop(d, s->provider, s->kek_uid);
		return skp_err_set(err, -EBADMSG, "KEK %s of provider \"%s\" does not unwrap the header's DEK: neither "
				   "the copy from %s nor the one fetched again from %s", s->kek_uid, s->provider,
				   first, second);
	}
	if (r == 0)
		log_msg(LOG_W, "%s: KEK %s of provider \"%s\" fetched again from %s unwraps the DEK", dev,
			s->kek_uid, s->provider, second);
	return r;
}

/* Unwraps slot i's DEK into secmem and authenticates the header with it. */
int kek_unwrap_slot(struct skpd *d, const char *dev, const struct skp_header *h, int i, unsigned char **ret,
		    struct skp_err *err)
{
	const struct skp_slot *s = &h->slot[i];
	const unsigned char *kek;
	unsigned char *dek;
	int r;

	r = kek_get(d, s->provider, s->kek_uid, &kek, err);
	if (r < 0)
		return r;
	dek = skp_secmem_alloc(SKP_DEK_LEN);
	if (!dek)
		return skp_err_set(err, -ENOMEM, "no locked memory for the DEK");
	r = unwrap(kek, s, dek, err);
	/* A wrong copy (a buggy or hostile node, an old key_persistence file) must not
	 * stay until restart. */
	if (r == 1) {
		skp_err_clear(err);	/* the refetch decides: a success must leave no error */
		r = kek_refetch(d, dev, s, dek, err);
	}
	if (r == 0)
		r = skp_header_verify(h, i, dek, SKP_DEK_LEN, err);
	if (r < 0) {
		skp_secmem_free(dek, SKP_DEK_LEN);
		return i ? skp_err_wrap(err, "slot %d", i) : r;
	}
	*ret = dek;
	return 0;
}
