/* SPDX-License-Identifier: GPL-2.0 */
/* Key providers as configured, and reloading the configuration. */
#ifndef SKPD_PROVIDERS_H
#define SKPD_PROVIDERS_H

#include "config.h"
#include "err.h"

struct skpd;
struct sbuf;

struct prov {
	struct skp_provider_conf *conf;	/* points into d->cfg */
	struct skp_provider *p;
	int alarm;
	char alarm_msg[200];
	int kms_down;			/* a probe or a KEK batch found no node answering */
	int up_kick;			/* reachable again since: skptab entries waiting on it retry */
};

int skpd_providers_setup(struct skpd *d, struct skp_err *err);
void skpd_providers_free(struct skpd *d);
struct prov *skpd_prov(struct skpd *d, const char *name);
/* Reads the configuration again; on any error the old one stays, whole. */
int skpd_reload(struct skpd *d, struct sbuf *out, struct skp_err *err);

#endif
