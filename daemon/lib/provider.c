// SPDX-License-Identifier: GPL-2.0
/*
 * Every operation is a job for one exchange loop, exchange(): it shares the job's items
 * out over the nodes (plan), connects, sends every request, then collects every answer
 * (fly), marks node health and moves a failed node's items on (settle), and retries
 * passes with backoff.  A single request is a job of one item, a batched Get one of
 * many, a health probe one item pinned to each node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "jitter.h"
#include "provider.h"
#include "secmem.h"
#include "tls.h"

#define LOCATE_PAGE	100
#define NEGOTIATE_MINOR	1	/* Discover Versions appeared in KMIP 1.1 */
#define VERSIONS_MAX	32	/* versions read from a Discover Versions answer */

struct node {
	struct skp_node_health h;	/* h.kmip_minor: -1 until negotiated */
	char host[256];
	unsigned int port;
	struct skp_tls_conn *conn;
	int conf_minor;			/* configured KMIP 1.x minor, -1 = negotiate ("auto") */
	/* How long this node takes to answer (TCP's RTO estimator, RFC 6298): the wait for
	 * an answer is at least the exchange time, longer for a node seen slower, doubled
	 * by each timeout until an answer comes. */
	int64_t srtt_ms, rttvar_ms;	/* 0: no answer timed yet */
	int64_t rto_ms;
};

struct skp_provider {
	char name[64];
	struct skp_tls_ctx *tls;
	struct skp_kmip_opts opts;
	char *username;
	char *password;			/* secmem (locked, wiped on free) */
	size_t password_size;
	/* What every Create carries beside skp's own attributes (opts.create_attrs). */
	char policy[SKP_CREATE_TEXT_MAX], group[SKP_CREATE_TEXT_MAX];
	struct skp_create_attr attrs[SKP_MAX_CREATE_ATTRS];
	struct skp_kmip_attr create_attrs[SKP_MAX_CREATE_ATTRS + 2];
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

/* Copies of the conf's Create settings, listed in opts for the Create builder. */
static void copy_create_attrs(struct skp_provider *p, const struct skp_provider_conf *c)
{
	struct skp_kmip_attr *a = p->create_attrs;
	size_t n = 0;

	snprintf(p->policy, sizeof(p->policy), "%s", c->operation_policy_name);
	snprintf(p->group, sizeof(p->group), "%s", c->object_group);
	if (p->policy[0])
		a[n++] = (struct skp_kmip_attr){ "Operation Policy Name", p->policy };
	if (p->group[0])
		a[n++] = (struct skp_kmip_attr){ "Object Group", p->group };
	for (size_t i = 0; i < c->n_attrs && i < SKP_MAX_CREATE_ATTRS; i++) {
		p->attrs[i] = c->attrs[i];
		a[n++] = (struct skp_kmip_attr){ p->attrs[i].name, p->attrs[i].value };
	}
	p->opts.create_attrs = a;
	p->opts.n_create_attrs = n;
}

struct skp_provider *skp_provider_new(const struct skp_provider_conf *c, struct skp_err *err)
{
	struct skp_tls_cfg tc = { c->ca, c->cert, c->key, c->tpm_tcti };
	struct skp_provider *p;
	size_t i;

	if (!c->n_servers || c->n_servers > SKP_PROVIDER_MAX_NODES) {
		skp_err_set(err, -EINVAL, "a provider needs 1 to %d servers", SKP_PROVIDER_MAX_NODES);
		return NULL;
	}
	if (c->protocol_minor < -1 || c->protocol_minor > SKP_KMIP_MINOR_MAX) {
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
	p->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : SKP_PROVIDER_TIMEOUT_MS;
	p->retries = c->retries > 0 ? c->retries : 0;
	p->opts.major = 1;
	p->opts.minor = c->protocol_minor < 0 ? NEGOTIATE_MINOR : c->protocol_minor;
	p->opts.max_response = SKP_TTLV_MAX_MSG;
	for (i = 0; i < p->n; i++)
		p->nodes[i].h.kmip_minor = p->nodes[i].conf_minor = c->protocol_minor;
	if (copy_credential(p, c, err))
		goto fail;
	copy_create_attrs(p, c);
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

void skp_provider_note_health(struct skp_provider *p, size_t i, const struct skp_node_health *h)
{
	struct node *nd;

	if (i >= p->n || h->healthy < 0)
		return;
	nd = &p->nodes[i];
	if (h->healthy == 1) {
		nd->h.healthy = 1;
		nd->h.failing_since = 0;
		nd->h.consecutive_fails = 0;
		nd->h.last_success = h->last_success;
		nd->h.latency_ms = h->latency_ms;
		return;
	}
	if (nd->h.healthy != 0 || !nd->h.failing_since)
		nd->h.failing_since = h->failing_since ? h->failing_since : time(NULL);
	nd->h.healthy = 0;
	nd->h.consecutive_fails++;
	snprintf(nd->h.last_error, sizeof(nd->h.last_error), "%s", h->last_error);
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

static void node_close(struct node *nd)
{
	skp_tls_close(nd->conn);
	nd->conn = NULL;
}

static void node_fail(struct node *nd, const struct skp_err *e)
{
	if (nd->h.healthy != 0 || !nd->h.failing_since)
		nd->h.failing_since = time(NULL);
	nd->h.healthy = 0;
	snprintf(nd->h.last_error, sizeof(nd->h.last_error), "%s", e->msg);
	nd->h.n_fail++;
	nd->h.consecutive_fails++;
	nd->h.kmip_minor = nd->conf_minor;	/* "auto": negotiate again, it may have changed */
	node_close(nd);
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

/* ---- the exchange loop: every operation goes through exchange() ---- */

struct flight;

/*
 * What an operation gives the exchange loop.  Its work is n items: the keys of a batched
 * Get, one per node for a health probe, 1 for a single request.  They travel in
 * requests of up to per_req items, one request per node at a time.
 */
struct job {
	size_t n, per_req;
	size_t per_item;	/* batch items build() adds per item */
	int idempotent;		/* 0: a request sent but not answered ends the job (-EINPROGRESS) */
	int probe;		/* item i is node i's, tried once: no failover, no retry */
	/* Adds the items' batch items to r, encoded for the node's version (r->minor). */
	void (*build)(struct job *job, struct skp_kmip_req *r, const size_t *items, size_t cnt);
	/* A node answered for the items: read f->resp (taking f->rbuf and f->resp is allowed).
	 * Nonzero, with e set, says the answer shows the node broken (a failed probe). */
	int (*answer)(struct job *job, struct flight *f, struct skp_err *e);
	void *ctx;
	int stop;		/* set by answer(): the loop ends and returns it */
	const struct node *avoid;	/* tried only when no other node is left (NULL: none) */
};

/* One request to one node. */
struct flight {
	struct node *nd;
	size_t *items, cnt;
	struct skp_kmip_req req;
	unsigned char *rbuf;
	size_t rlen;
	struct skp_kmip_resp resp;
	int64_t t0, t_sent;
	int reused, sent, failed;
	int waitable;			/* not a probe: may be waited for past the budget */
	const unsigned char *pass_failed;	/* nodes failed in this pass (struct pass_state) */
	struct skp_err err;
	const char *what;		/* what failed, for the message, if not the request */
};

static void flight_init(struct flight *f, struct node *nd, size_t *items, size_t cnt)
{
	memset(f, 0, sizeof(*f));
	f->nd = nd;
	f->items = items;
	f->cnt = cnt;
	f->t0 = now_ms();
}

static void flights_free(struct flight *fl, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		skp_kmip_req_free(&fl[i].req);
		skp_kmip_resp_free(&fl[i].resp);
		if (fl[i].rbuf)
			skp_secmem_free(fl[i].rbuf, fl[i].rlen);
		fl[i].rbuf = NULL;
	}
}

/* f->err says why; the node is failing from now on. */
static void flight_fail(struct flight *f)
{
	if (f->what)
		skp_err_wrap(&f->err, "%s", f->what);
	f->failed = 1;
	node_fail(f->nd, &f->err);
}

/* Time for one exchange: the server works on every batch item. */
static int exchange_ms(const struct skp_provider *p, size_t cnt)
{
	return p->timeout_ms + (int)cnt * SKP_PROVIDER_ITEM_COST_MS;
}

/* The longest a sent request of cnt items is waited for. */
static int64_t wait_max_ms(const struct skp_provider *p, size_t cnt)
{
	return (int64_t)SKP_PROVIDER_WAIT_FACTOR * exchange_ms(p, cnt);
}

/* The first wait for an answer from nd: the exchange time, or what the node needed lately. */
static int64_t wait_ms(const struct skp_provider *p, const struct node *nd, size_t cnt)
{
	int64_t w = exchange_ms(p, cnt), max = wait_max_ms(p, cnt);

	if (nd->rto_ms > w)
		w = nd->rto_ms;
	return w < max ? w : max;
}

/* An answer came ms after the request left: the node's wait follows it (RFC 6298, 2.3). */
static void node_timed(struct node *nd, int64_t ms)
{
	if (!nd->srtt_ms) {
		nd->srtt_ms = ms > 0 ? ms : 1;
		nd->rttvar_ms = ms / 2;
	} else {
		int64_t d = nd->srtt_ms - ms;

		nd->rttvar_ms = (3 * nd->rttvar_ms + (d < 0 ? -d : d)) / 4;
		nd->srtt_ms = (7 * nd->srtt_ms + ms) / 8;
	}
	nd->rto_ms = nd->srtt_ms + 4 * nd->rttvar_ms;
}

/* No answer within waited ms: the node's next request waits twice as long (RFC 6298, 5.5). */
static void node_backoff(const struct skp_provider *p, struct node *nd, int64_t waited, size_t cnt)
{
	int64_t max = wait_max_ms(p, cnt);

	if (nd->rto_ms < 2 * waited)
		nd->rto_ms = 2 * waited < max ? 2 * waited : max;
}

/*
 * Gives every flight's node a live connection, opening the missing ones all at once
 * (connects and handshakes interleaved: k nodes cost one handshake time, not k).  An
 * idle connection the server dropped is reopened.
 */
static void connect_all(struct skp_provider *p, struct flight *fl, size_t nf, int64_t deadline)
{
	struct skp_tls_target t[SKP_PROVIDER_MAX_NODES];
	struct skp_tls_conn *conns[SKP_PROVIDER_MAX_NODES];
	struct skp_err errs[SKP_PROVIDER_MAX_NODES];
	size_t i, m = 0, pos[SKP_PROVIDER_MAX_NODES];
	int tmo = clip(deadline, p->timeout_ms);

	for (i = 0; i < nf; i++) {
		struct node *nd = fl[i].nd;

		if (nd->conn && skp_tls_check_idle(nd->conn))
			node_close(nd);
		fl[i].reused = nd->conn != NULL;
		if (nd->conn || fl[i].failed)
			continue;
		if (tmo <= 0) {
			skp_err_set(&fl[i].err, -ETIMEDOUT, "%s: operation time budget exhausted", nd->h.addr);
			flight_fail(&fl[i]);
			continue;
		}
		t[m].host = nd->host;
		t[m].port = nd->port;
		memset(&errs[m], 0, sizeof(errs[m]));
		pos[m++] = i;
	}
	if (!m)
		return;
	skp_tls_connect_many(p->tls, t, m, tmo, conns, errs);
	for (i = 0; i < m; i++) {
		struct flight *f = &fl[pos[i]];

		f->nd->conn = conns[i];
		if (!conns[i]) {
			f->err = errs[i];
			flight_fail(f);
		}
	}
}

/*
 * Sends every flight's request.  A reused connection the server dropped while idle gets
 * one fresh try on the same node when nothing can have been processed.
 */
static void send_all(struct skp_provider *p, struct flight *fl, size_t nf, int idempotent, int64_t deadline)
{
	for (size_t i = 0; i < nf; i++) {
		struct flight *f = &fl[i];
		struct node *nd = f->nd;
		int t = clip(deadline, exchange_ms(p, f->cnt)), r;

		if (f->failed)
			continue;
		r = skp_tls_send(nd->conn, f->req.enc.buf, f->req.enc.len, t, &f->sent, &f->err);
		if (r && f->reused && (!f->sent || idempotent)) {
			node_close(nd);
			f->sent = 0;
			r = skp_tls_connect(p->tls, nd->host, nd->port, clip(deadline, p->timeout_ms), &nd->conn,
					    &f->err);
			if (!r)
				r = skp_tls_send(nd->conn, f->req.enc.buf, f->req.enc.len, clip(deadline, t),
						 &f->sent, &f->err);
		}
		if (r)
			flight_fail(f);
		f->t_sent = now_ms();
	}
}

/*
 * Whether f's items have nowhere else to go should its node not answer in time: no other
 * node healthy (or untried) and not failed in this pass.  Then the request is waited for
 * on.  A node known failing is no such place: giving up a live node's work for it would
 * only bring the work back later.  Asked again at each timeout: another node may have
 * failed meanwhile.  A probe asks whether the node answers in time: it keeps its budget.
 */
static int may_wait(const struct skp_provider *p, const struct flight *f)
{
	if (!f->waitable)
		return 0;
	for (size_t j = 0; j < p->n; j++)
		if (&p->nodes[j] != f->nd && !(f->pass_failed && f->pass_failed[j]) && p->nodes[j].h.healthy != 0)
			return 0;
	return 1;
}

/*
 * Waits for f's answer to begin.  A node that takes longer than its wait is slow or
 * gone: the next request to it waits twice as long.  If another node can take the items
 * they go there; if not, the request already sent is waited for on (twice as long each
 * time, up to wait_max_ms), never sent again: a busy KMS would do the work twice, and a
 * fleet that resends to a loaded KMS keeps it loaded with work nobody waits for.
 */
static int await_answer(struct skp_provider *p, struct flight *f, int64_t deadline)
{
	struct node *nd = f->nd;
	int64_t w = wait_ms(p, nd, f->cnt), max = wait_max_ms(p, f->cnt), until = f->t_sent + w;

	if (!may_wait(p, f) && until > deadline)
		until = deadline;
	for (;;) {
		int64_t left = until - now_ms();
		int r = skp_tls_wait_answer(nd->conn, left > 0 ? (int)left : 0);

		if (r != -ETIMEDOUT) {
			if (r)
				return skp_err_set(&f->err, r, "%s: waiting for the answer: %s", nd->h.addr,
						   strerror(-r));
			return 0;
		}
		node_backoff(p, nd, w, f->cnt);
		if (!may_wait(p, f) || w >= max)
			return skp_err_set(&f->err, -ETIMEDOUT, "%s: no answer in %.1f s", nd->h.addr,
					   (double)(now_ms() - f->t_sent) / 1000);
		w = 2 * w < max ? 2 * w : max;
		until = f->t_sent + w;
	}
}

/* Collects every answer, in sending order: the nodes worked in parallel meanwhile. */
static void recv_all(struct skp_provider *p, struct flight *fl, size_t nf, int64_t deadline)
{
	for (size_t i = 0; i < nf; i++) {
		struct flight *f = &fl[i];
		int r;

		if (f->failed)
			continue;
		r = await_answer(p, f, deadline);
		/* The answer has begun: the rest of it comes at network speed. */
		if (!r) {
			node_timed(f->nd, now_ms() - f->t_sent);
			r = skp_tls_recv(f->nd->conn, SKP_TTLV_MAX_MSG, exchange_ms(p, f->cnt), &f->rbuf, &f->rlen,
					 &f->err);
		}
		/* An answer that is not to this request fails the node like a broken one. */
		if (!r && (r = skp_kmip_resp_parse_req(f->rbuf, f->rlen, &f->req, &f->resp, &f->err)))
			skp_err_wrap(&f->err, "%s: malformed response", f->nd->h.addr);
		if (r)
			flight_fail(f);
	}
}

/* ---- protocol "auto": Discover Versions before a node's first request ---- */

static void versions_text(const struct skp_kmip_version *v, size_t n, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && len < size; i++) {
		int w = snprintf(buf + len, size - len, "%s%d.%d", i ? ", " : "", v[i].major, v[i].minor);

		len += w > 0 ? (size_t)w : 0;
	}
}

/* The node's answer to Discover Versions: the highest version both sides speak. */
static int node_version(struct flight *g, struct skp_err *e)
{
	const struct skp_kmip_result *res = skp_kmip_resp_find(&g->resp, 0);
	struct skp_kmip_version v[VERSIONS_MAX];
	size_t n = 0;
	char offered[64];
	int r, minor;

	r = res ? skp_kmip_result_check(res, KMIP_OP_DISCOVER_VERSIONS, e) :
		  skp_err_set(e, -EPROTO, "KMIP: no result");
	if (!r)
		r = skp_kmip_parse_versions(res, v, VERSIONS_MAX, &n, e);
	if (!r && (minor = skp_kmip_pick_version(v, n)) < 0) {
		versions_text(v, n, offered, sizeof(offered));
		r = n ? skp_err_set(e, -EPROTONOSUPPORT, "no common version: the server offers %s, skp 1.0 to 1.%d",
				    offered, SKP_KMIP_MINOR_MAX) :
			skp_err_set(e, -EPROTONOSUPPORT, "the server offers no protocol version");
	}
	if (r)
		return skp_err_wrap(e, "%s", g->nd->h.addr);
	g->nd->h.kmip_minor = minor;
	return 0;
}

/*
 * Nodes not negotiated with yet (new, or failed since) are asked Discover Versions in
 * KMIP 1.1, all at once like requests.  A node that cannot say (no common version, a
 * malformed or KMIP error answer) is failing, as one that does not connect.
 */
static void negotiate_all(struct skp_provider *p, struct flight *fl, size_t nf, int64_t deadline)
{
	struct flight nego[SKP_PROVIDER_MAX_NODES];
	size_t i, m = 0, pos[SKP_PROVIDER_MAX_NODES];

	for (i = 0; i < nf; i++) {
		struct flight *g = &nego[m];

		if (fl[i].failed || fl[i].nd->h.kmip_minor >= 0)
			continue;
		flight_init(g, fl[i].nd, NULL, 1);
		g->reused = fl[i].reused;
		g->waitable = fl[i].waitable;
		g->pass_failed = fl[i].pass_failed;
		g->what = "KMIP version negotiation";
		if (skp_kmip_req_init(&g->req, &p->opts, &g->err) ||
		    (skp_kmip_add_discover(&g->req), skp_kmip_req_finish(&g->req, &g->err)))
			g->failed = 1;		/* cannot happen: a fixed request */
		pos[m++] = i;
	}
	send_all(p, nego, m, 1, deadline);
	recv_all(p, nego, m, deadline);
	for (i = 0; i < m; i++) {
		struct flight *f = &fl[pos[i]], *g = &nego[i];

		if (!g->failed && node_version(g, &g->err))
			flight_fail(g);
		if (g->failed) {
			f->err = g->err;
			f->failed = 1;
		}
	}
	flights_free(nego, m);
}

/* The flight's request in the version its node speaks.  A failure is the operation's
 * (a name too long to encode), not the node's. */
static int build(struct skp_provider *p, struct job *job, struct flight *f, struct skp_err *err)
{
	struct skp_kmip_opts o = p->opts;
	int r;

	o.minor = f->nd->h.kmip_minor;
	/* A batch asks the server to go on past a failed item (a key it refuses or lacks):
	 * under the default, Stop, PyKMIP leaves the items after it unanswered. */
	o.batch_continue = o.batch_continue || f->cnt * job->per_item > 1;
	r = skp_kmip_req_init(&f->req, &o, err);
	if (r)
		return r;
	job->build(job, &f->req, f->items, f->cnt);
	if (f->req.n_items != f->cnt * job->per_item)
		return skp_err_set(err, -EINVAL, "internal: %u batch items built for %zu expected",
				   f->req.n_items, f->cnt * job->per_item);
	return skp_kmip_req_finish(&f->req, err);
}

/* Connect, send everything, then receive everything. */
static int fly(struct skp_provider *p, struct job *job, struct flight *fl, size_t nf, int64_t deadline,
	       struct skp_err *err)
{
	size_t i;
	int r;

	connect_all(p, fl, nf, deadline);
	negotiate_all(p, fl, nf, deadline);
	for (i = 0; i < nf; i++)
		if (!fl[i].failed && (r = build(p, job, &fl[i], err)))
			return r;
	send_all(p, fl, nf, job->idempotent, deadline);
	recv_all(p, fl, nf, deadline);
	return 0;
}

/*
 * Shares the pending items out as flights, one per node: over the healthy (or untried)
 * nodes not failed in this pass, the failing ones only when no healthy one is left; at
 * most per_req items a request.  A probe's item i goes to node i.
 */
static size_t plan(struct skp_provider *p, const struct job *job, size_t *pending, size_t npend,
		   const unsigned char *failed, struct flight *fl)
{
	size_t order[SKP_PROVIDER_MAX_NODES], use[SKP_PROVIDER_MAX_NODES];
	size_t k, i, nu = 0, kh, per, take = 0, nf = 0;

	if (job->probe) {
		for (i = 0; i < npend; i++)
			flight_init(&fl[i], &p->nodes[pending[i]], &pending[i], 1);
		return npend;
	}
	k = node_order(p, order);
	for (i = 0; i < k; i++)
		if (!failed[order[i]])
			use[nu++] = order[i];
	for (i = 0; job->avoid && nu > 1 && i < nu; i++)
		if (&p->nodes[use[i]] == job->avoid) {
			memmove(&use[i], &use[i + 1], (nu - i - 1) * sizeof(use[0]));
			nu--;
			break;
		}
	for (kh = 0; kh < nu && p->nodes[use[kh]].h.healthy != 0; kh++)
		;
	if (!kh)
		kh = nu;
	if (!kh)
		return 0;
	per = (npend + kh - 1) / kh;
	if (per > job->per_req)
		per = job->per_req;
	for (i = 0; i < kh && take < npend; i++) {
		size_t m = npend - take < per ? npend - take : per;

		flight_init(&fl[nf++], &p->nodes[use[i]], pending + take, m);
		take += m;
	}
	return nf;
}

/* Per operation: what the nodes did so far. */
struct pass_state {
	unsigned char failed[SKP_PROVIDER_MAX_NODES];	/* in this pass: not tried again in it */
	unsigned char owe[SKP_PROVIDER_MAX_NODES];	/* failed; its work not yet moved on */
	struct skp_err last;
	int tried;
};

/* The flights' items may be waited for (a probe's not), knowing what failed in this pass. */
static void mark_may_wait(const struct job *job, const struct pass_state *ps, struct flight *fl, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		fl[i].waitable = !job->probe;
		fl[i].pass_failed = ps->failed;
	}
}

/* A node whose work now goes to another node counts a failover. */
static void count_failovers(struct skp_provider *p, struct pass_state *ps, const struct flight *fl, size_t nf)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!ps->owe[i])
			continue;
		ps->owe[i] = 0;
		for (size_t j = 0; j < nf; j++) {
			if (fl[j].nd != &p->nodes[i]) {
				p->nodes[i].h.n_failover++;
				p->failovers++;
				break;
			}
		}
	}
}

/*
 * After fly(): answers go to the job and mark their node healthy; failures mark the
 * node failed for this pass.  -EINPROGRESS when a request that must not be repeated was
 * sent and not answered.
 */
static int settle(struct skp_provider *p, struct job *job, struct flight *fl, size_t nf, struct pass_state *ps,
		  struct skp_err *err)
{
	int r = 0;

	for (size_t i = 0; i < nf; i++) {
		struct flight *f = &fl[i];
		size_t ni = (size_t)(f->nd - p->nodes);

		if (!f->failed) {
			if (job->answer(job, f, &f->err))
				flight_fail(f);
			else
				node_ok(f->nd, f->t0);
		}
		if (!f->failed)
			continue;
		ps->last = f->err;
		ps->failed[ni] = 1;
		ps->owe[ni] = !job->probe;
		if (!job->idempotent && f->sent)
			r = skp_err_set(err, -EINPROGRESS, "outcome unknown: %s", f->err.msg);
	}
	return r;
}

/* Drops the items that were answered (and a probe's failed ones): the rest stay pending. */
static size_t requeue(const struct job *job, const struct flight *fl, size_t nf, size_t *pending, size_t npend)
{
	size_t w = 0, taken = 0;

	for (size_t i = 0; i < nf; i++) {
		taken += fl[i].cnt;
		if (!fl[i].failed || job->probe)
			continue;
		for (size_t q = 0; q < fl[i].cnt; q++)
			pending[w++] = fl[i].items[q];	/* never ahead of the reading */
	}
	for (size_t j = taken; j < npend; j++)
		pending[w++] = pending[j];
	return w;
}

static int gave_up(struct skp_provider *p, const struct job *job, size_t npend, const struct pass_state *ps,
		   int late, struct skp_err *err)
{
	if (!ps->tried)
		return skp_err_setc(err, SKP_ERRC_KMS_DOWN, -ETIMEDOUT, "provider %s: no KMS node could be tried in time",
				    p->name);
	skp_err_set(err, ps->last.code ? ps->last.code : -EIO, "%s", ps->last.msg);
	/* A node that answered "no" said so for the KMS; else none could be reached. */
	skp_err_class(err, ps->last.cls == SKP_ERRC_KEY_REFUSED ? SKP_ERRC_KEY_REFUSED : SKP_ERRC_KMS_DOWN);
	if (npend < job->n)
		return skp_err_wrap(err, "provider %s: %zu of %zu items left (%d attempt(s)%s); last", p->name,
				    npend, job->n, ps->tried, late ? ", time budget exhausted" : "");
	return skp_err_wrap(err, "provider %s: all %zu KMS node(s) failed (%d attempt(s)%s); last", p->name,
			    p->n, ps->tried, late ? ", time budget exhausted" : "");
}

/* Before pass 1, 2, 3 ...: a step of 100 ms, doubling, at most 1 s; the delay is drawn
 * from the step's upper half (50-100 ms, ...), so hosts that lost a node together do not
 * retry together (lib/jitter.h). */
static int64_t backoff_ms(int pass)
{
	int64_t b = 100LL << (pass < 5 ? pass - 1 : 4);

	return (int64_t)skp_jitter((double)(b < 1000 ? b : 1000));
}

/*
 * Runs a job: rounds of plan (share the items out), fly (connect, send, receive) and
 * settle (answers, node health), until every item is answered.  A node that fails is
 * out for the rest of the pass and its items go to the others; once every node failed,
 * up to p->retries more passes, after a jittered backoff of 100 ms doubling up to 1 s.  The
 * budget is 2 x timeout_ms + SKP_PROVIDER_ITEM_COST_MS per item: no attempt starts past it, and none
 * runs past it but a request no other node can take (await_answer).  A round that got
 * answers gives the items left a budget of their own: a slow node that answered late
 * still takes over a dead node's share.
 * pending[0..*npend) are the items left; on failure, those not answered.
 */
static int exchange(struct skp_provider *p, struct job *job, size_t *pending, size_t *npend, int *unknown,
		    struct skp_err *err)
{
	int64_t deadline = now_ms() + 2LL * p->timeout_ms + (int64_t)job->n * SKP_PROVIDER_ITEM_COST_MS;
	struct flight fl[SKP_PROVIDER_MAX_NODES];
	struct pass_state ps;
	int pass, r, late = 0;

	memset(&ps, 0, sizeof(ps));
	if (unknown)
		*unknown = 0;
	for (pass = 0; *npend; pass++) {
		size_t nf;

		if (pass) {
			int64_t b = backoff_ms(pass);

			late = pass <= p->retries && now_ms() + b >= deadline;
			if (job->probe || pass > p->retries || late)
				break;
			sleep_ms(b);
		}
		memset(ps.failed, 0, sizeof(ps.failed));
		while (*npend && (nf = plan(p, job, pending, *npend, ps.failed, fl)) > 0) {
			if (now_ms() >= deadline)
				return gave_up(p, job, *npend, &ps, 1, err);
			ps.tried += (int)nf;
			count_failovers(p, &ps, fl, nf);
			mark_may_wait(job, &ps, fl, nf);
			r = fly(p, job, fl, nf, deadline, err);
			if (!r) {
				int64_t fresh;
				size_t answered = 0;

				r = settle(p, job, fl, nf, &ps, err);
				*npend = requeue(job, fl, nf, pending, *npend);
				for (size_t i = 0; i < nf; i++)
					answered += !fl[i].failed;
				fresh = now_ms() + 2LL * p->timeout_ms + (int64_t)*npend * SKP_PROVIDER_ITEM_COST_MS;
				if (answered && fresh > deadline)
					deadline = fresh;
			}
			flights_free(fl, nf);
			if (r == -EINPROGRESS && unknown)
				*unknown = 1;
			if (r)
				return r;
			if (job->stop)
				return job->stop;
		}
	}
	return *npend ? gave_up(p, job, *npend, &ps, late, err) : 0;
}

/* ---- single requests ---- */

static const char *const attr_names[] = {
	"State", "Name", "Cryptographic Length", "Cryptographic Algorithm",
	"Cryptographic Usage Mask", "Object Type",
};

/* One operation as a job of one item, and its answer. */
struct call {
	uint32_t op, id;
	const char *uid, *name, *msg;
	uint32_t reason;		/* Revoke */
	size_t max, done, want;		/* Locate: uids wanted, found so far, asked of this request */
	int paged;			/* Locate with Offset Items (1.3+) */
	unsigned char *rbuf;
	size_t rlen;
	struct skp_kmip_resp resp;
	const struct skp_kmip_result *res;
};

static void call_init(struct call *c, uint32_t op)
{
	memset(c, 0, sizeof(*c));
	c->op = op;
}

static void call_free(struct call *c)
{
	skp_kmip_resp_free(&c->resp);
	if (c->rbuf)
		skp_secmem_free(c->rbuf, c->rlen);
	memset(c, 0, sizeof(*c));
}

/* Offset Items came with 1.3: below it, one request asks for everything from the start. */
static uint32_t add_locate(struct call *c, struct skp_kmip_req *r)
{
	c->paged = r->minor >= 3;
	c->want = c->max - (c->paged ? c->done : 0);
	if (c->paged && c->want > LOCATE_PAGE)
		c->want = LOCATE_PAGE;
	if (c->want > INT32_MAX)
		c->want = INT32_MAX;
	return skp_kmip_add_locate(r, c->name, KMIP_OBJ_SYMMETRIC_KEY, (int32_t)c->want,
				   c->paged ? (int32_t)c->done : 0);
}

static void call_build(struct job *job, struct skp_kmip_req *r, const size_t *items, size_t cnt)
{
	static const uint32_t query[] = { KMIP_QUERY_OPERATIONS, KMIP_QUERY_OBJECTS, KMIP_QUERY_SERVER_INFO };
	struct call *c = job->ctx;

	(void)items;
	(void)cnt;
	switch (c->op) {
	case KMIP_OP_CREATE:
		c->id = skp_kmip_add_create(r, KMIP_ALG_AES, 256, SKP_KMIP_KEK_USAGE_MASK, c->name);
		break;
	case KMIP_OP_ACTIVATE:
		c->id = skp_kmip_add_activate(r, c->uid);
		break;
	case KMIP_OP_DESTROY:
		c->id = skp_kmip_add_destroy(r, c->uid);
		break;
	case KMIP_OP_REVOKE:
		c->id = skp_kmip_add_revoke(r, c->uid, c->reason, c->msg);
		break;
	case KMIP_OP_GET:
		c->id = skp_kmip_add_get(r, c->uid);
		break;
	case KMIP_OP_GET_ATTRIBUTES:
		c->id = skp_kmip_add_get_attrs(r, c->uid, attr_names, sizeof(attr_names) / sizeof(attr_names[0]));
		break;
	case KMIP_OP_LOCATE:
		c->id = add_locate(c, r);
		break;
	case KMIP_OP_QUERY:
		c->id = skp_kmip_add_query(r, query, sizeof(query) / sizeof(query[0]));
		break;
	default:
		c->id = skp_kmip_add_discover(r);
		break;
	}
}

/* The response becomes the call's. */
static int call_answer(struct job *job, struct flight *f, struct skp_err *e)
{
	struct call *c = job->ctx;

	(void)e;
	c->rbuf = f->rbuf;
	c->rlen = f->rlen;
	c->resp = f->resp;
	f->rbuf = NULL;
	memset(&f->resp, 0, sizeof(f->resp));
	return 0;
}

/* Runs c and checks its result.  idempotent == 0: see struct job (*unknown). */
static int call_run(struct skp_provider *p, struct call *c, int idempotent, int *unknown, struct skp_err *err)
{
	struct job job = { .n = 1, .per_req = 1, .per_item = 1, .idempotent = idempotent, .build = call_build,
			   .answer = call_answer, .ctx = c };
	size_t item = 0, npend = 1;
	int r = exchange(p, &job, &item, &npend, unknown, err);

	if (r)
		return r;
	c->res = skp_kmip_resp_find(&c->resp, c->id);
	if (!c->res)
		return skp_err_set(err, -EPROTO, "KMIP: no result for batch item %u", c->id);
	return skp_kmip_result_check(c->res, c->op, err);
}

int skp_provider_create(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			struct skp_err *err)
{
	struct call c;
	int r, unknown;

	call_init(&c, KMIP_OP_CREATE);
	c.name = name;
	r = call_run(p, &c, 0, &unknown, err);
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

/*
 * Activates a new KEK.  Servers differ: some create keys Pre-Active, some Active, and of
 * the latter some refuse Activate.  So a refusal is checked against the key's State:
 * Active is what was wanted.
 */
static int activate_kek(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	struct skp_key_attrs a;
	struct skp_err ae = { 0 };
	int r = skp_provider_activate(p, uid, &ae);

	if (!r)
		return 0;
	if (ae.cls != SKP_ERRC_KEY_REFUSED) {	/* no node answered: the State would not come either */
		if (err)
			*err = ae;
		return r;
	}
	if (skp_provider_get_attrs(p, uid, &a, err))
		return skp_err_wrap(err, "Activate refused (%s), and the State could not be read", ae.msg);
	if (a.state == 2)
		return 0;
	return skp_err_setc(err, SKP_ERRC_KEY_REFUSED, r, "Activate refused (%s), and the key is %s, not Active",
			    ae.msg, a.state ? skp_kmip_state_name((uint32_t)a.state) : "of no State");
}

/* A key Create made as skp asks it: AES-256 symmetric key named name. */
static int is_our_kek(const struct skp_key_attrs *a, const char *name)
{
	char shown[SKP_KMIP_NAME_MAX];

	/* parse_attrs keeps the Name escaped: compare like with like */
	skp_str_escape(shown, sizeof(shown), name, strlen(name));
	return a->object_type == KMIP_OBJ_SYMMETRIC_KEY && a->algorithm == KMIP_ALG_AES &&
	       a->crypto_length == 256 && !strcmp(a->name, shown);
}

#define FOUND_MAX	8	/* Locate hits checked; more means the Name filter was not applied */

/*
 * The last Create may have happened: the key with this name, activated, if there is one
 * (1), or none (0).  Every hit is checked (Get Attributes: Name, Object Type, Algorithm,
 * Length), as some servers answer a Name filter with other objects; only an exact match
 * is taken, and none or several of them among the hits is an error, not a guess.
 */
static int find_created(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			struct skp_err *err)
{
	char found[FOUND_MAX][SKP_UID_MAX];
	struct skp_key_attrs a;
	size_t n = 0, match = 0, m = 0;
	int r, state = 0;

	r = skp_provider_locate(p, name, found, FOUND_MAX, &n, err);
	if (r)
		return skp_err_wrap(err, "create %s: outcome unknown and Locate failed", name);
	if (n == 0)
		return 0;
	if (n == FOUND_MAX)
		return skp_err_set(err, -EEXIST, "create %s: outcome unknown, and Locate by this name found %d or "
				   "more objects", name, FOUND_MAX);
	for (size_t i = 0; i < n; i++) {
		if ((r = skp_provider_get_attrs(p, found[i], &a, err)))
			return skp_err_wrap(err, "create %s: outcome unknown, checking Locate's %s", name, found[i]);
		if (!is_our_kek(&a, name))
			continue;
		match++;
		m = i;
		state = a.state;
	}
	/* Hits that are not ours: a server that ignores the Name filter.  The list is
	 * complete (fewer than FOUND_MAX), so none of them is the lost key: create again. */
	if (match == 0)
		return 0;
	if (match > 1)
		return skp_err_set(err, -EEXIST, "create %s: outcome unknown, and of the %zu object(s) Locate found "
				   "by this name %zu are an AES-256 key of that name", name, n, match);
	if (state != 2 && (r = activate_kek(p, found[m], err)))
		return skp_err_wrap(err, "key %s created but not activated", found[m]);
	if (snprintf(uid, uid_size, "%s", found[m]) >= (int)uid_size)
		return skp_err_set(err, -ENAMETOOLONG, "uid too long");
	return 1;
}

int skp_provider_create_kek(struct skp_provider *p, const char *name, char *uid, size_t uid_size,
			    struct skp_err *err)
{
	int attempt, r = -EIO;

	if (!name || !*name)
		return skp_err_set(err, -EINVAL, "a KEK needs a (unique) name");
	for (attempt = 0; attempt <= p->retries + 1; attempt++) {
		struct call c;
		int unknown = 0;

		if (attempt && (r = find_created(p, name, uid, uid_size, err)))
			return r < 0 ? r : 0;
		/* Create and Activate travel in two exchanges: KMIP allows an Activate with
		 * the ID Placeholder in the same batch, but PyKMIP 0.10 refuses to parse it. */
		call_init(&c, KMIP_OP_CREATE);
		c.name = name;
		r = call_run(p, &c, 0, &unknown, err);
		if (!r)
			r = skp_kmip_parse_uid(c.res, uid, uid_size, err);
		if (!r && (r = activate_kek(p, uid, err)))
			skp_err_wrap(err, "key %s created but not activated", uid);
		call_free(&c);
		if (!unknown)
			return r;
	}
	return r;
}

/* Activate, Destroy, Revoke: safe to repeat (a repeat fails cleanly, never duplicates). */
static int uid_op(struct skp_provider *p, struct call *c, struct skp_err *err)
{
	int r = call_run(p, c, 1, NULL, err);

	call_free(c);
	return r;
}

int skp_provider_activate(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	struct call c;

	call_init(&c, KMIP_OP_ACTIVATE);
	c.uid = uid;
	return uid_op(p, &c, err);
}

int skp_provider_destroy(struct skp_provider *p, const char *uid, struct skp_err *err)
{
	struct call c;

	call_init(&c, KMIP_OP_DESTROY);
	c.uid = uid;
	return uid_op(p, &c, err);
}

int skp_provider_revoke(struct skp_provider *p, const char *uid, uint32_t reason, const char *msg,
			struct skp_err *err)
{
	struct call c;

	call_init(&c, KMIP_OP_REVOKE);
	c.uid = uid;
	c.reason = reason;
	c.msg = msg;
	return uid_op(p, &c, err);
}

int skp_provider_get_attrs(struct skp_provider *p, const char *uid, struct skp_key_attrs *out,
			   struct skp_err *err)
{
	struct call c;
	int r;

	call_init(&c, KMIP_OP_GET_ATTRIBUTES);
	c.uid = uid;
	r = call_run(p, &c, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_attrs(c.res, out, err);
	call_free(&c);
	return r;
}

int skp_provider_get_key(struct skp_provider *p, const char *uid, unsigned char **key, size_t *len,
			 struct skp_err *err)
{
	struct call c;
	int r;

	call_init(&c, KMIP_OP_GET);
	c.uid = uid;
	r = call_run(p, &c, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_get_key(c.res, key, len, err);
	call_free(&c);
	return r;
}

int skp_provider_locate(struct skp_provider *p, const char *name, char (*uids)[SKP_UID_MAX], size_t max,
			size_t *n, struct skp_err *err)
{
	*n = 0;
	for (;;) {
		struct call c;
		size_t got = 0, want;
		int r, paged;

		call_init(&c, KMIP_OP_LOCATE);
		c.name = name;
		c.max = max;
		c.done = *n;
		r = call_run(p, &c, 1, NULL, err);
		/* A node below 1.3 answered everything from the start, whatever came before. */
		if (!r)
			r = skp_kmip_parse_locate(c.res, uids + (c.paged ? *n : 0), c.want, &got, NULL, err);
		paged = c.paged;
		want = c.want;
		call_free(&c);
		if (r)
			return r;
		*n = (paged ? *n : 0) + got;
		if (!paged || got < want || *n >= max)
			return 0;
	}
}

int skp_provider_query(struct skp_provider *p, struct skp_kmip_query *q, struct skp_err *err)
{
	struct call c;
	int r;

	call_init(&c, KMIP_OP_QUERY);
	r = call_run(p, &c, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_query(c.res, q, err);
	call_free(&c);
	return r;
}

int skp_provider_versions(struct skp_provider *p, struct skp_kmip_version *v, size_t max, size_t *n,
			  struct skp_err *err)
{
	struct call c;
	int r;

	call_init(&c, KMIP_OP_DISCOVER_VERSIONS);
	r = call_run(p, &c, 1, NULL, err);
	if (!r)
		r = skp_kmip_parse_versions(c.res, v, max, n, err);
	call_free(&c);
	return r;
}

/* ---- health probe: Discover Versions to every node at once ---- */

static void probe_build(struct job *job, struct skp_kmip_req *r, const size_t *items, size_t cnt)
{
	(void)job;
	(void)items;
	(void)cnt;
	skp_kmip_add_discover(r);
}

/* A probe's KMIP error is a failure too: the node does not serve. */
static int probe_answer(struct job *job, struct flight *f, struct skp_err *e)
{
	const struct skp_kmip_result *res = skp_kmip_resp_find(&f->resp, 0);
	int r = res ? skp_kmip_result_check(res, KMIP_OP_DISCOVER_VERSIONS, e) :
		      skp_err_set(e, -EPROTO, "KMIP: no result");

	if (r)
		return skp_err_wrap(e, "%s", f->nd->h.addr);
	(*(int *)job->ctx)++;
	return 0;
}

int skp_provider_check(struct skp_provider *p)
{
	size_t pending[SKP_PROVIDER_MAX_NODES], npend = p->n;
	int healthy = 0;
	struct job job = { .n = p->n, .per_req = 1, .per_item = 1, .idempotent = 1, .probe = 1, .build = probe_build,
			   .answer = probe_answer, .ctx = &healthy };

	for (size_t i = 0; i < p->n; i++)
		pending[i] = i;
	exchange(p, &job, pending, &npend, NULL, NULL);
	return healthy;
}

/* ---- batched Gets spread over the nodes ---- */

/*
 * The per-key outcome of a batched operation: errs[i] for key i (NULL: the caller wants
 * all or nothing, and the first failure ends the operation), err the first failure.
 */
struct batch {
	struct skp_err *errs, *err;
	int first_err;
};

/* Key ki's answer: kr, with ke saying why when it failed. */
static void batch_note(struct job *job, struct batch *b, size_t ki, int kr, const struct skp_err *ke)
{
	if (b->errs) {
		if (kr)
			b->errs[ki] = *ke;
		else
			skp_err_clear(&b->errs[ki]);
	}
	if (kr && !b->first_err) {
		b->first_err = kr;
		if (b->err)
			*b->err = *ke;
		if (!b->errs)
			job->stop = kr;
	}
}

/*
 * Runs a batched job over all its n items.  Items no node answered share the exchange's
 * error; else the result is the first key's failure (0: every key answered well).
 */
static int batch_run(struct skp_provider *p, struct job *job, struct batch *b)
{
	struct skp_err xe = { 0 };
	size_t *pending, npend = job->n, i;
	int r;

	if (!job->n)
		return 0;
	pending = calloc(job->n, sizeof(*pending));
	if (!pending)
		return skp_err_set(b->err, -ENOMEM, "out of memory");
	for (i = 0; i < job->n; i++)
		pending[i] = i;
	r = exchange(p, job, pending, &npend, NULL, &xe);
	if (r && !job->stop) {
		for (i = 0; b->errs && i < npend; i++)
			b->errs[pending[i]] = xe;
		if (b->err)
			*b->err = xe;
	}
	free(pending);
	return r ? r : b->first_err;
}

struct kek_fetch {
	const char *const *uids;
	unsigned char **keys;
	int *states;
	struct batch b;
	int *nodes;			/* which node served key i (NULL: not asked) */
	const struct node *base;
};

static void keks_build(struct job *job, struct skp_kmip_req *r, const size_t *items, size_t cnt)
{
	static const char *const state_attr[] = { "State" };
	struct kek_fetch *kf = job->ctx;
	size_t q;

	for (q = 0; q < cnt; q++)
		skp_kmip_add_get(r, kf->uids[items[q]]);
	/* States after the Gets: batch item cnt + q is key q's. */
	for (q = 0; kf->states && q < cnt; q++)
		skp_kmip_add_get_attrs(r, kf->uids[items[q]], state_attr, 1);
}

/* Key q of the answer, checked to be a KEK. */
static int keks_key(const struct kek_fetch *kf, const struct flight *f, size_t q, unsigned char **key,
		    struct skp_err *e)
{
	const struct skp_kmip_result *res = skp_kmip_resp_find(&f->resp, (uint32_t)q);
	size_t klen = 0;
	int r;

	if (!res)
		r = skp_err_set(e, -EPROTO, "KMIP: no result for batch item %zu", q);
	else if (!(r = skp_kmip_result_check(res, KMIP_OP_GET, e)) &&
		 !(r = skp_kmip_parse_get_key(res, key, &klen, e)) && klen != SKP_KEK_LEN) {
		skp_secmem_free(*key, klen);
		*key = NULL;
		r = skp_err_set(e, -EPROTO, "key is %zu bytes, not %d", klen, SKP_KEK_LEN);
	}
	if (r)
		skp_err_wrap(e, "key %.100s", kf->uids[f->items[q]]);
	return r;
}

/* Every key of the answer; a key's error is that key's (the node answered). */
static int keks_answer(struct job *job, struct flight *f, struct skp_err *e)
{
	struct kek_fetch *kf = job->ctx;

	(void)e;
	for (size_t q = 0; q < f->cnt; q++) {
		const struct skp_kmip_result *res;
		size_t ki = f->items[q];
		struct skp_err ke = { 0 };
		unsigned char *key = NULL;
		int kr = keks_key(kf, f, q, &key, &ke);

		batch_note(job, &kf->b, ki, kr, &ke);
		if (!kr) {
			kf->keys[ki] = key;
			if (kf->nodes)
				kf->nodes[ki] = (int)(f->nd - kf->base);
		}
		res = kf->states ? skp_kmip_resp_find(&f->resp, (uint32_t)(f->cnt + q)) : NULL;
		if (res && !skp_kmip_result_check(res, KMIP_OP_GET_ATTRIBUTES, NULL)) {
			struct skp_key_attrs a;

			if (!skp_kmip_parse_attrs(res, &a, NULL))
				kf->states[ki] = a.state;
		}
	}
	return 0;
}

int skp_provider_get_keks(struct skp_provider *p, const char *const *uids, size_t n,
			  unsigned char **keys, struct skp_err *errs, struct skp_err *err)
{
	return skp_provider_get_keks_states(p, uids, n, keys, NULL, errs, err);
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
	struct kek_fetch kf = { uids, keys, states, { errs, err, 0 }, nodes, p->nodes };
	struct job job = { .n = n, .per_req = SKP_PROVIDER_BATCH_MAX, .per_item = states ? 2 : 1,
			   .idempotent = 1, .build = keks_build, .answer = keks_answer, .ctx = &kf };
	size_t i;
	int r;

	if (avoid >= 0 && (size_t)avoid < p->n)
		job.avoid = &p->nodes[avoid];
	for (i = 0; i < n; i++) {
		keys[i] = NULL;
		if (nodes)
			nodes[i] = -1;
		if (states)
			states[i] = 0;
		if (errs)
			skp_err_set(&errs[i], -EAGAIN, "not fetched");
	}
	r = batch_run(p, &job, &kf.b);
	if (r && !errs) {
		for (i = 0; i < n; i++) {
			skp_secmem_free(keys[i], SKP_KEK_LEN);
			keys[i] = NULL;
		}
	}
	return r;
}

/* ---- batched States (Get Attributes), spread over the nodes as the Gets are ---- */

struct state_fetch {
	const char *const *uids;
	int *states;
	struct batch b;
};

static void states_build(struct job *job, struct skp_kmip_req *r, const size_t *items, size_t cnt)
{
	static const char *const state_attr[] = { "State" };
	struct state_fetch *sf = job->ctx;

	for (size_t q = 0; q < cnt; q++)
		skp_kmip_add_get_attrs(r, sf->uids[items[q]], state_attr, 1);
}

/* Item q of the answer; its error is worded as a single Get Attributes' would be. */
static int states_item(const struct flight *f, size_t q, int *state, struct skp_err *e)
{
	const struct skp_kmip_result *res = skp_kmip_resp_find(&f->resp, (uint32_t)q);
	struct skp_key_attrs a;
	int r;

	if (!res)
		return skp_err_set(e, -EPROTO, "KMIP: no result for batch item %zu", q);
	r = skp_kmip_result_check(res, KMIP_OP_GET_ATTRIBUTES, e);
	if (!r)
		r = skp_kmip_parse_attrs(res, &a, e);
	if (!r)
		*state = a.state;
	return r;
}

/* Every key of the answer; a key's error is that key's (the node answered). */
static int states_answer(struct job *job, struct flight *f, struct skp_err *e)
{
	struct state_fetch *sf = job->ctx;

	(void)e;
	for (size_t q = 0; q < f->cnt; q++) {
		size_t ki = f->items[q];
		struct skp_err ke = { 0 };
		int kr = states_item(f, q, &sf->states[ki], &ke);

		batch_note(job, &sf->b, ki, kr, &ke);
	}
	return 0;
}

int skp_provider_get_states(struct skp_provider *p, const char *const *uids, size_t n, int *states,
			    struct skp_err *errs, struct skp_err *err)
{
	struct state_fetch sf = { uids, states, { errs, err, 0 } };
	struct job job = { .n = n, .per_req = SKP_PROVIDER_BATCH_MAX, .per_item = 1, .idempotent = 1,
			   .build = states_build, .answer = states_answer, .ctx = &sf };

	for (size_t i = 0; i < n; i++) {
		states[i] = 0;
		if (errs)
			skp_err_set(&errs[i], -EAGAIN, "not asked");
	}
	return batch_run(p, &job, &sf.b);
}
