/* SPDX-License-Identifier: GPL-2.0 */
/* Key providers as configured, and reloading the configuration. */
#ifndef SKPD_PROVIDERS_H
#define SKPD_PROVIDERS_H

#include <time.h>

#include "config.h"
#include "err.h"

struct skpd;
struct sbuf;

struct node_state {
	int ok;				/* last probe succeeded */
	int ever_checked;
	time_t failing_since;		/* wall clock of the first failure in a row, 0 if ok */
	unsigned int fails;		/* consecutive failed probes */
	double latency_ms;		/* last successful probe */
	char error[160];
};

struct prov {
	struct skp_provider_conf *conf;	/* points into d->cfg */
	struct skp_provider *p;		/* NULL if it could not be set up */
	char setup_error[200];
	struct node_state nodes[SKP_MAX_SERVERS];
	int alarm;
	char alarm_msg[200];
};

/* A provider connection set for conf (skpd's own, or the health worker's). */
struct skp_provider *skpd_provider_new(const struct skp_provider_conf *conf, struct skp_err *err);
int skpd_providers_setup(struct skpd *d, struct skp_err *err);
void skpd_providers_free(struct skpd *d);
struct prov *skpd_prov(struct skpd *d, const char *name);
/* Reads the configuration again; on any error the old one stays, whole. */
int skpd_reload(struct skpd *d, struct sbuf *out, struct skp_err *err);

#endif
