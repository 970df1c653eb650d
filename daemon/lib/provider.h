/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A key provider: a named, ordered list of KMIP nodes (replicas of one KMS).
 *
 * Operations go round-robin over healthy nodes and fail over to the next node on a
 * connect, TLS, timeout, I/O or malformed-response error, or an answer that does not
 * answer the request (skp_kmip_resp_parse_req); a whole pass over the nodes is retried
 * `retries` times with jittered backoff (100 ms, doubling, max 1 s; each delay between
 * half its step and the step).
 * Every operation has a budget of 2 x timeout_ms (plus 10 ms per batch item for the
 * server's work); no attempt starts or runs past it.  A KMIP error from the
 * server (e.g. Permission Denied) is an answer, not a node failure: it is not
 * retried.  Create is not idempotent: if its outcome is unknown (request sent, no
 * answer) the provider Locates the key by its Name before creating again.
 *
 * Protocol "auto" (protocol_minor -1) negotiates per node: the first request on a
 * node's connection is Discover Versions (sent as KMIP 1.1), and requests then go in
 * the highest version both sides speak (1.0 to SKP_KMIP_MINOR_MAX).  A node whose answer
 * names none (empty, no common version, malformed, a KMIP error) fails like one that
 * does not connect; after a node failure it is asked again.  An explicit version is
 * used as given.
 *
 * Not thread-safe: use one provider object per thread.  No global state.
 */
#ifndef SKP_PROVIDER_H
#define SKP_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"		/* struct skp_provider_conf */
#include "err.h"
#include "kmip.h"
#include "wrap.h"		/* SKP_KEK_LEN: the length of every KEK */

#define SKP_PROVIDER_MAX_NODES	SKP_MAX_SERVERS
#define SKP_PROVIDER_BATCH_MAX	1000	/* Gets per request message */
#define SKP_PROVIDER_TIMEOUT_MS	10000	/* timeout_ms when the configuration gives none */
#define SKP_PROVIDER_ITEM_COST_MS 10	/* extra exchange time allowed per batch item */
#define SKP_PROVIDER_WAIT_FACTOR 8	/* a sent request is waited for at most this x its exchange time */

struct skp_node_health {
	char addr[300];			/* as configured, e.g. "127.0.0.1:5696" */
	int healthy;			/* 1 ok, 0 failing, -1 never contacted */
	int64_t last_success;		/* CLOCK_REALTIME seconds, 0 = never */
	int64_t failing_since;		/* realtime seconds of the first failure in a row, 0 = none */
	char last_error[256];		/* "" if none */
	unsigned int latency_ms;	/* of the last successful exchange */
	int kmip_minor;			/* requests go to the node in KMIP 1.kmip_minor; -1: not
					 * negotiated yet (auto; again after a failure) */
	unsigned int consecutive_fails;	/* failed exchanges since the last success */
	unsigned long n_ok, n_fail;	/* exchanges */
	unsigned long n_failover;	/* times an operation moved from this node to another */
};

struct skp_provider;

/* Copies what it needs from c (the password into its own secmem): c may go after. */
struct skp_provider *skp_provider_new(const struct skp_provider_conf *c, struct skp_err *err);
void skp_provider_free(struct skp_provider *p);
const char *skp_provider_name(const struct skp_provider *p);

/*
 * Create an AES-256 KEK named `name` and make sure it is Active (activated, or found
 * Active by a server that creates keys Active and refuses Activate); uid out
 * (NUL-terminated, < SKP_UID_MAX bytes).  Use a unique name (see
 * skp_provider_unique_name): when the Create's outcome is unknown, the key is looked
 * for by its Name.
 */
int skp_provider_create_kek(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			    struct skp_err *err);
/* prefix + "-" + 16 random hex digits. */
int skp_provider_unique_name(const char *prefix, char *out, size_t size, struct skp_err *err);

/*
 * Fetch n keys in batched exchanges spread over healthy nodes (one request per node
 * in flight at once, <= SKP_PROVIDER_BATCH_MAX items each); keys[i] is SKP_KEK_LEN bytes
 * in secmem (free with skp_secmem_free(keys[i], SKP_KEK_LEN)), NULL if that key failed.
 * errs == NULL: the first failure fails the call (all keys freed, NULL).
 * errs != NULL: errs[i] per key; returns 0 only if every key was fetched, else the
 * first error (keys that succeeded are still returned).
 */
int skp_provider_get_keks(struct skp_provider *p, const char *const *uids, size_t n,
			  unsigned char **keys, struct skp_err *errs, struct skp_err *err);
/*
 * The longest skp_provider_get_keks_from of n keys can take on a provider
 * configured as c while no node answers: the operation's budget, then the longest wait
 * for a request sent at its end.  A slow node that answers moves the budget on (each
 * answer is progress).  skpd tells systemd this before a boot retry.
 */
static inline int64_t skp_provider_fetch_max_ms(const struct skp_provider_conf *c, size_t n)
{
	int64_t t = c->timeout_ms > 0 ? c->timeout_ms : SKP_PROVIDER_TIMEOUT_MS;
	size_t per = n < SKP_PROVIDER_BATCH_MAX ? n : SKP_PROVIDER_BATCH_MAX;

	/* exchange()'s deadline, then the longest wait of a request sent at it */
	return 2 * t + (int64_t)n * SKP_PROVIDER_ITEM_COST_MS +
	       SKP_PROVIDER_WAIT_FACTOR * (t + (int64_t)per * SKP_PROVIDER_ITEM_COST_MS);
}
/*
 * The same, also asking each key's State (1..6 as KMIP) in the same requests: states[i]
 * is 0 when the KMS did not say.  skpd checks it at open (a superseded KEK).
 */
int skp_provider_get_keks_states(struct skp_provider *p, const char *const *uids, size_t n,
				 unsigned char **keys, int *states, struct skp_err *errs,
				 struct skp_err *err);
/*
 * The same, also saying which node served each key (nodes[i]: an index for
 * skp_provider_node, -1 if none), and sending nothing to node `avoid` (-1: none) while
 * another node can serve: a key that proved wrong is asked again elsewhere.
 */
int skp_provider_get_keks_from(struct skp_provider *p, const char *const *uids, size_t n,
			       unsigned char **keys, int *states, int *nodes, int avoid,
			       struct skp_err *errs, struct skp_err *err);
/*
 * The State (1..6 as KMIP) of n keys, one Get Attributes each, batched and spread over
 * the nodes as skp_provider_get_keks does; states[i] is 0 when the KMS did not say.
 * errs != NULL: errs[i] per key, worded as skp_provider_get_attrs would (a key the KMS
 * refuses fails alone; keys no node answered share the exchange's error); returns 0
 * only if every State was read, else the first error.  errs == NULL: the first failure
 * fails the call.
 */
int skp_provider_get_states(struct skp_provider *p, const char *const *uids, size_t n, int *states,
			    struct skp_err *errs, struct skp_err *err);
/* Any length key (<= SKP_KMIP_KEY_MAX) for tools: *key in secmem, free with *len. */
int skp_provider_get_key(struct skp_provider *p, const char *uid, unsigned char **key, size_t *len,
			 struct skp_err *err);

/* State (1..6 as KMIP), name, cryptographic length. */
int skp_provider_get_attrs(struct skp_provider *p, const char *uid, struct skp_key_attrs *out,
			   struct skp_err *err);

/* Single operations (for skpctl and tests). */
int skp_provider_create(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			struct skp_err *err);
int skp_provider_activate(struct skp_provider *p, const char *uid, struct skp_err *err);
int skp_provider_revoke(struct skp_provider *p, const char *uid, uint32_t reason, const char *msg,
			struct skp_err *err);
int skp_provider_destroy(struct skp_provider *p, const char *uid, struct skp_err *err);
/* Symmetric keys with Name `name` (newest first on PyKMIP); at most max returned in uids,
 * *n of them.  On protocol >= 1.3 it pages: requests of up to 100 items (Maximum Items)
 * with Offset Items, until a short page or max; below 1.3 (no Offset Items) one request
 * with Maximum Items = max. */
int skp_provider_locate(struct skp_provider *p, const char *name, char (*uids)[SKP_UID_MAX], size_t max,
			size_t *n, struct skp_err *err);
int skp_provider_query(struct skp_provider *p, struct skp_kmip_query *q, struct skp_err *err);
int skp_provider_versions(struct skp_provider *p, struct skp_kmip_version *v, size_t max, size_t *n,
			  struct skp_err *err);

/* Probe every node once (Discover Versions; all nodes at once, within one operation's
 * budget), updating health.  Returns the number of healthy nodes. */
int skp_provider_check(struct skp_provider *p);

/* Per-node health for status output. */
size_t skp_provider_nodes(const struct skp_provider *p);
const struct skp_node_health *skp_provider_node(const struct skp_provider *p, size_t i);
/*
 * What a probe made elsewhere (skpd's health worker, with connections of its own) found
 * of node i: healthy nodes are tried first, so operations skip a node it found failing,
 * and try again one it found back.  A failure counts in consecutive_fails (the alarm's
 * measure), not in n_ok/n_fail (this object's own exchanges).
 */
void skp_provider_note_health(struct skp_provider *p, size_t i, const struct skp_node_health *h);
/* Operations that succeeded on another node than the first one tried. */
unsigned long skp_provider_failovers(const struct skp_provider *p);

#endif
