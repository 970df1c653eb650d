// SPDX-License-Identifier: GPL-2.0
/* What skpctl shows: status, the audit list, providers, key counts (text or JSON). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dm.h"
#include "provider.h"
#include "rekey.h"
#include "report.h"
#include "sbuf.h"
#include "skpd.h"

static const char *iso(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!t) {
		snprintf(buf, size, "-");
		return buf;
	}
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static size_t devs_of(struct skpd *d, const char *provider)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_devs; i++)
		n += !strcmp(d->devs[i].provider, provider);
	return n;
}

static void node_json(struct sbuf *b, const char *server, const struct skp_node_health *h)
{
	char t[32];

	sb_printf(b, "{\"server\":");
	sb_json_str(b, server);
	sb_printf(b, ",\"state\":\"%s\",\"failing_since\":\"%s\",\"consecutive_failures\":%u,"
		  "\"latency_ms\":%.1f,\"error\":", h->healthy < 0 ? "unknown" : h->healthy ? "ok" : "failing",
		  iso((time_t)h->failing_since, t, sizeof(t)), h->consecutive_fails, (double)h->latency_ms);
	sb_json_str(b, h->healthy == 1 ? "" : h->last_error);
	sb_printf(b, "}");
}

int rep_status(struct skpd *d, int json, struct sbuf *out, int *alarm)
{
	char t[32];
	size_t problems = 0;
	uint32_t kv[3];
	/* The loaded module's version: after an upgrade it may still be the old one. */
	int have_kv = skp_dm_target_version(d->cfg.target, kv, NULL) == 0;

	*alarm = 0;
	for (size_t i = 0; i < d->n_provs; i++)
		*alarm |= d->provs[i].alarm;
	for (size_t i = 0; i < d->n_devs; i++)
		problems += d->devs[i].problem[0] != 0;
	*alarm |= problems != 0;
	if (json) {
		sb_printf(out, "{\"version\":1,\"started\":\"%s\",\"config\":", iso(d->started, t, sizeof(t)));
		sb_json_str(out, d->config_path);
		sb_printf(out, ",\"target\":\"%s\",\"target_version\":", d->cfg.target);
		if (have_kv)
			sb_printf(out, "\"%u.%u.%u\"", kv[0], kv[1], kv[2]);
		else
			sb_printf(out, "null");
		sb_printf(out, ",\"alarm\":%s,\"devices\":%zu,\"cached_keks\":%zu,"
			  "\"health_interval\":%d,\"remediation_interval\":%d,\"providers\":[",
			  *alarm ? "true" : "false", d->n_devs, d->n_keks,
			  d->cfg.health_interval, d->cfg.remediation_interval);
		for (size_t i = 0; i < d->n_provs; i++) {
			struct prov *pv = &d->provs[i];

			sb_printf(out, "%s{\"name\":", i ? "," : "");
			sb_json_str(out, pv->conf->name);
			sb_printf(out, ",\"default\":%s,\"alarm\":", pv->conf->is_default ? "true" : "false");
			if (pv->alarm)
				sb_json_str(out, pv->alarm_msg);
			else
				sb_printf(out, "null");
			sb_printf(out, ",\"nodes\":[");
			for (size_t j = 0; j < pv->conf->n_servers; j++) {
				sb_printf(out, "%s", j ? "," : "");
				node_json(out, pv->conf->servers[j], skp_provider_node(pv->p, j));
			}
			sb_printf(out, "]}");
		}
		sb_printf(out, "],\"device_problems\":[");
		for (size_t i = 0, k = 0; i < d->n_devs; i++) {
			if (!d->devs[i].problem[0])
				continue;
			sb_printf(out, "%s{\"mapping\":", k++ ? "," : "");
			sb_json_str(out, d->devs[i].name);
			sb_printf(out, ",\"problem\":");
			sb_json_str(out, d->devs[i].problem);
			sb_printf(out, "}");
		}
		sb_printf(out, "]}\n");
		return 0;
	}
	sb_printf(out, "skpd: up since %s, config %s, dm target %s", iso(d->started, t, sizeof(t)),
		  d->config_path, d->cfg.target);
	if (have_kv)
		sb_printf(out, " %u.%u.%u loaded\n", kv[0], kv[1], kv[2]);
	else
		sb_printf(out, " (not loaded)\n");
	sb_printf(out, "devices open: %zu, KEKs cached: %zu\n", d->n_devs, d->n_keks);
	for (size_t i = 0; i < d->n_provs; i++) {
		struct prov *pv = &d->provs[i];

		sb_printf(out, "provider %s%s: %s\n", pv->conf->name, pv->conf->is_default ? " (default)" : "",
			  pv->alarm ? "ALARM" : "ok");
		if (pv->alarm)
			sb_printf(out, "  ALARM: %s\n", pv->alarm_msg);
		for (size_t j = 0; j < pv->conf->n_servers; j++) {
			const struct skp_node_health *h = skp_provider_node(pv->p, j);

			if (h->healthy < 0)
				sb_printf(out, "  node %s: not checked yet\n", pv->conf->servers[j]);
			else if (h->healthy)
				sb_printf(out, "  node %s: ok, latency %.1f ms\n", pv->conf->servers[j],
					  (double)h->latency_ms);
			else
				sb_printf(out, "  node %s: failing since %s (%u in a row): %.150s\n", pv->conf->servers[j],
					  iso((time_t)h->failing_since, t, sizeof(t)), h->consecutive_fails, h->last_error);
		}
	}
	for (size_t i = 0; i < d->n_devs; i++)
		if (d->devs[i].problem[0])
			sb_printf(out, "device %s: PROBLEM: %s\n", d->devs[i].name, d->devs[i].problem);
	for (size_t i = 0; i < d->n_devs; i++) {
		char rk[64];

		if (!d->devs[i].rk)
			continue;
		rekey_summary(&d->devs[i], rk, sizeof(rk));
		sb_printf(out, "device %s: rekey %s\n", d->devs[i].name, rk);
	}
	if (*alarm)
		sb_printf(out, "status: ALARM\n");
	else
		sb_printf(out, "status: ok\n");
	return 0;
}

int rep_list(struct skpd *d, const char *provider, int json, struct sbuf *out, struct skp_err *err)
{
	int first = 1;

	if (provider && !skpd_prov(d, provider) && !devs_of(d, provider))
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", provider);
	if (json)
		sb_printf(out, "[");
	else
		sb_printf(out, "%-16s %-14s %-36s %-12s %-20s %4s %s\n", "MAPPING", "DEVICE", "UUID", "PROVIDER",
			  "KEK", "GEN", "REKEY");
	for (size_t i = 0; i < d->n_devs; i++) {
		struct device *v = &d->devs[i];
		char u[37], rk[64];

		if (provider && strcmp(v->provider, provider))
			continue;
		skp_uuid_format(v->uuid, u);
		rekey_summary(v, rk, sizeof(rk));
		if (!json) {
			sb_printf(out, "%-16s %-14s %-36s %-12s %-20s %4llu %s\n", v->name, v->dev, u, v->provider,
				  v->kek_uid, (unsigned long long)v->generation, rk);
			continue;
		}
		sb_printf(out, "%s{\"mapping\":", first ? "" : ",");
		first = 0;
		sb_json_str(out, v->name);
		sb_printf(out, ",\"device\":");
		sb_json_str(out, v->dev);
		sb_printf(out, ",\"uuid\":\"%s\",\"label\":", u);
		sb_json_str(out, v->label);
		sb_printf(out, ",\"provider\":");
		sb_json_str(out, v->provider);
		sb_printf(out, ",\"kek_uid\":");
		sb_json_str(out, v->kek_uid);
		sb_printf(out, ",\"kek_name\":");
		sb_json_str(out, v->kek_name);
		sb_printf(out, ",\"dek_generation\":%llu,\"rekey_state\":\"%s\",\"rekey\":", (unsigned long long)v->generation,
			  rekey_state_name(v));
		sb_json_str(out, rk);
		sb_printf(out, ",\"sector_size\":%u,"
			  "\"data_bytes\":%llu,\"problem\":", v->sector_size,
			  (unsigned long long)v->data_length);
		if (v->problem[0])
			sb_json_str(out, v->problem);
		else
			sb_printf(out, "null");
		sb_printf(out, "}");
	}
	if (json)
		sb_printf(out, "]\n");
	return 0;
}

int rep_providers(struct skpd *d, int json, struct sbuf *out)
{
	if (json)
		sb_printf(out, "[");
	for (size_t i = 0; i < d->n_provs; i++) {
		const struct skp_provider_conf *c = d->provs[i].conf;

		if (json) {
			sb_printf(out, "%s{\"name\":", i ? "," : "");
			sb_json_str(out, c->name);
			sb_printf(out, ",\"default\":%s,\"devices\":%zu,\"servers\":[", c->is_default ? "true" : "false",
				  devs_of(d, c->name));
			for (size_t j = 0; j < c->n_servers; j++) {
				sb_printf(out, "%s", j ? "," : "");
				sb_json_str(out, c->servers[j]);
			}
			sb_printf(out, "]}");
			continue;
		}
		sb_printf(out, "%s%s: %zu device(s), servers:", c->name, c->is_default ? " (default)" : "",
			  devs_of(d, c->name));
		for (size_t j = 0; j < c->n_servers; j++)
			sb_printf(out, " %s", c->servers[j]);
		sb_printf(out, "\n");
	}
	if (json)
		sb_printf(out, "]\n");
	return 0;
}

int rep_provider_test(struct skpd *d, const char *name, int json, struct sbuf *out,
		      struct skp_err *err)
{
	struct prov *pv = skpd_prov(d, name);
	int healthy;
	size_t n;

	if (!pv)
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", name);
	healthy = skp_provider_check(pv->p);
	n = skp_provider_nodes(pv->p);
	if (json)
		sb_printf(out, "{\"provider\":\"%s\",\"healthy\":%d,\"nodes\":[", name, healthy);
	for (size_t j = 0; j < n; j++) {
		const struct skp_node_health *h = skp_provider_node(pv->p, j);
		const char *server = j < pv->conf->n_servers ? pv->conf->servers[j] : "?";

		if (json) {
			sb_printf(out, "%s{\"server\":", j ? "," : "");
			sb_json_str(out, server);
			sb_printf(out, ",\"ok\":%s,\"latency_ms\":%.1f,\"error\":", h->healthy == 1 ? "true" : "false",
				  (double)h->latency_ms);
			sb_json_str(out, h->healthy == 1 ? "" : h->last_error);
			sb_printf(out, "}");
		} else if (h->healthy == 1) {
			sb_printf(out, "%s: ok (%u ms)\n", server, h->latency_ms);
		} else {
			sb_printf(out, "%s: FAILED: %s\n", server, h->last_error);
		}
	}
	if (json)
		sb_printf(out, "]}\n");
	if (healthy <= 0)
		return skp_err_set(err, -EHOSTUNREACH, "provider \"%s\": no KMS node reachable (%zu tried)", name, n);
	return 0;
}

int rep_keys_count(struct skpd *d, int json, struct sbuf *out)
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
	if (json)
		sb_printf(out, "{");
	for (size_t p = 0; p < np; p++) {
		size_t keks = 0;

		/* Distinct KEK uids among the devices of this provider. */
		for (size_t i = 0; i < d->n_devs; i++) {
			size_t j;

			if (strcmp(d->devs[i].provider, names[p]))
				continue;
			for (j = 0; j < i; j++)
				if (!strcmp(d->devs[j].provider, names[p]) && !strcmp(d->devs[j].kek_uid, d->devs[i].kek_uid))
					break;
			keks += j == i;
		}
		if (json) {
			sb_printf(out, "%s", p ? "," : "");
			sb_json_str(out, names[p]);
			sb_printf(out, ":%zu", keks);
		} else {
			sb_printf(out, "%-20s %zu\n", names[p], keks);
		}
	}
	if (json)
		sb_printf(out, "}\n");
	return 0;
}
