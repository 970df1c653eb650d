/* SPDX-License-Identifier: GPL-2.0 */
/* Key providers as configured, and reloading the configuration. */
#ifndef SKPD_PROVIDERS_H
#define SKPD_PROVIDERS_H

#include "config.h"
#include "err.h"

struct skpd;
struct sbuf;
struct skp_native;

struct prov {
	struct skp_provider_conf *conf;	/* points into d->cfg */
	struct skp_provider *p;		/* type = kmip */
	struct skp_native *nat;		/* type = native (lib/native.h); p is NULL */
	int alarm;
	char alarm_msg[200];
	int kms_down;			/* a probe or a KEK batch found no node answering */
	int up_kick;			/* reachable again since: skptab entries waiting on it retry */
};

int skpd_providers_setup(struct skpd *d, struct skp_err *err);
void skpd_providers_free(struct skpd *d);
struct prov *skpd_prov(struct skpd *d, const char *name);
/*
 * What skpd asks of a provider, whatever its type: a KMS over KMIP (lib/provider.h) or
 * the host's TPM-sealed store (lib/native.h, whose KEKs come from no node: nodes[i] -1).
 * Arguments as skp_provider_get_keks_from, skp_provider_create_kek, skp_provider_revoke
 * (as Superseded) and skp_provider_get_attrs (the State alone).
 */
int prov_get_keks(struct prov *pv, const char *const *uids, size_t n, unsigned char **keys, int *states,
		  int *nodes, int avoid, struct skp_err *errs, struct skp_err *err);
/* The longest prov_get_keks of n keys can take (skp_provider_fetch_max_ms; one unseal for
 * a native provider). */
int64_t prov_fetch_max_ms(const struct prov *pv, size_t n);
int prov_create_kek(struct prov *pv, const char *name, char *uid, size_t uid_size, struct skp_err *err);
int prov_retire(struct prov *pv, const char *uid, const char *why, struct skp_err *err);
int prov_state(struct prov *pv, const char *uid, int *state, struct skp_err *err);
/* Reads the configuration again; on any error the old one stays, whole. */
int skpd_reload(struct skpd *d, struct sbuf *out, struct skp_err *err);

#endif
