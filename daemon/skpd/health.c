// SPDX-License-Identifier: GPL-2.0
/* Health of the providers' nodes, and remediation: the KEK of every open device asked for. */
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "log.h"
#include "provider.h"
#include "skpd.h"

/* Failed probes in a row before a single node raises the alarm (one blip is noise). */
#define NODE_ALARM_FAILS 2

void skpd_health_check(struct skpd *d)
{
	for (size_t i = 0; i < d->n_provs; i++) {
		struct prov *pv = &d->provs[i];
		int healthy = skp_provider_check(pv->p), was = pv->alarm;
		size_t n = skp_provider_nodes(pv->p);
		char msg[200] = "";

		for (size_t j = 0; j < n && j < SKP_MAX_SERVERS; j++) {
			const struct skp_node_health *h = skp_provider_node(pv->p, j);
			struct node_state *ns = &pv->nodes[j];

			ns->ever_checked = h->healthy >= 0;
			ns->ok = h->healthy == 1;
			ns->failing_since = (time_t)h->failing_since;
			ns->fails = ns->ok ? 0 : ns->fails + 1;
			ns->latency_ms = h->latency_ms;
			snprintf(ns->error, sizeof(ns->error), "%.150s", ns->ok ? "" : h->last_error);
			if (!ns->ok && ns->fails >= NODE_ALARM_FAILS && !msg[0])
				snprintf(msg, sizeof(msg), "node %s failing for %u checks: %.100s",
					 pv->conf->servers[j], ns->fails, ns->error);
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
				 v->kek_uid, skp_kmip_state_name((uint32_t)a.state));
		} else {
			v->problem[0] = '\0';
		}
		if (v->problem[0] && strcmp(old, v->problem))
			log_msg(LOG_W, "remediation: %s: %s", v->name, v->problem);
		else if (!v->problem[0] && old[0])
			log_msg(LOG_I, "remediation: %s: KEK usable again", v->name);
	}
}

