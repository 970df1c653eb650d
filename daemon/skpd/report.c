// SPDX-License-Identifier: GPL-2.0
/*
 * What skpctl shows: status, the audit list, providers, key counts, rekey progress,
 * collected into records (docs/protocol.md); skpctl prints them, as text or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "boot.h"
#include "dm.h"
#include "native.h"
#include "proto.h"
#include "provider.h"
#include "rekey.h"
#include "report.h"
#include "sbuf.h"
#include "skpd.h"

static size_t devs_of(struct skpd *d, const char *provider)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_devs; i++)
		n += !strcmp(d->devs[i].provider, provider);
	return n;
}

/* A record field holds all of its source: nothing is cut on the way to skpctl. */
#define FITS(rec, rf, src, sf) \
	_Static_assert(sizeof(((struct rec *)0)->rf) >= sizeof(((struct src *)0)->sf), #rec "." #rf " too small")
FITS(skp_rec_status, config, skpd, config_path);
FITS(skp_rec_status, target, skp_config, target);
FITS(skp_rec_provider, name, skp_provider_conf, name);
FITS(skp_rec_provider, alarm_msg, prov, alarm_msg);
FITS(skp_rec_node, server, skp_provider_conf, servers[0]);
FITS(skp_rec_node, error, skp_node_health, last_error);
FITS(skp_rec_problem, mapping, device, name);
FITS(skp_rec_problem, problem, device, problem);
FITS(skp_rec_device, mapping, device, name);
FITS(skp_rec_device, dev, device, dev);
FITS(skp_rec_device, label, device, label);
FITS(skp_rec_device, provider, device, provider);
FITS(skp_rec_device, kek_uid, device, kek_uid);
FITS(skp_rec_device, kek_name, device, kek_name);
FITS(skp_rec_device, problem, device, problem);
FITS(skp_rec_keys, provider, device, provider);
FITS(skp_rec_pending, mapping, skptab_entry, name);
FITS(skp_rec_pending, provider, boot_ent, provider);
FITS(skp_rec_pending, reason, boot_ent, reason);

#define STR(field, s) skp_rec_str(field, sizeof(field), s)

static void put_node(struct sbuf *out, const char *server, const struct skp_node_health *h)
{
	struct skp_rec_node r;

	skp_rec_init(&r, SKP_REC_NODE);
	r.state = h->healthy < 0 ? SKP_NODE_UNKNOWN : h->healthy ? SKP_NODE_OK : SKP_NODE_FAILING;
	r.failing_since = h->failing_since;
	r.fails = h->consecutive_fails;
	r.latency_ms = h->latency_ms;
	STR(r.server, server);
	STR(r.error, h->healthy == 1 ? "" : h->last_error);
	sb_put(out, &r, sizeof(r));
}

/* A native provider shows as one "node": its store, ok while the TPM unseals it. */
static void native_node(const struct prov *pv, struct skp_node_health *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->addr, sizeof(h->addr), "native: TPM-sealed store %.200s", skp_native_dir(pv->nat));
	h->healthy = !pv->alarm;
	snprintf(h->last_error, sizeof(h->last_error), "%s", pv->alarm_msg);
}

static void put_status_provider(struct sbuf *out, const struct prov *pv)
{
	struct skp_rec_provider r;

	skp_rec_init(&r, SKP_REC_PROVIDER);
	STR(r.name, pv->conf->name);
	r.is_default = !!pv->conf->is_default;
	r.alarm = !!pv->alarm;
	if (pv->alarm)
		STR(r.alarm_msg, pv->alarm_msg);
	r.n_nodes = pv->nat ? 1 : (uint32_t)pv->conf->n_servers;
	sb_put(out, &r, sizeof(r));
	if (pv->nat) {
		struct skp_node_health h;

		native_node(pv, &h);
		put_node(out, h.addr, &h);
	}
	for (size_t j = 0; j < pv->conf->n_servers; j++)
		put_node(out, pv->conf->servers[j], skp_provider_node(pv->p, j));
}

static void put_rekey(struct sbuf *out, const struct device *v)
{
	struct skp_rec_rekey r;

	skp_rec_init(&r, SKP_REC_REKEY);
	STR(r.mapping, v->name);
	rekey_progress(v, &r.p);
	sb_put(out, &r, sizeof(r));
}

static void put_pending(struct sbuf *out, const struct boot_ent *be, double mono, time_t now)
{
	struct skp_rec_pending r;

	skp_rec_init(&r, SKP_REC_PENDING);
	r.since = now - (int64_t)(mono - be->added);
	r.next_s = be->next_at > mono ? be->next_at - mono : 0;
	r.attempts = be->attempts;
	/* boot.h's enum is the record's, from 1 on */
	r.wait = be->wait == BOOT_WAIT_DEVICE ? SKP_PENDING_DEVICE : be->wait == BOOT_WAIT_PROVIDER ?
		 SKP_PENDING_PROVIDER : SKP_PENDING_OPEN;
	r.nofail = !!be->e.nofail;
	r.timeout = (uint32_t)be->e.timeout;
	STR(r.mapping, be->e.name);
	STR(r.provider, be->provider);
	STR(r.reason, be->reason);
	sb_put(out, &r, sizeof(r));
}

/* The daemon, its providers with their nodes, device problems, deep rekeys, pending
 * skptab entries. */
int rep_status(struct skpd *d, struct sbuf *out, int *alarm)
{
	struct skp_rec_status r;
	uint32_t problems = 0, rekeys = 0;

	*alarm = 0;
	for (size_t i = 0; i < d->n_provs; i++)
		*alarm |= d->provs[i].alarm;
	for (size_t i = 0; i < d->n_devs; i++) {
		problems += d->devs[i].problem[0] != 0;
		rekeys += d->devs[i].rk != NULL;
	}
	*alarm |= problems != 0;
	skp_rec_init(&r, SKP_REC_STATUS);
	r.started = d->started;
	r.devices = d->n_devs;
	r.cached_keks = d->n_keks;
	r.health_interval = d->cfg.health_interval;
	r.remediation_interval = d->cfg.remediation_interval;
	r.alarm = !!*alarm;
	/* The loaded module's version: after an upgrade it may still be the old one. */
	r.target_loaded = skp_dm_target_version(d->cfg.target, r.target_version, NULL) == 0;
	if (!r.target_loaded)
		memset(r.target_version, 0, sizeof(r.target_version));
	r.n_providers = (uint32_t)d->n_provs;
	r.n_problems = problems;
	r.n_rekeys = rekeys;
	for (size_t i = 0; i < d->n_boot; i++)
		r.n_pending += d->boot[i].wait != BOOT_WAIT_NONE;
	STR(r.config, d->config_path);
	STR(r.target, d->cfg.target);
	sb_put(out, &r, sizeof(r));
	for (size_t i = 0; i < d->n_provs; i++)
		put_status_provider(out, &d->provs[i]);
	for (size_t i = 0; i < d->n_devs; i++) {
		struct skp_rec_problem p;

		if (!d->devs[i].problem[0])
			continue;
		skp_rec_init(&p, SKP_REC_PROBLEM);
		STR(p.mapping, d->devs[i].name);
		STR(p.problem, d->devs[i].problem);
		sb_put(out, &p, sizeof(p));
	}
	for (size_t i = 0; i < d->n_devs; i++)
		if (d->devs[i].rk)
			put_rekey(out, &d->devs[i]);
	for (size_t i = 0; i < d->n_boot; i++)
		if (d->boot[i].wait != BOOT_WAIT_NONE)
			put_pending(out, &d->boot[i], boot_now(), time(NULL));
	return 0;
}

static void put_device(struct sbuf *out, const struct device *v)
{
	struct skp_rec_device r;

	skp_rec_init(&r, SKP_REC_DEVICE);
	r.generation = v->generation;
	r.data_length = v->data_length;
	r.sector_size = v->sector_size;
	r.flags = (v->read_only ? SKP_DEV_READONLY : 0) | (v->discard ? SKP_DEV_DISCARDS : 0);
	memcpy(r.uuid, v->uuid, sizeof(r.uuid));
	STR(r.mapping, v->name);
	STR(r.dev, v->dev);
	STR(r.label, v->label);
	STR(r.provider, v->provider);
	STR(r.kek_uid, v->kek_uid);
	STR(r.kek_name, v->kek_name);
	STR(r.problem, v->problem);
	rekey_progress(v, &r.rekey);
	sb_put(out, &r, sizeof(r));
}

int rep_list(struct skpd *d, const char *provider, struct sbuf *out, struct skp_err *err)
{
	if (provider && !skpd_prov(d, provider) && !devs_of(d, provider))
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", provider);
	for (size_t i = 0; i < d->n_devs; i++)
		if (!provider || !strcmp(d->devs[i].provider, provider))
			put_device(out, &d->devs[i]);
	return 0;
}

int rep_providers(struct skpd *d, struct sbuf *out)
{
	for (size_t i = 0; i < d->n_provs; i++) {
		const struct skp_provider_conf *c = d->provs[i].conf;
		struct skp_rec_provider r;

		skp_rec_init(&r, SKP_REC_PROVIDER);
		STR(r.name, c->name);
		r.is_default = !!c->is_default;
		r.devices = devs_of(d, c->name);
		r.n_nodes = d->provs[i].nat ? 1 : (uint32_t)c->n_servers;
		sb_put(out, &r, sizeof(r));
		if (d->provs[i].nat) {
			struct skp_node_health h;
			struct skp_rec_node n;

			native_node(&d->provs[i], &h);
			skp_rec_init(&n, SKP_REC_NODE);
			STR(n.server, h.addr);
			sb_put(out, &n, sizeof(n));
		}
		for (size_t j = 0; j < c->n_servers; j++) {
			struct skp_rec_node n;

			skp_rec_init(&n, SKP_REC_NODE);
			STR(n.server, c->servers[j]);
			sb_put(out, &n, sizeof(n));
		}
	}
	return 0;
}

/* A native provider's test: its store unsealed by the TPM now. */
static int native_test(struct prov *pv, struct sbuf *out, struct skp_err *err)
{
	struct skp_rec_provider r;
	struct skp_rec_node nr;
	struct skp_node_health h;
	struct skp_err e = {0};
	int rc = skp_native_load(pv->nat, &e);

	pv->alarm = rc < 0;
	snprintf(pv->alarm_msg, sizeof(pv->alarm_msg), "%.199s", rc < 0 ? e.msg : "");
	native_node(pv, &h);
	skp_rec_init(&r, SKP_REC_PROVIDER);
	STR(r.name, pv->conf->name);
	r.healthy = rc == 0;
	r.n_nodes = 1;
	sb_put(out, &r, sizeof(r));
	skp_rec_init(&nr, SKP_REC_NODE);
	nr.state = rc == 0 ? SKP_NODE_OK : SKP_NODE_FAILING;
	STR(nr.server, h.addr);
	STR(nr.error, e.msg);
	sb_put(out, &nr, sizeof(nr));
	if (rc < 0)
		return skp_err_set(err, rc, "provider \"%s\": %s", pv->conf->name, e.msg);
	return 0;
}

/* Probes every node of provider name now, not the last health check's results. */
int rep_provider_test(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err)
{
	struct prov *pv = skpd_prov(d, name);
	struct skp_rec_provider r;
	int healthy;
	size_t n;

	if (!pv)
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", name);
	if (pv->nat)
		return native_test(pv, out, err);
	healthy = skp_provider_check(pv->p);
	n = skp_provider_nodes(pv->p);
	skp_rec_init(&r, SKP_REC_PROVIDER);
	STR(r.name, name);
	r.healthy = healthy;
	r.n_nodes = (uint32_t)n;
	sb_put(out, &r, sizeof(r));
	for (size_t j = 0; j < n; j++) {
		const struct skp_node_health *h = skp_provider_node(pv->p, j);
		struct skp_rec_node nr;

		skp_rec_init(&nr, SKP_REC_NODE);
		nr.state = h->healthy == 1 ? SKP_NODE_OK : h->healthy == 0 ? SKP_NODE_FAILING : SKP_NODE_UNKNOWN;
		nr.failing_since = h->failing_since;
		nr.latency_ms = (double)h->latency_ms;
		STR(nr.server, j < pv->conf->n_servers ? pv->conf->servers[j] : "?");
		STR(nr.error, h->last_error);
		sb_put(out, &nr, sizeof(nr));
	}
	if (healthy <= 0)
		return skp_err_set(err, -EHOSTUNREACH, "provider \"%s\": no KMS node reachable (%zu tried)", name, n);
	return 0;
}

int rep_keys_count(struct skpd *d, struct sbuf *out)
{
	char names[SKP_MAX_PROVIDERS * 2][SKP_PROVIDER_MAX];
	size_t np = 0;

	/* Providers configured, plus any no longer configured but still used by a device. */
	for (size_t i = 0; i < d->n_provs; i++)
		snprintf(names[np++], SKP_PROVIDER_MAX, "%s", d->provs[i].conf->name);
	for (size_t i = 0; i < d->n_devs && np < SKP_MAX_PROVIDERS * 2; i++) {
		size_t k;

		for (k = 0; k < np && strcmp(names[k], d->devs[i].provider); k++)
			;
		if (k == np)
			snprintf(names[np++], SKP_PROVIDER_MAX, "%s", d->devs[i].provider);
	}
	for (size_t p = 0; p < np; p++) {
		struct skp_rec_keys r;

		skp_rec_init(&r, SKP_REC_KEYS);
		STR(r.provider, names[p]);
		/* Distinct KEK uids among the devices of this provider. */
		for (size_t i = 0; i < d->n_devs; i++) {
			size_t j;

			if (strcmp(d->devs[i].provider, names[p]))
				continue;
			for (j = 0; j < i; j++)
				if (!strcmp(d->devs[j].provider, names[p]) && !strcmp(d->devs[j].kek_uid, d->devs[i].kek_uid))
					break;
			r.keks += j == i;
		}
		sb_put(out, &r, sizeof(r));
	}
	return 0;
}

int rep_rekey(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err)
{
	const struct device *v = dev_find(d, name);

	if (!v)
		return skp_err_set(err, -ENOENT, "%s is not a device opened by this skpd", name);
	put_rekey(out, v);
	return 0;
}
