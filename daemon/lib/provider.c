// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "provider.h"
#include "secmem.h"
#include "tls.h"

#define LOCATE_PAGE	100
#define ITEM_COST_MS	10	/* extra exchange time allowed per batch item */

struct node {
	struct skp_node_health h;
	char host[256];
	unsigned int port;
	struct skp_tls_conn *conn;
};

struct skp_provider {
	char name[64];
	struct skp_tls_ctx *tls;
	struct skp_kmip_opts opts;
	char *username;
	char *password;			/* secmem (locked, wiped on free) */
	size_t password_size;
	int timeout_ms, retries;
	size_t n, rr;
	unsigned long failovers;
	struct node nodes[SKP_PROVIDER_MAX_NODES];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int parse_server(const char *s, struct node *nd, struct skp_err *err)
{
	const char *colon, *host = s;
	size_t hl;
	unsigned long port = SKP_KMIP_PORT;
	char *end;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb)
			return skp_err_set(err, -EINVAL, "bad server address '%.100s'", s);
		host = s + 1;
		hl = (size_t)(rb - host);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && !colon)
			return skp_err_set(err, -EINVAL, "bad server address '%.100s'", s);
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL;	/* bare IPv6 address */
		hl = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (colon) {
		errno = 0;
		port = strtoul(colon + 1, &end, 10);
		if (errno || *end || !colon[1] || port == 0 || port > 65535)
			return skp_err_set(err, -EINVAL, "bad port in server address '%.100s'", s);
	}
	if (hl == 0 || hl >= sizeof(nd->host))
		return skp_err_set(err, -EINVAL, "bad host in server address '%.100s'", s);
	memcpy(nd->host, host, hl);
	nd->host[hl] = '\0';
	nd->port = (unsigned int)port;
	snprintf(nd->h.addr, sizeof(nd->h.addr), "%s", s);
	if (!colon)
		snprintf(nd->h.addr, sizeof(nd->h.addr), "%s:%u", s, nd->port);
	nd->h.healthy = -1;
	return 0;
}

/* The password into the provider's own secmem (the conf's owner wipes its copy). */
static int copy_credential(struct skp_provider *p, const struct skp_provider_conf *c, struct skp_err *err)
{
	if (!c->username[0])
		return 0;
	p->username = strdup(c->username);
	if (c->password) {
		p->password_size = strnlen(c->password, SKP_PASSWORD_MAX - 1) + 1;
		p->password = skp_secmem_alloc(p->password_size);
		if (p->password) {
			memcpy(p->password, c->password, p->password_size - 1);
			p->password[p->password_size - 1] = '\0';
		}
	}
	if (!p->username || (c->password && !p->password))
		return skp_err_set(err, -ENOMEM, "out of memory");
	p->opts.username = p->username;
	p->opts.password = p->password;
	return 0;
}

struct skp_provider *skp_provider_new(const struct skp_provider_conf *c, struct skp_err *err)
{
	struct skp_tls_cfg tc = { c->ca, c->cert, c->key };
	struct skp_provider *p;
	size_t i;

	if (!c->n_servers || c->n_servers > SKP_PROVIDER_MAX_NODES) {
		skp_err_set(err, -EINVAL, "a provider needs 1 to %d servers", SKP_PROVIDER_MAX_NODES);
		return NULL;
	}
	if (c->protocol_minor < -1 || c->protocol_minor > 4) {
		skp_err_set(err, -EINVAL, "KMIP protocol 1.%d not supported (1.0 to 1.4)", c->protocol_minor);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		skp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", c->name[0] ? c->name : "kms");
	for (i = 0; i < c->n_servers; i++)
		if (parse_server(c->servers[i], &p->nodes[i], err))
			goto fail;
	p->n = c->n_servers;
	p->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
	p->retries = c->retries > 0 ? c->retries : 0;
	p->opts.major = 1;
	p->opts.minor = c->protocol_minor < 0 ? 1 : c->protocol_minor;
	p->opts.max_response = SKP_TTLV_MAX_MSG;
	if (copy_credential(p, c, err))
		goto fail;
	p->tls = skp_tls_ctx_new(&tc, err);
	if (!p->tls)
		goto fail;
	return p;
fail:
	skp_provider_free(p);
	return NULL;
}

void skp_provider_free(struct skp_provider *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++)
		skp_tls_close(p->nodes[i].conn);
	skp_tls_ctx_free(p->tls);
	free(p->username);
	skp_secmem_free(p->password, p->password_size);
	free(p);
}

const char *skp_provider_name(const struct skp_provider *p)
{
	return p->name;
}

size_t skp_provider_nodes(const struct skp_provider *p)
{
	return p->n;
}

const struct skp_node_health *skp_provider_node(const struct skp_provider *p, size_t i)
{
	return i < p->n ? &p->nodes[i].h : NULL;
}

unsigned long skp_provider_failovers(const struct skp_provider *p)
{
	return p->failovers;
}

static void node_ok(struct node *nd, int64_t t0)
{
	nd->h.healthy = 1;
	nd->h.last_success = time(NULL);
	nd->h.failing_since = 0;
	nd->h.consecutive_fails = 0;
	nd->h.latency_ms = (unsigned int)(now_ms() - t0);
	nd->h.n_ok++;
}

static void node_fail(struct node *nd, const struct skp_err *e)
{
	if (nd->h.healthy != 0 || !nd->h.failing_since)
		nd->h.failing_since = time(NULL);
	nd->h.healthy = 0;
	snprintf(nd->h.last_error, sizeof(nd->h.last_error), "%s", e->msg);
	nd->h.n_fail++;
	nd->h.consecutive_fails++;
	skp_tls_close(nd->conn);
	nd->conn = NULL;
}

/* Nodes in trying order: healthy (or untried) ones round-robin first, then failing ones. */
static size_t node_order(struct skp_provider *p, size_t *order)
{
	size_t i, k = 0, start = p->rr++ % p->n;

	for (i = 0; i < p->n; i++) {
		size_t j = (start + i) % p->n;

		if (p->nodes[j].h.healthy != 0)
			order[k++] = j;
	}
	for (i = 0; i < p->n; i++) {
		size_t j = (start + i) % p->n;

		if (p->nodes[j].h.healthy == 0)
			order[k++] = j;
	}
	return k;
}

static int clip(int64_t deadline, int timeout_ms)
{
	int64_t left = deadline - now_ms();

	return left < timeout_ms ? (int)(left > 0 ? left : 0) : timeout_ms;
}

/* Makes sure nd has a live connection (reconnecting if an idle one was dropped). */
static int node_conn(struct skp_provider *p, struct node *nd, int64_t deadline, struct skp_err *err)
{
	int t;

	if (nd->conn && skp_tls_check_idle(nd->conn)) {
		skp_tls_close(nd->conn);
		nd->conn = NULL;
	}
	if (nd->conn)
		return 0;
	t = clip(deadline, p->timeout_ms);
	if (t <= 0)
		return skp_err_set(err, -ETIMEDOUT, "%s: operation time budget exhausted", nd->h.addr);
	return skp_tls_connect(p->tls, nd->host, nd->port, t, &nd->conn, err);
}

/*
 * Makes sure the nodes order[0..k) have live connections, opening the missing ones all
 * at once (connects and handshakes interleaved: k nodes cost one handshake time, not k).
 * A node that fails is marked failing, its error in *last and failed[i] set (the caller skips it this round:
 * its keys move on as for any send failure).
 */
static void nodes_conn(struct skp_provider *p, const size_t *order, size_t k, int64_t deadline,
		       unsigned char *failed, struct skp_err *last)
{
	struct skp_tls_target t[SKP_PROVIDER_MAX_NODES];
	struct skp_tls_conn *conns[SKP_PROVIDER_MAX_NODES];
	struct skp_err errs[SKP_PROVIDER_MAX_NODES];
	struct node *nds[SKP_PROVIDER_MAX_NODES];
	size_t i, m = 0, pos[SKP_PROVIDER_MAX_NODES];
	int tmo = clip(deadline, p->timeout_ms);

	for (i = 0; i < k; i++) {
		struct node *nd = &p->nodes[order[i]];

		if (nd->conn && skp_tls_check_idle(nd->conn)) {
			skp_tls_close(nd->conn);
			nd->conn = NULL;
		}
		if (nd->conn)
			continue;
		nds[m] = nd;
		pos[m] = i;
		t[m].host = nd->host;
		t[m].port = nd->port;
		memset(&errs[m], 0, sizeof(errs[m]));
		m++;
	}
	if (m < 2 || tmo <= 0)
		return;		/* node_conn does one node (or reports the exhausted budget) */
	skp_tls_connect_many(p->tls, t, m, tmo, conns, errs);
	for (i = 0; i < m; i++) {
		nds[i]->conn = conns[i];
		if (!conns[i]) {
			failed[pos[i]] = 1;
			*last = errs[i];
			node_fail(nds[i], &errs[i]);
			nds[i]->h.n_failover++;
			p->failovers++;
		}
	}
}

/* Receives and parses one response on nd's connection. */
static int node_recv(struct skp_provider *p, struct node *nd, int timeout_ms, unsigned char **rbuf,
		     size_t *rlen, struct skp_kmip_resp *resp, struct skp_err *err)
{
	int r = skp_tls_recv(nd->conn, SKP_TTLV_MAX_MSG, timeout_ms, rbuf, rlen, err);

	(void)p;
	if (r)
		return r;
	r = skp_kmip_resp_parse(*rbuf, *rlen, resp, err);
	if (r) {
		skp_err_wrap(err, "%s: malformed response", nd->h.addr);
		skp_secmem_free(*rbuf, *rlen);
		*rbuf = NULL;
	}
	return r;
}

/*
 * Sends one request, failing over across nodes.  idempotent == 0: if the request may
 * have reached a server and no answer came, returns -EINPROGRESS with *unknown = 1.
 */
static int run(struct skp_provider *p, struct skp_kmip_req *req, int idempotent, int *unknown,
	       unsigned char **rbuf, size_t *rlen, struct skp_kmip_resp *resp, struct skp_err *err)
{
	int64_t deadline = now_ms() + 2LL * p->timeout_ms + (int64_t)req->n_items * ITEM_COST_MS;
	size_t order[SKP_PROVIDER_MAX_NODES];
	struct skp_err last = { 0 };
	int round, tried = 0;
	struct node *first = NULL;

	if (unknown)
		*unknown = 0;
	for (round = 0; round <= p->retries; round++) {
		size_t k, i;

		if (round) {
			int64_t b = 100LL << (round - 1);

			if (b > 1000)
				b = 1000;
			if (now_ms() + b >= deadline)
				break;
			sleep_ms(b);
		}
		k = node_order(p, order);
		for (i = 0; i < k; i++) {
			struct node *nd = &p->nodes[order[i]];
			int sent = 0, reused, r, t;
			int64_t t0 = now_ms();

			if (t0 >= deadline)
				goto out;
			if (!first)
				first = nd;
			tried++;
			reused = nd->conn != NULL;
			r = node_conn(p, nd, deadline, &last);
			if (!r) {
				t = clip(deadline, p->timeout_ms + (int)req->n_items * ITEM_COST_MS);
				r = skp_tls_send(nd->conn, req->enc.buf, req->enc.len, t, &sent, &last);
				/* A reused connection the server dropped while idle: one fresh try
				 * on the same node when nothing can have been processed. */
				if (r && reused && (!sent || idempotent)) {
					skp_tls_close(nd->conn);
					nd->conn = NULL;
					sent = 0;
					r = node_conn(p, nd, deadline, &last);
					if (!r)
						r = skp_tls_send(nd->conn, req->enc.buf, req->enc.len,
								 clip(deadline, t), &sent, &last);
				}
				if (!r)
					r = node_recv(p, nd, clip(deadline, t), rbuf, rlen, resp, &last);
			}
			if (!r) {
				node_ok(nd, t0);
				if (nd != first) {
					p->failovers++;
					first->h.n_failover++;
				}
				return 0;
			}
			node_fail(nd, &last);
			if (!idempotent && sent) {
				if (unknown)
					*unknown = 1;
				if (first != nd)
					first->h.n_failover++;
				return skp_err_set(err, -EINPROGRESS, "outcome unknown: %s", last.msg);
			}
		}
	}
out:
	if (!tried)
		return skp_err_set(err, -ETIMEDOUT, "provider %s: no KMS node could be tried in time", p->name);
	skp_err_set(err, last.code ? last.code : -EIO, "%s", last.msg);
	return skp_err_wrap(err, "provider %s: all %zu KMS node(s) failed (%d attempt(s)); last", p->name,
			    p->n, tried);
}

/* One-item helper: builds with `add`, runs, checks the result. */
struct call {
	struct skp_kmip_req req;
	unsigned char *rbuf;
	size_t rlen;
	struct skp_kmip_resp resp;
	const struct skp_kmip_result *res;
};

static void call_free(struct call *c)
{
	skp_kmip_req_free(&c->req);
	skp_kmip_resp_free(&c->resp);
	if (c->rbuf)
		skp_secmem_free(c->rbuf, c->rlen);
	memset(c, 0, sizeof(*c));
}

static int call_init(struct skp_provider *p, struct call *c, struct skp_err *err)
{
	memset(c, 0, sizeof(*c));
	return skp_kmip_req_init(&c->req, &p->opts, err);
}

/* Runs c->req and checks item `id` for operation `op`. */
static int call_run(struct skp_provider *p, struct call *c, uint32_t id, uint32_t op, int idempotent,
		    int *unknown, struct skp_err *err)
{
	int r = skp_kmip_req_finish(&c->req, err);

	if (r)
		return r;
	r = run(p, &c->req, idempotent, unknown, &c->rbuf, &c->rlen, &c->resp, err);
	if (r)
		return r;
	c->res = skp_kmip_resp_find(&c->resp, id);
	if (!c->res)
		return skp_err_set(err, -EPROTO, "KMIP: no result for batch item %u", id);
	return skp_kmip_result_check(c->res, op, err);
}

int skp_provider_create(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			struct skp_err *err)
{
	struct call c;
	uint32_t id;
	int r, unknown;

	if ((r = call_init(p, &c, err)))
		return r;
	id = skp_kmip_add_create(&c.req, KMIP_ALG_AES, 256, SKP_KMIP_KEK_USAGE_MASK, name);
	r = call_run(p, &c, id, KMIP_OP_CREATE, 0, &unknown, err);
	if (!r)
		r = skp_kmip_parse_uid(c.res, uid, uid_size, err);
	call_free(&c);
	return r;
}

int skp_provider_unique_name(const char *prefix, char *out, size_t size, struct skp_err *err)
{
	unsigned char rnd[8];
	int n;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return skp_err_set(err, -EIO, "getrandom failed");
	n = snprintf(out, size, "%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, rnd[0], rnd[1], rnd[2],
		     rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (n < 0 || (size_t)n >= size)
		return skp_err_set(err, -ENAMETOOLONG, "key name too long");
	return 0;
}

int skp_provider_create_kek(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			    struct skp_err *err)
{
	int attempt, r = -EIO;

	if (!name || !*name)
		return skp_err_set(err, -EINVAL, "a KEK needs a (unique) name");
	for (attempt = 0; attempt <= p->retries + 1; attempt++) {
		struct call c;
		uint32_t cid;
		int unknown = 0;

		if (attempt) {
			/* The last Create may have happened: look for the name before creating again. */
			char found[4][SKP_UID_MAX];
			struct skp_key_attrs a;
			size_t n = 0;

			r = skp_provider_locate(p, name, found, 4, &n, err);
			if (r)
				return skp_err_wrap(err, "create %s: outcome unknown and Locate failed", name);
			if (n > 1)
				return skp_err_set(err, -EEXIST, "create %s: %zu keys carry this name", name, n);
			if (n == 1) {
				r = skp_provider_get_attrs(p, found[0], &a, err);
				if (!r && a.state == 1)
					r = skp_provider_activate(p, found[0], err);
				if (r)
					return r;
				if (snprintf(uid, uid_size, "%s", found[0]) >= (int)uid_size)
					return skp_err_set(err, -ENAMETOOLONG, "uid too long");
				return 0;
			}
		}
		if ((r = call_init(p, &c, err)))
			return r;
		/* Create and Activate travel in two exchanges: KMIP allows an Activate with
		 * the ID Placeholder in the same batch, but PyKMIP 0.10 refuses to parse it. */
		cid = skp_kmip_add_create(&c.req, KMIP_ALG_AES, 256, SKP_KMIP_KEK_USAGE_MASK, name);
		r = call_run(p, &c, cid, KMIP_OP_CREATE, 0, &unknown, err);
		if (!r)
			r = skp_kmip_parse_uid(c.res, uid, uid_size, err);
		if (!r && (r = skp_provider_activate(p, uid, err)))
			skp_err_wrap(err, "key %s created but not activated", uid);
		call_free(&c);
		if (!unknown)
			return r;
	}
	return r;
}

static int uid_op(struct skp_provider *p, uint32_t op, const char *uid, struct skp_err *err)
{
	struct call c;
	uint32_t id;
	int r;

	if ((r = call_init(p, &c, err)))
		return r;
	id = op == KMIP_OP_ACTIVATE ? skp_kmip_add_activate(&c.req, uid) : skp_kmip_add_destroy(&c.req, uid);
	/* Activate and Destroy are safe to repeat: a repeat fails cleanly, never duplicates. */
	r = call_run(p, &c, id, op, 1, NULL, err);
	call_free(&c);
	return r;
}

int skp_provider_activate(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	return uid_op(p, KMIP_OP_ACTIVATE, uid, err);
}

int skp_provider_destroy(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	return uid_op(p, KMIP_OP_DESTROY, uid, err);
}

int skp_provider_revoke(struct skp_provider *p, const char *uid, uint32_t reason, const char *msg,
			struct skp_err *err)
{
	struct call c;
	uint32_t id;
	int r;

	if ((r = call_init(p, &c, err)))
		return r;
	id = skp_kmip_add_revoke(&c.req, uid, reason, msg);
	r = call_run(p, &c, id, KMIP_OP_REVOKE, 1, NULL, err);
	call_free(&c);
	return r;
}

int skp_provider_get_attrs(struct skp_provider *p, const char *uid, struct skp_key_attrs *out,
			   struct skp_err *err)
{
	static const char *const names[] = {
		"State", "Name", "Cryptographic Length", "Cryptographic Algorithm",
		"Cryptographic Usage Mask", "Object Type",
	};
	struct call c;
	uint32_t id;
	int r;

	if ((r = call_init(p, &c, err)))
		return r;
	id = skp_kmip_add_get_attrs(&c.req, uid, names, sizeof(names) / sizeof(names[0]));
	r = call_run(p, &c, id, KMIP_OP_GET_ATTRIBUTES, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_attrs(c.res, out, err);
	call_free(&c);
	return r;
}

int skp_provider_get_key(struct skp_provider *p, const char *uid, unsigned char **key, size_t *len,
			 struct skp_err *err)
{
	struct call c;
	uint32_t id;
	int r;

	if ((r = call_init(p, &c, err)))
		return r;
	id = skp_kmip_add_get(&c.req, uid);
	r = call_run(p, &c, id, KMIP_OP_GET, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_get_key(c.res, key, len, err);
	call_free(&c);
	return r;
}

int skp_provider_locate(struct skp_provider *p, const char *name, char (*uids)[SKP_UID_MAX], size_t max,
			size_t *n, struct skp_err *err)
{
	int paged = p->opts.minor >= 3;

	*n = 0;
	for (;;) {
		struct call c;
		uint32_t id;
		size_t got = 0, want = max - *n;
		int r;

		if (want > LOCATE_PAGE && paged)
			want = LOCATE_PAGE;
		if (want > INT32_MAX)
			want = INT32_MAX;
		if ((r = call_init(p, &c, err)))
			return r;
		id = skp_kmip_add_locate(&c.req, name, KMIP_OBJ_SYMMETRIC_KEY, (int32_t)want,
					 paged ? (int32_t)*n : 0);
		r = call_run(p, &c, id, KMIP_OP_LOCATE, 1, NULL, err);
		if (!r)
			r = skp_kmip_parse_locate(c.res, uids + *n, want, &got, NULL, err);
		call_free(&c);
		if (r)
			return r;
		*n += got;
		if (!paged || got < want || *n >= max)
			return 0;
	}
}

int skp_provider_query(struct skp_provider *p, struct skp_kmip_query *q, struct skp_err *err)
{
	static const uint32_t funcs[] = { KMIP_QUERY_OPERATIONS, KMIP_QUERY_OBJECTS, KMIP_QUERY_SERVER_INFO };
	struct call c;
	uint32_t id;
	int r;

	if ((r = call_init(p, &c, err)))
		return r;
	id = skp_kmip_add_query(&c.req, funcs, 3);
	r = call_run(p, &c, id, KMIP_OP_QUERY, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_query(c.res, q, err);
	call_free(&c);
	return r;
}

int skp_provider_versions(struct skp_provider *p, struct skp_kmip_version *v, size_t max, size_t *n,
			  struct skp_err *err)
{
	struct call c;
	uint32_t id;
	int r;

	if ((r = call_init(p, &c, err)))
		return r;
	id = skp_kmip_add_discover(&c.req);
	r = call_run(p, &c, id, KMIP_OP_DISCOVER_VERSIONS, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_versions(c.res, v, max, n, err);
	call_free(&c);
	return r;
}

int skp_provider_check(struct skp_provider *p)
{
	size_t i;
	int healthy = 0;

	for (i = 0; i < p->n; i++) {
		struct node *nd = &p->nodes[i];
		int64_t t0 = now_ms(), deadline = t0 + 2LL * p->timeout_ms;
		struct skp_kmip_req req;
		struct skp_kmip_resp resp = { 0 };
		struct skp_err e = { 0 };
		unsigned char *rbuf = NULL;
		size_t rlen = 0;
		uint32_t id;
		int r;

		r = skp_kmip_req_init(&req, &p->opts, &e);
		id = skp_kmip_add_discover(&req);
		if (!r)
			r = skp_kmip_req_finish(&req, &e);
		if (!r)
			r = node_conn(p, nd, deadline, &e);
		if (!r)
			r = skp_tls_send(nd->conn, req.enc.buf, req.enc.len, clip(deadline, p->timeout_ms), NULL, &e);
		if (!r)
			r = node_recv(p, nd, clip(deadline, p->timeout_ms), &rbuf, &rlen, &resp, &e);
		if (!r) {
			const struct skp_kmip_result *res = skp_kmip_resp_find(&resp, id);

			r = res ? skp_kmip_result_check(res, KMIP_OP_DISCOVER_VERSIONS, &e) :
				  skp_err_set(&e, -EPROTO, "no result");
			if (r) {
				skp_err_wrap(&e, "%s", nd->h.addr);
			}
		}
		if (r) {
			node_fail(nd, &e);
		} else {
			node_ok(nd, t0);
			healthy++;
		}
		skp_kmip_req_free(&req);
		skp_kmip_resp_free(&resp);
		if (rbuf)
			skp_secmem_free(rbuf, rlen);
	}
	return healthy;
}

/* ---- batched Gets spread over the nodes ---- */

struct flight {
	struct node *nd;
	struct skp_kmip_req req;
	size_t *idx;		/* key indices, batch item id = position */
	size_t cnt;
	int sent;
	int64_t t0;
};

int skp_provider_get_keks(struct skp_provider *p, const char *const *uids, size_t n,
			  unsigned char **keys, struct skp_err *errs, struct skp_err *err)
{
	return skp_provider_get_keks_states(p, uids, n, keys, NULL, errs, err);
}

int skp_provider_get_keks_states(struct skp_provider *p, const char *const *uids, size_t n,
				 unsigned char **keys, int *states, struct skp_err *errs,
				 struct skp_err *err)
{
	static const char *const state_attr[] = {"State"};
	size_t *pending = NULL, npend = n, i, order[SKP_PROVIDER_MAX_NODES];
	struct flight fl[SKP_PROVIDER_MAX_NODES];
	unsigned char skip[SKP_PROVIDER_MAX_NODES];
	int64_t deadline = now_ms() + 2LL * p->timeout_ms + (int64_t)n * ITEM_COST_MS;
	struct skp_err last = { 0 };
	int round = 0, r = 0, first_err = 0;
	size_t done_ok = 0;

	memset(fl, 0, sizeof(fl));
	for (i = 0; i < n; i++) {
		keys[i] = NULL;
		if (states)
			states[i] = 0;
		if (errs)
			skp_err_set(&errs[i], -EAGAIN, "not fetched");
	}
	if (!n)
		return 0;
	pending = calloc(n, sizeof(*pending));
	if (!pending)
		return skp_err_set(err, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		pending[i] = i;

	while (npend) {
		size_t k = node_order(p, order), kh, nf = 0, per, take = 0, j;
		int progress = 0;

		if (now_ms() >= deadline) {
			r = skp_err_set(err, -ETIMEDOUT, "provider %s: time budget exhausted with %zu keys left; last: %s",
					p->name, npend, last.msg[0] ? last.msg : "none");
			goto out;
		}
		/* Split over the healthy (or untried) nodes, which node_order puts first; the
		 * failing ones only take over keys of a node that fails now, or when no node
		 * is healthy. */
		for (kh = 0; kh < k && p->nodes[order[kh]].h.healthy != 0; kh++)
			;
		if (!kh)
			kh = k;
		per = (npend + kh - 1) / kh;
		if (per > SKP_PROVIDER_BATCH_MAX)
			per = SKP_PROVIDER_BATCH_MAX;
		/* Connect to every node this round will use at once. */
		memset(skip, 0, sizeof(skip));
		nodes_conn(p, order, (npend + per - 1) / per < k ? (npend + per - 1) / per : k, deadline, skip, &last);
		/* Send one batch to each node first, then collect: the nodes work in parallel. */
		for (j = 0; j < k && take < npend; j++) {
			struct flight *f = &fl[nf];
			size_t m = npend - take < per ? npend - take : per, q;

			if (skip[j])
				continue;	/* could not connect: its keys go to the next node */
			memset(f, 0, sizeof(*f));
			f->nd = &p->nodes[order[j]];
			f->idx = pending + take;
			f->cnt = m;
			f->t0 = now_ms();
			r = skp_kmip_req_init(&f->req, &p->opts, err);
			for (q = 0; !r && q < m; q++)
				skp_kmip_add_get(&f->req, uids[f->idx[q]]);
			/* States after the Gets: batch item m + q is key q's. */
			for (q = 0; !r && states && q < m; q++)
				skp_kmip_add_get_attrs(&f->req, uids[f->idx[q]], state_attr, 1);
			if (!r)
				r = skp_kmip_req_finish(&f->req, err);
			if (r) {
				skp_kmip_req_free(&f->req);
				goto out;
			}
			r = node_conn(p, f->nd, deadline, &last);
			if (!r)
				r = skp_tls_send(f->nd->conn, f->req.enc.buf, f->req.enc.len,
						 clip(deadline, p->timeout_ms + (int)m * ITEM_COST_MS), NULL, &last);
			if (r) {
				node_fail(f->nd, &last);
				f->nd->h.n_failover++;
				p->failovers++;
				skp_kmip_req_free(&f->req);
				continue;	/* its keys go to the next node */
			}
			f->sent = 1;
			take += m;
			nf++;
		}
		for (j = 0; j < nf; j++) {
			struct flight *f = &fl[j];
			struct skp_kmip_resp resp;
			unsigned char *rbuf = NULL;
			size_t rlen = 0, q;

			r = node_recv(p, f->nd, clip(deadline, p->timeout_ms + (int)f->cnt * ITEM_COST_MS),
				      &rbuf, &rlen, &resp, &last);
			if (r) {
				node_fail(f->nd, &last);
				f->nd->h.n_failover++;
				p->failovers++;
				f->sent = 0;	/* keys stay pending */
				continue;
			}
			node_ok(f->nd, f->t0);
			progress = 1;
			for (q = 0; q < f->cnt; q++) {
				size_t ki = f->idx[q];
				const struct skp_kmip_result *res = skp_kmip_resp_find(&resp, (uint32_t)q);
				struct skp_err e = { 0 };
				unsigned char *key = NULL;
				size_t klen = 0;
				int kr;

				if (!res)
					kr = skp_err_set(&e, -EPROTO, "KMIP: no result for batch item %zu", q);
				else if (!(kr = skp_kmip_result_check(res, KMIP_OP_GET, &e)) &&
					 !(kr = skp_kmip_parse_get_key(res, &key, &klen, &e)) &&
					 klen != SKP_KEK_LEN) {
					skp_secmem_free(key, klen);
					key = NULL;
					kr = skp_err_set(&e, -EPROTO, "key is %zu bytes, not %d", klen, SKP_KEK_LEN);
				}
				if (kr) {
					skp_err_wrap(&e, "key %.100s", uids[ki]);
					if (errs)
						errs[ki] = e;
					if (!first_err) {
						first_err = kr;
						if (err)
							*err = e;
					}
				} else {
					keys[ki] = key;
					done_ok++;
					if (errs)
						skp_err_clear(&errs[ki]);
				}
				res = states ? skp_kmip_resp_find(&resp, (uint32_t)(f->cnt + q)) : NULL;
				if (res && !skp_kmip_result_check(res, KMIP_OP_GET_ATTRIBUTES, NULL)) {
					struct skp_key_attrs a;

					if (!skp_kmip_parse_attrs(res, &a, NULL))
						states[ki] = a.state;
				}
			}
			skp_kmip_resp_free(&resp);
			skp_secmem_free(rbuf, rlen);
		}
		/* Compact: keep keys of batches that did not complete. */
		{
			size_t w = 0;

			for (j = 0; j < nf; j++) {
				size_t q;

				if (fl[j].sent)
					continue;
				for (q = 0; q < fl[j].cnt; q++)
					pending[w++] = fl[j].idx[q];
			}
			for (j = take; j < npend; j++)
				pending[w++] = pending[j];
			npend = w;
		}
		for (j = 0; j < nf; j++)
			skp_kmip_req_free(&fl[j].req);
		if (first_err && !errs) {
			r = first_err;
			goto out;
		}
		if (!progress && npend) {
			if (++round > p->retries) {
				skp_err_set(err, last.code ? last.code : -EIO, "%s", last.msg);
				r = skp_err_wrap(err, "provider %s: all %zu KMS node(s) failed", p->name, p->n);
				goto out;
			}
			sleep_ms(100LL << (round - 1) > 1000 ? 1000 : 100LL << (round - 1));
		}
	}
	r = first_err;
out:
	if (npend && errs && err)
		for (i = 0; i < npend; i++)
			errs[pending[i]] = *err;
	if (r && !errs) {
		for (i = 0; i < n; i++) {
			skp_secmem_free(keys[i], SKP_KEK_LEN);
			keys[i] = NULL;
		}
	}
	(void)done_ok;
	free(pending);
	return r;
}
