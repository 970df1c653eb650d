// SPDX-License-Identifier: GPL-2.0
/*
 * Provider health and device remediation.  The KMS is asked on a worker thread with its
 * own provider connections: a node that never answers holds the worker for its timeout,
 * never the main loop (control socket, deep rekeys).  The main thread decides when to
 * ask and applies the answers (alarms, device problems, the log); the worker only asks.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "health.h"
#include "kmip.h"
#include "log.h"
#include "provider.h"
#include "skpd.h"

/* Failed exchanges in a row (probes or operations) before a single node raises the
 * alarm (one blip is noise). */
#define NODE_ALARM_FAILS 2

struct rem_item {
	char name[SKP_DM_NAME_MAX];
	char provider[SKP_PROVIDER_MAX];
	char kek_uid[SKP_KEK_UID_MAX];
	char problem[200];		/* the answer, "" if the KEK is usable */
};

struct probe {
	int healthy;			/* nodes that answered */
	size_t n;
	struct skp_node_health nodes[SKP_MAX_SERVERS];
};

struct health {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pipe[2];			/* worker -> main: answers are ready */
	/* Set up before the thread starts, then the worker's alone. */
	size_t n;
	char names[SKP_MAX_PROVIDERS][SKP_PROVIDER_MAX];
	const struct skp_provider_conf *conf[SKP_MAX_PROVIDERS];	/* until started; NULL: native */
	/*
	 * Made, used and freed on the worker's thread.  OpenSSL keeps per-thread state in a
	 * library context (a TPM key has its own) and frees it only for the thread that frees
	 * the context: state another thread left would be freed later, under that thread, in
	 * a context already gone (skpd spun in exit() on it).
	 */
	struct skp_provider *p[SKP_MAX_PROVIDERS];	/* NULL: a native provider (no KMS to ask) */
	/* Under lock. */
	int started;			/* 1: providers made; -errno: start_err says why */
	struct skp_err start_err;
	int stop;
	int want_probe;
	struct rem_item *want_rem;	/* a remediation request not taken yet */
	size_t n_want_rem;
	int probe_ready;
	struct probe probes[SKP_MAX_PROVIDERS];
	struct probe scratch[SKP_MAX_PROVIDERS];	/* the worker's, while it probes */
	struct rem_item *rem;		/* answered remediation */
	size_t n_rem;
};

/* Items by provider, then by KEK: a provider's KEKs make one job, each KEK asked once. */
static int rem_cmp(const void *a, const void *b)
{
	const struct rem_item *x = *(const struct rem_item *const *)a;
	const struct rem_item *y = *(const struct rem_item *const *)b;
	int c = strcmp(x->provider, y->provider);

	return c ? c : strcmp(x->kek_uid, y->kek_uid);
}

static void rem_answer(struct rem_item *v, int state, const struct skp_err *e)
{
	if (e->code)
		snprintf(v->problem, sizeof(v->problem), "KEK check failed: %.170s", e->msg);
	else if (state != 2)
		snprintf(v->problem, sizeof(v->problem), "KEK %.60s is %s in the KMS, not Active",
			 v->kek_uid, skp_kmip_state_name((uint32_t)state));
	else
		v->problem[0] = '\0';
}

/* The States of one provider's KEKs (v sorted by KEK) in batched requests, as boot.c
 * fetches KEKs: at 1,000 devices and 100 ms RTT, one Get Attributes each took minutes. */
static void remediate_provider(struct skp_provider *p, struct rem_item **v, size_t n)
{
	const char **uids = calloc(n, sizeof(*uids));
	int *states = calloc(n, sizeof(*states));
	struct skp_err *errs = calloc(n, sizeof(*errs));
	struct skp_err err = {0};
	size_t nu = 0, k = 0;

	if (!uids || !states || !errs) {
		skp_err_set(&err, -ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			rem_answer(v[i], 0, &err);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (!nu || strcmp(uids[nu - 1], v[i]->kek_uid))
			uids[nu++] = v[i]->kek_uid;
	skp_provider_get_states(p, uids, nu, states, errs, &err);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(uids[k], v[i]->kek_uid))
			k++;
		rem_answer(v[i], states[k], &errs[k]);
	}
out:
	free(uids);
	free(states);
	free(errs);
}

static void remediate(struct health *h, struct rem_item *v, size_t n)
{
	struct rem_item **s = calloc(n, sizeof(*s));
	size_t i, j;

	if (!s) {
		for (i = 0; i < n; i++)
			snprintf(v[i].problem, sizeof(v[i].problem), "KEK check failed: out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		s[i] = &v[i];
	qsort(s, n, sizeof(*s), rem_cmp);
	for (i = 0; i < n; i = j) {
		struct skp_provider *p = NULL;
		int native = 0;

		for (j = i + 1; j < n && !strcmp(s[j]->provider, s[i]->provider); j++)
			;
		for (size_t q = 0; q < h->n; q++)
			if (!strcmp(h->names[q], s[i]->provider)) {
				p = h->p[q];
				native = !p;
			}
		if (p) {
			remediate_provider(p, s + i, j - i);
			continue;
		}
		/* The host's own store: nothing outside it retires a KEK. */
		if (native) {
			for (size_t q = i; q < j; q++)
				s[q]->problem[0] = '\0';
			continue;
		}
		for (size_t q = i; q < j; q++)
			snprintf(s[q]->problem, sizeof(s[q]->problem), "provider \"%s\" is not configured: the "
				 "device cannot be reopened after a restart", s[q]->provider);
	}
	free(s);
}

static void probe(struct health *h, struct probe *out)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!h->p[i]) {
			out[i].healthy = 1;	/* native: no node (main thread: apply_probe) */
			out[i].n = 0;
			continue;
		}
		out[i].healthy = skp_provider_check(h->p[i]);
		out[i].n = skp_provider_nodes(h->p[i]);
		for (size_t j = 0; j < out[i].n && j < SKP_MAX_SERVERS; j++)
			out[i].nodes[j] = *skp_provider_node(h->p[i], j);
	}
}

static int make_providers(struct health *h, struct skp_err *err)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!h->conf[i])
			continue;
		h->p[i] = skp_provider_new(h->conf[i], err);
		if (!h->p[i])
			return skp_err_wrap(err, "health checks: provider \"%s\"", h->names[i]);
	}
	return 0;
}

static void free_providers(struct health *h)
{
	for (size_t i = 0; i < h->n; i++) {
		skp_provider_free(h->p[i]);
		h->p[i] = NULL;
	}
}

/* What is left once the worker (and its providers) are gone. */
static void health_destroy(struct health *h)
{
	free(h->want_rem);
	free(h->rem);
	close(h->pipe[0]);
	close(h->pipe[1]);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}

static void *worker(void *arg)
{
	struct health *h = arg;
	struct probe *res = h->scratch;
	struct skp_err err = {0};
	int r = make_providers(h, &err);

	pthread_mutex_lock(&h->lock);
	h->started = r < 0 ? r : 1;
	h->start_err = err;
	pthread_cond_broadcast(&h->cond);
	if (r < 0) {
		/* health_start joins this thread and frees the rest. */
		pthread_mutex_unlock(&h->lock);
		free_providers(h);
		return NULL;
	}
	for (;;) {
		struct rem_item *rem;
		size_t n_rem;
		ssize_t w;
		int want_probe;

		while (!h->stop && !h->want_probe && !h->want_rem)
			pthread_cond_wait(&h->cond, &h->lock);
		if (h->stop)
			break;
		want_probe = h->want_probe;
		rem = h->want_rem;
		n_rem = h->n_want_rem;
		h->want_probe = 0;
		h->want_rem = NULL;
		pthread_mutex_unlock(&h->lock);

		if (want_probe)
			probe(h, res);
		if (rem)
			remediate(h, rem, n_rem);

		pthread_mutex_lock(&h->lock);
		if (want_probe) {
			memcpy(h->probes, res, h->n * sizeof(*res));
			h->probe_ready = 1;
		}
		if (rem) {
			free(h->rem);
			h->rem = rem;
			h->n_rem = n_rem;
		}
		/* Fails only when full, and a full pipe already says "ready". */
		w = write(h->pipe[1], "", 1);
		(void)w;
	}
	pthread_mutex_unlock(&h->lock);
	/* health_stop left the worker to free what it used (it may have been mid-probe). */
	free_providers(h);
	health_destroy(h);
	return NULL;
}

/*
 * All of skpd's memory is locked (mlockall, MCL_FUTURE): a thread's stack is resident
 * whole, so the worker gets a small one rather than the default 8 MiB.  It needs little:
 * a TLS handshake and a KMIP exchange.
 */
#define WORKER_STACK	(512u << 10)

static int start_thread(struct health *h)
{
	pthread_attr_t a;
	int r = pthread_attr_init(&a);

	if (r)
		return r;
	r = pthread_attr_setstacksize(&a, WORKER_STACK);
	if (r == 0)
		r = pthread_create(&h->thread, &a, worker, h);
	pthread_attr_destroy(&a);
	return r;
}

int health_start(struct skpd *d, struct skp_err *err)
{
	struct health *h = calloc(1, sizeof(*h));
	int r;

	if (!h)
		return skp_err_set(err, -ENOMEM, "health checks: out of memory");
	if (pipe2(h->pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(h);
		return skp_err_set(err, -errno, "health checks: pipe: %s", strerror(errno));
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	for (size_t i = 0; i < d->n_provs; i++) {
		h->conf[h->n] = d->provs[i].nat ? NULL : d->provs[i].conf;
		snprintf(h->names[h->n++], SKP_PROVIDER_MAX, "%s", d->provs[i].conf->name);
	}
	r = start_thread(h);
	if (r) {
		health_destroy(h);
		return skp_err_set(err, -r, "health checks: cannot start a thread: %s", strerror(r));
	}
	/* The worker makes its providers from d's configuration: wait, d may change after. */
	pthread_mutex_lock(&h->lock);
	while (!h->started)
		pthread_cond_wait(&h->cond, &h->lock);
	r = h->started;
	pthread_mutex_unlock(&h->lock);
	if (r < 0) {
		*err = h->start_err;
		pthread_join(h->thread, NULL);
		health_destroy(h);
		return r;
	}
	health_stop(d, 0);
	d->health = h;
	return 0;
}

int health_stop(struct skpd *d, int wait_ms)
{
	struct health *h = d->health;
	pthread_t t;
	struct timespec until;
	int r;

	if (!h)
		return 0;
	d->health = NULL;
	t = h->thread;
	if (wait_ms <= 0)
		/* Detached first: once told to stop, the worker frees h, maybe before we
		 * return.  Not joined: a probe of a node that does not answer may hold it for
		 * its timeout. */
		pthread_detach(t);
	pthread_mutex_lock(&h->lock);
	h->stop = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	if (wait_ms <= 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	r = pthread_timedjoin_np(t, NULL, &until);
	if (r == 0)
		return 0;
	pthread_detach(t);	/* it frees itself when its exchange ends */
	return -r;
}

int health_fd(const struct skpd *d)
{
	return d->health ? d->health->pipe[0] : -1;
}

void health_request_probe(struct skpd *d)
{
	struct health *h = d->health;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->want_probe = 1;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

void health_request_remediation(struct skpd *d)
{
	struct health *h = d->health;
	struct rem_item *v;

	if (!h || !d->n_devs)
		return;
	v = calloc(d->n_devs, sizeof(*v));
	if (!v) {
		log_msg(LOG_E, "remediation: out of memory");
		return;
	}
	for (size_t i = 0; i < d->n_devs; i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s", d->devs[i].name);
		snprintf(v[i].provider, sizeof(v[i].provider), "%s", d->devs[i].provider);
		snprintf(v[i].kek_uid, sizeof(v[i].kek_uid), "%s", d->devs[i].kek_uid);
	}
	pthread_mutex_lock(&h->lock);
	free(h->want_rem);		/* one not taken yet is older: this one replaces it */
	h->want_rem = v;
	h->n_want_rem = d->n_devs;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

/* The probe's findings go into skpd's own provider object, which status reads and which
 * orders the nodes for operations; the alarm is judged from there (probes and
 * operations alike count as exchanges). */
static void apply_probe(struct prov *pv, const struct probe *pr)
{
	size_t n;
	int was = pv->alarm;
	char msg[200] = "";

	if (pv->nat)
		return;		/* its alarm is its store's (providers.c) */
	n = skp_provider_nodes(pv->p);
	for (size_t j = 0; j < pr->n && j < SKP_MAX_SERVERS; j++)
		skp_provider_note_health(pv->p, j, &pr->nodes[j]);
	for (size_t j = 0; j < n; j++) {
		const struct skp_node_health *h = skp_provider_node(pv->p, j);

		if (h->healthy == 0 && h->consecutive_fails >= NODE_ALARM_FAILS && !msg[0])
			snprintf(msg, sizeof(msg), "node %s failing (%u failed exchanges in a row): %.100s",
				 pv->conf->servers[j], h->consecutive_fails, h->last_error);
	}
	if (pr->healthy <= 0)
		snprintf(msg, sizeof(msg), "no reachable KMS node (%zu configured)", n);
	/* Back after skpd found it down (a probe, or a KEK batch at boot): skptab entries
	 * waiting on it are retried at once (boot.c, from the main loop). */
	if (pr->healthy > 0 && pv->kms_down)
		pv->up_kick = 1;
	pv->kms_down = pr->healthy <= 0;
	pv->alarm = msg[0] != 0;
	snprintf(pv->alarm_msg, sizeof(pv->alarm_msg), "%s", msg);
	if (pv->alarm && (!was || pr->healthy <= 0))
		log_msg(LOG_W, "alarm: provider \"%s\": %s", pv->conf->name, msg);
	else if (!pv->alarm && was)
		log_msg(LOG_I, "alarm cleared: provider \"%s\" healthy (%d node(s) up)", pv->conf->name,
			pr->healthy);
}

/* An answer about a device that was closed or rekeyed since it was asked is dropped. */
static void apply_remediation(struct skpd *d, const struct rem_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct device *dv = dev_find(d, v[i].name);
		char old[sizeof(dv->problem)];

		if (!dv || strcmp(dv->kek_uid, v[i].kek_uid) || strcmp(dv->provider, v[i].provider))
			continue;
		memcpy(old, dv->problem, sizeof(old));
		snprintf(dv->problem, sizeof(dv->problem), "%s", v[i].problem);
		if (dv->problem[0] && strcmp(old, dv->problem))
			log_msg(LOG_W, "remediation: %s: %s", dv->name, dv->problem);
		else if (!dv->problem[0] && old[0])
			log_msg(LOG_I, "remediation: %s: KEK usable again", dv->name);
	}
}

void health_collect(struct skpd *d)
{
	struct health *h = d->health;
	struct rem_item *rem;
	char buf[64];
	size_t n_rem;

	if (!h)
		return;
	while (read(h->pipe[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&h->lock);
	/* Providers are matched by name: the worker was started from the same configuration. */
	if (h->probe_ready) {
		for (size_t i = 0; i < h->n && i < d->n_provs; i++)
			apply_probe(&d->provs[i], &h->probes[i]);
		h->probe_ready = 0;
	}
	rem = h->rem;
	n_rem = h->n_rem;
	h->rem = NULL;
	pthread_mutex_unlock(&h->lock);
	if (rem)
		apply_remediation(d, rem, n_rem);
	free(rem);
}
