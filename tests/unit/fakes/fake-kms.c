// SPDX-License-Identifier: GPL-2.0
/* Fake KMS providers (fake-kms.h).  Single-threaded, as skpd's use of providers is. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-kms.h"
#include "secmem.h"
#include "wrap.h"

#define FAKE_KMS_MAX 8

static struct fake_kms kmses[FAKE_KMS_MAX];

struct skp_provider {
	pthread_t owner;		/* made on this thread */
	char name[64];
	struct fake_kms *kms;
	struct skp_node_health nodes[SKP_PROVIDER_MAX_NODES];
	size_t n;
};

struct fake_kms *fake_kms(const char *name)
{
	for (int i = 0; i < FAKE_KMS_MAX; i++) {
		struct fake_kms *k = &kmses[i];

		if (!k->name[0])
			snprintf(k->name, sizeof(k->name), "%s", name);
		if (!strcmp(k->name, name))
			return k;
	}
	abort();	/* a test with more KMSes than this is a bug in the test */
}

struct fake_kms_key *fake_kms_key(struct fake_kms *k, const char *uid)
{
	for (size_t i = 0; i < k->n_keys; i++)
		if (!strcmp(k->keys[i].uid, uid))
			return &k->keys[i];
	return NULL;
}

unsigned long fake_kms_requests(const struct fake_kms *k)
{
	return k->n_create + k->n_get + k->n_attrs + k->n_revoke + k->n_check;
}

/* Every request passes here: a down KMS fails it as the real provider does after its
 * retries, and the node health skpd reports follows. */
static int request(struct skp_provider *p, unsigned long *counter, struct skp_err *err)
{
	struct skp_node_health *h = &p->nodes[0];

	if (p->kms->down) {
		for (size_t i = 0; i < p->n; i++) {
			p->nodes[i].healthy = 0;
			p->nodes[i].n_fail++;
			if (!p->nodes[i].failing_since)
				p->nodes[i].failing_since = time(NULL);
			snprintf(p->nodes[i].last_error, sizeof(p->nodes[i].last_error),
				 "%s: connect: Connection refused (fake KMS down)", p->nodes[i].addr);
		}
		return skp_err_set(err, -ECONNREFUSED, "provider %s: all %zu KMS node(s) failed: connect: "
				   "Connection refused (fake KMS down)", p->name, p->n);
	}
	(*counter)++;
	h->healthy = 1;
	h->n_ok++;
	h->last_success = time(NULL);
	h->failing_since = 0;
	h->last_error[0] = '\0';
	return 0;
}

/* A key the KMS has and will serve to this request. */
static struct fake_kms_key *lookup(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	struct fake_kms_key *k = fake_kms_key(p->kms, uid);

	if (!k) {
		skp_err_set(err, -ENOENT, "KMIP error: Item Not Found (fake KMS %s, key %.100s)", p->name, uid);
		return NULL;
	}
	if (k->refuse) {
		skp_err_set(err, k->refuse, "KMIP error: Permission Denied (fake KMS %s refuses key %.100s)",
			    p->name, uid);
		return NULL;
	}
	return k;
}

struct skp_provider *skp_provider_new(const struct skp_provider_conf *cfg, struct skp_err *err)
{
	struct skp_provider *p;

	if (!cfg->name[0] || !cfg->n_servers || cfg->n_servers > SKP_PROVIDER_MAX_NODES) {
		skp_err_set(err, -EINVAL, "fake provider: a name and 1..%d servers", SKP_PROVIDER_MAX_NODES);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		skp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	p->owner = pthread_self();
	snprintf(p->name, sizeof(p->name), "%s", cfg->name);
	p->kms = fake_kms(cfg->name);
	p->n = cfg->n_servers;
	for (size_t i = 0; i < p->n; i++) {
		snprintf(p->nodes[i].addr, sizeof(p->nodes[i].addr), "%s", cfg->servers[i]);
		p->nodes[i].healthy = -1;
	}
	return p;
}

static unsigned long foreign_frees;

unsigned long fake_provider_foreign_frees(void)
{
	return __atomic_load_n(&foreign_frees, __ATOMIC_SEQ_CST);
}

void skp_provider_free(struct skp_provider *p)
{
	if (p && !pthread_equal(p->owner, pthread_self()))
		__atomic_add_fetch(&foreign_frees, 1, __ATOMIC_SEQ_CST);
	free(p);
}

const char *skp_provider_name(const struct skp_provider *p)
{
	return p->name;
}

int skp_provider_unique_name(const char *prefix, char *out, size_t size, struct skp_err *err)
{
	static unsigned int n;

	if ((size_t)snprintf(out, size, "%s-fake%08x", prefix, n++) >= size)
		return skp_err_set(err, -ENAMETOOLONG, "key name too long");
	return 0;
}

int skp_provider_create(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			struct skp_err *err)
{
	struct fake_kms *kms = p->kms;
	struct fake_kms_key *k;
	int r = request(p, &kms->n_create, err);

	if (r < 0)
		return r;
	if (kms->refuse_create)
		return skp_err_set(err, kms->refuse_create, "KMIP error: Permission Denied (fake KMS %s refuses Create)",
				   p->name);
	if (kms->n_keys == FAKE_KMS_KEYS)
		return skp_err_set(err, -ENOSPC, "fake KMS %s is full", p->name);
	k = &kms->keys[kms->n_keys];
	memset(k, 0, sizeof(*k));
	snprintf(k->uid, sizeof(k->uid), "%s-%zu", p->name, kms->n_keys + 1);
	snprintf(k->name, sizeof(k->name), "%s", name);
	r = skp_dek_generate(k->key, sizeof(k->key), err);
	if (r < 0)
		return r;
	k->state = 1;	/* Pre-Active */
	kms->n_keys++;
	if ((size_t)snprintf(uid, uid_size, "%s", k->uid) >= uid_size)
		return skp_err_set(err, -ENAMETOOLONG, "uid too long");
	return 0;
}

int skp_provider_activate(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	struct fake_kms_key *k = lookup(p, uid, err);

	if (!k)
		return err ? err->code : -ENOENT;
	k->state = 2;
	return 0;
}

int skp_provider_create_kek(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			    struct skp_err *err)
{
	int r;

	if (!name || !*name)
		return skp_err_set(err, -EINVAL, "a KEK needs a (unique) name");
	r = skp_provider_create(p, name, uid, uid_size, err);
	return r < 0 ? r : skp_provider_activate(p, uid, err);
}

int skp_provider_get_keks_states(struct skp_provider *p, const char *const *uids, size_t n,
				 unsigned char **keys, int *states, struct skp_err *errs,
				 struct skp_err *err)
{
	return skp_provider_get_keks_from(p, uids, n, keys, states, NULL, -1, errs, err);
}

int skp_provider_get_keks_from(struct skp_provider *p, const char *const *uids, size_t n,
			       unsigned char **keys, int *states, int *nodes, int avoid,
			       struct skp_err *errs, struct skp_err *err)
{
	int r, first = 0, node = avoid >= 0 && p->n > 1 ? (avoid + 1) % (int)p->n : 0;

	for (size_t i = 0; i < n; i++) {
		keys[i] = NULL;
		if (nodes)
			nodes[i] = -1;
		if (states)
			states[i] = 0;
		if (errs)
			skp_err_set(&errs[i], -EAGAIN, "not fetched");
	}
	if (!n)
		return 0;
	r = request(p, &p->kms->n_get, err);
	if (r < 0) {
		for (size_t i = 0; errs && i < n; i++)
			errs[i] = *err;
		return r;
	}
	p->kms->n_get_items += n;
	p->kms->last_node = node;
	for (size_t i = 0; i < n; i++) {
		struct skp_err e = {0};
		struct fake_kms_key *k = lookup(p, uids[i], &e);

		if (k && !(keys[i] = skp_secmem_alloc(SKP_KEK_LEN)))
			skp_err_set(&e, -ENOMEM, "no locked memory");
		if (e.code) {
			if (errs)
				errs[i] = e;
			if (!first) {
				first = e.code;
				if (err)
					*err = e;
			}
			continue;
		}
		memcpy(keys[i], k->key, SKP_KEK_LEN);
		if (k->bad_nodes & (1u << node))
			keys[i][0] ^= (unsigned char)(0x5a + node);	/* wrong, and each node its own way */
		if (nodes)
			nodes[i] = node;
		if (states)
			states[i] = k->state;
		if (errs)
			skp_err_clear(&errs[i]);
	}
	/* Without errs the first failure fails the call, as the real one. */
	if (first && !errs)
		for (size_t i = 0; i < n; i++) {
			skp_secmem_free(keys[i], SKP_KEK_LEN);
			keys[i] = NULL;
		}
	return first;
}

int skp_provider_get_keks(struct skp_provider *p, const char *const *uids, size_t n,
			  unsigned char **keys, struct skp_err *errs, struct skp_err *err)
{
	return skp_provider_get_keks_states(p, uids, n, keys, NULL, errs, err);
}

int skp_provider_get_key(struct skp_provider *p, const char *uid, unsigned char **key, size_t *len,
			 struct skp_err *err)
{
	int r = skp_provider_get_keks(p, &uid, 1, key, NULL, err);

	if (r == 0)
		*len = SKP_KEK_LEN;
	return r;
}

int skp_provider_get_attrs(struct skp_provider *p, const char *uid, struct skp_key_attrs *out,
			   struct skp_err *err)
{
	struct fake_kms_key *k;
	int r = request(p, &p->kms->n_attrs, err);

	if (r < 0)
		return r;
	k = lookup(p, uid, err);
	if (!k)
		return err ? err->code : -ENOENT;
	memset(out, 0, sizeof(*out));
	snprintf(out->uid, sizeof(out->uid), "%s", k->uid);
	snprintf(out->name, sizeof(out->name), "%s", k->name);
	out->state = k->state;
	out->crypto_length = 256;
	out->algorithm = 3;
	out->object_type = 2;
	return 0;
}

/* One request for all the keys; a key the KMS refuses or lacks fails alone, as in the
 * real batch. */
int skp_provider_get_states(struct skp_provider *p, const char *const *uids, size_t n, int *states,
			    struct skp_err *errs, struct skp_err *err)
{
	int r, first = 0;

	for (size_t i = 0; i < n; i++) {
		states[i] = 0;
		if (errs)
			skp_err_set(&errs[i], -EAGAIN, "not asked");
	}
	if (!n)
		return 0;
	r = request(p, &p->kms->n_attrs, err);
	if (r < 0) {
		for (size_t i = 0; errs && i < n; i++)
			errs[i] = *err;
		return r;
	}
	p->kms->n_attrs_items += n;
	for (size_t i = 0; i < n; i++) {
		struct skp_err e = {0};
		struct fake_kms_key *k = lookup(p, uids[i], &e);

		if (errs)
			errs[i] = e;
		if (!k) {
			if (!first) {
				first = e.code;
				if (err)
					*err = e;
			}
			continue;
		}
		states[i] = k->state;
	}
	return first;
}

int skp_provider_revoke(struct skp_provider *p, const char *uid, uint32_t reason, const char *msg,
			struct skp_err *err)
{
	struct fake_kms_key *k;
	int r = request(p, &p->kms->n_revoke, err);

	(void)msg;
	if (r < 0)
		return r;
	k = lookup(p, uid, err);
	if (!k)
		return err ? err->code : -ENOENT;
	/* KMIP: Key Compromise makes it Compromised, any other reason Deactivated. */
	k->state = reason == KMIP_REVOKE_KEY_COMPROMISE ? 4 : 3;
	k->revoke_reason = reason;
	return 0;
}

int skp_provider_destroy(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	return skp_err_set(err, -EOPNOTSUPP, "fake provider %s: Destroy of %s is not faked", p->name, uid);
}

int skp_provider_locate(struct skp_provider *p, const char *name, char (*uids)[SKP_UID_MAX], size_t max,
			size_t *n, struct skp_err *err)
{
	(void)name; (void)uids; (void)max;
	*n = 0;
	return skp_err_set(err, -EOPNOTSUPP, "fake provider %s: Locate is not faked", p->name);
}

int skp_provider_query(struct skp_provider *p, struct skp_kmip_query *q, struct skp_err *err)
{
	(void)q;
	return skp_err_set(err, -EOPNOTSUPP, "fake provider %s: Query is not faked", p->name);
}

int skp_provider_versions(struct skp_provider *p, struct skp_kmip_version *v, size_t max, size_t *n,
			  struct skp_err *err)
{
	(void)v; (void)max;
	*n = 0;
	return skp_err_set(err, -EOPNOTSUPP, "fake provider %s: Discover Versions is not faked", p->name);
}

/* One probe reaches every node. */
int skp_provider_check(struct skp_provider *p)
{
	if (request(p, &p->kms->n_check, NULL) < 0)
		return 0;
	for (size_t i = 1; i < p->n; i++) {
		p->nodes[i].healthy = 1;
		p->nodes[i].n_ok++;
		p->nodes[i].last_success = p->nodes[0].last_success;
		p->nodes[i].failing_since = 0;
		p->nodes[i].last_error[0] = '\0';
	}
	return (int)p->n;
}

size_t skp_provider_nodes(const struct skp_provider *p)
{
	return p->n;
}

const struct skp_node_health *skp_provider_node(const struct skp_provider *p, size_t i)
{
	return i < p->n ? &p->nodes[i] : NULL;
}

/* As the library: the health worker's findings, counted as failed exchanges. */
void skp_provider_note_health(struct skp_provider *p, size_t i, const struct skp_node_health *h)
{
	if (i >= p->n || h->healthy < 0)
		return;
	p->nodes[i].healthy = h->healthy;
	p->nodes[i].consecutive_fails = h->healthy ? 0 : p->nodes[i].consecutive_fails + 1;
	snprintf(p->nodes[i].last_error, sizeof(p->nodes[i].last_error), "%s", h->healthy ? "" : h->last_error);
}

unsigned long skp_provider_failovers(const struct skp_provider *p)
{
	(void)p;
	return 0;
}
