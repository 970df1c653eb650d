// SPDX-License-Identifier: GPL-2.0
/* Providers: set-up from the config, health and remediation timers, reload, KEK cache. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "secmem.h"
#include "skpd.h"
#include "wrap.h"

/* Failed exchanges in a row (probes or operations) before a single node raises the
 * alarm (one blip is noise). */
#define NODE_ALARM_FAILS 2

static int prov_open(struct prov *pv, struct skp_err *err)
{
	pv->p = skp_provider_new(pv->conf, err);
	return pv->p ? 0 : (err->code ? err->code : -EIO);
}

int skpd_providers_setup(struct skpd *d, struct skp_err *err)
{
	d->n_provs = 0;
	for (size_t i = 0; i < d->cfg.n_providers; i++) {
		struct prov *pv = &d->provs[d->n_provs++];

		memset(pv, 0, sizeof(*pv));
		pv->conf = &d->cfg.providers[i];
		if (prov_open(pv, err) < 0)
			return skp_err_wrap(err, "provider \"%s\"", pv->conf->name);
	}
	return 0;
}

void skpd_providers_free(struct skpd *d)
{
	for (size_t i = 0; i < d->n_provs; i++)
		skp_provider_free(d->provs[i].p);
	d->n_provs = 0;
}

struct prov *skpd_prov(struct skpd *d, const char *name)
{
	for (size_t i = 0; i < d->n_provs; i++)
		if (!strcmp(d->provs[i].conf->name, name))
			return &d->provs[i];
	return NULL;
}

void skpd_health_check(struct skpd *d)
{
	for (size_t i = 0; i < d->n_provs; i++) {
		struct prov *pv = &d->provs[i];
		int healthy = skp_provider_check(pv->p), was = pv->alarm;
		size_t n = skp_provider_nodes(pv->p);
		char msg[200] = "";

		for (size_t j = 0; j < n; j++) {
			const struct skp_node_health *h = skp_provider_node(pv->p, j);

			if (h->healthy == 0 && h->consecutive_fails >= NODE_ALARM_FAILS && !msg[0])
				snprintf(msg, sizeof(msg), "node %s failing (%u failed exchanges in a row): %.100s",
					 pv->conf->servers[j], h->consecutive_fails, h->last_error);
		}
		if (healthy <= 0)
			snprintf(msg, sizeof(msg), "no reachable KMS node (%zu configured)", n);
		pv->alarm = msg[0] != 0;
		snprintf(pv->alarm_msg, sizeof(pv->alarm_msg), "%s", msg);
		if (pv->alarm && (!was || healthy <= 0))
			log_msg(LOG_W, "alarm: provider \"%s\": %s", pv->conf->name, msg);
		else if (!pv->alarm && was)
			log_msg(LOG_I, "alarm cleared: provider \"%s\" healthy (%d node(s) up)", pv->conf->name, healthy);
	}
}

const char *kmip_state_name(int s)
{
	static const char *const n[] = {"absent", "Pre-Active", "Active", "Deactivated", "Compromised",
					"Destroyed", "Destroyed Compromised"};

	return s >= 0 && s <= 6 ? n[s] : "unknown";
}

void skpd_remediation_check(struct skpd *d)
{
	for (size_t i = 0; i < d->n_devs; i++) {
		struct device *v = &d->devs[i];
		struct prov *pv = skpd_prov(d, v->provider);
		struct skp_key_attrs a;
		struct skp_err err = {0};
		char old[sizeof(v->problem)];

		memcpy(old, v->problem, sizeof(old));
		if (!pv) {
			snprintf(v->problem, sizeof(v->problem), "provider \"%s\" is not configured: the device "
				 "cannot be reopened after a restart", v->provider);
		} else if (skp_provider_get_attrs(pv->p, v->kek_uid, &a, &err) < 0) {
			snprintf(v->problem, sizeof(v->problem), "KEK check failed: %.170s", err.msg);
		} else if (a.state != 2) {
			snprintf(v->problem, sizeof(v->problem), "KEK %.60s is %s in the KMS, not Active",
				 v->kek_uid, kmip_state_name(a.state));
		} else {
			v->problem[0] = '\0';
		}
		if (v->problem[0] && strcmp(old, v->problem))
			log_msg(LOG_W, "remediation: %s: %s", v->name, v->problem);
		else if (!v->problem[0] && old[0])
			log_msg(LOG_I, "remediation: %s: KEK usable again", v->name);
	}
}

int skpd_reload(struct skpd *d, struct sbuf *out, struct skp_err *err)
{
	struct skp_config ncfg;
	struct prov nprovs[SKP_MAX_PROVIDERS];
	size_t n = 0;
	int r;

	r = skp_config_load(d->config_path, &ncfg, err);
	if (r < 0)
		return skp_err_wrap(err, "reload refused, old configuration kept");
	/* The socket and dm target stay as started: moving them under running clients helps no one. */
	memcpy(ncfg.socket, d->cfg.socket, sizeof(ncfg.socket));
	memset(nprovs, 0, sizeof(nprovs));
	for (size_t i = 0; i < ncfg.n_providers; i++) {
		struct prov *pv = &nprovs[n++];

		pv->conf = &ncfg.providers[i];
		r = prov_open(pv, err);
		if (r < 0) {
			for (size_t j = 0; j + 1 < n; j++)
				skp_provider_free(nprovs[j].p);
			skp_config_free(&ncfg);
			return skp_err_wrap(err, "reload refused, old configuration kept: provider \"%s\"",
					    ncfg.providers[i].name);
		}
	}
	skpd_providers_free(d);
	skp_config_free(&d->cfg);
	d->cfg = ncfg;
	for (size_t i = 0; i < n; i++) {
		d->provs[i] = nprovs[i];
		d->provs[i].conf = &d->cfg.providers[i];
	}
	d->n_provs = n;
	for (size_t i = 0; i < d->cfg.n_warnings; i++) {
		log_msg(LOG_W, "%s", d->cfg.warnings[i]);
		sb_printf(out, "warning: %s\n", d->cfg.warnings[i]);
	}
	/* Removing a provider in use is allowed (as vSphere): say which devices depend on it. */
	for (size_t i = 0; i < d->n_devs; i++) {
		if (skpd_prov(d, d->devs[i].provider))
			continue;
		log_msg(LOG_W, "provider \"%s\" removed but device %s (%s) uses it: it keeps working, but "
			"cannot be reopened without a cached key until the provider is added back",
			d->devs[i].provider, d->devs[i].name, d->devs[i].dev);
		sb_printf(out, "warning: provider \"%s\" removed but used by %s (%s)\n", d->devs[i].provider,
			  d->devs[i].name, d->devs[i].dev);
	}
	sb_printf(out, "reloaded %s: %zu provider(s)\n", d->config_path, d->n_provs);
	log_msg(LOG_I, "reloaded %s: %zu provider(s)", d->config_path, d->n_provs);
	skpd_health_check(d);
	return 0;
}

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
	struct skp_key_attrs a;
	int r;

	if (k && k->state && mono_s() - k->state_at <= KEK_STATE_FRESH_S) {
		*state = k->state;
	} else {
		if (!pv)
			return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", provider);
		r = skp_provider_get_attrs(pv->p, uid, &a, err);
		if (r < 0)
			return r;
		*state = a.state;
		kek_state_note(d, provider, uid, a.state);
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

int kek_get(struct skpd *d, const char *provider, const char *uid, const unsigned char **ret,
	    struct skp_err *err)
{
	const unsigned char *k = kek_cache_get(d, provider, uid);
	struct prov *pv;
	unsigned char *key = NULL;
	struct skp_err item = {0};
	int r, state = 0;

	if (k) {
		*ret = k;
		return 0;
	}
	pv = skpd_prov(d, provider);
	if (!pv)
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured (and its KEK %s is not cached)",
				   provider, uid);
	r = skp_provider_get_keks_states(pv->p, &uid, 1, &key, &state, &item, err);
	if (r >= 0 && item.code)
		r = skp_err_set(err, item.code, "%s", item.msg);
	if (r < 0) {
		if (key)
			skp_secmem_free(key, SKP_KEK_LEN);
		return skp_err_wrap(err, "getting KEK %s from provider \"%s\"", uid, provider);
	}
	r = kek_cache_put(d, provider, uid, key, err);
	skp_secmem_free(key, SKP_KEK_LEN);
	if (r < 0)
		return r;
	kek_state_note(d, provider, uid, state);
	*ret = kek_cache_get(d, provider, uid);
	return 0;
}
