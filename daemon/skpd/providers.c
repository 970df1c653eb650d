// SPDX-License-Identifier: GPL-2.0
/* Providers: set up from the configuration, and replaced whole on reload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip.h"
#include "log.h"
#include "native.h"
#include "provider.h"
#include "secmem.h"
#include "sbuf.h"
#include "skpd.h"

/* The alarm of a native provider: its store could not be read (no TPM, another host's). */
static void native_alarm(struct prov *pv, int r, const struct skp_err *e)
{
	int was = pv->alarm;

	pv->alarm = r < 0;
	snprintf(pv->alarm_msg, sizeof(pv->alarm_msg), "%.199s", r < 0 ? e->msg : "");
	if (pv->alarm && !was)
		log_msg(LOG_E, "alarm: provider \"%s\": %s", pv->conf->name, e->msg);
	else if (!pv->alarm && was)
		log_msg(LOG_I, "alarm cleared: native provider \"%s\" reads its store", pv->conf->name);
}

/*
 * A native provider whose store cannot be read (no TPM) is set up all the same, in
 * alarm: the other providers work, and status says what is missing.
 */
static int native_open(struct prov *pv, const struct skp_config *cfg, struct skp_err *err)
{
	char dir[SKP_PATH_MAX];
	struct skp_err e = {0};
	int r;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", cfg->native_dir, pv->conf->name) >= sizeof(dir) - 32)
		return skp_err_set(err, -ENAMETOOLONG, "native_dir too long");
	pv->nat = skp_native_new(dir, pv->conf->name, cfg->tpm_tcti, err);
	if (!pv->nat)
		return err->code ? err->code : -ENOMEM;
	r = skp_native_load(pv->nat, &e);
	native_alarm(pv, r, &e);
	if (r == 0)
		log_msg(LOG_I, "native provider \"%s\": %zu KEK(s) in %s, sealed by the TPM", pv->conf->name,
			skp_native_count(pv->nat), dir);
	return 0;
}

static int prov_open(struct prov *pv, const struct skp_config *cfg, struct skp_err *err)
{
	if (pv->conf->type == SKP_PROVIDER_NATIVE)
		return native_open(pv, cfg, err);
	pv->p = skp_provider_new(pv->conf, err);
	return pv->p ? 0 : (err->code ? err->code : -EIO);
}

static void prov_close(struct prov *pv)
{
	skp_provider_free(pv->p);
	skp_native_free(pv->nat);
	pv->p = NULL;
	pv->nat = NULL;
}

int prov_get_keks(struct prov *pv, const char *const *uids, size_t n, unsigned char **keys, int *states,
		  int *nodes, int avoid, struct skp_err *errs, struct skp_err *err)
{
	int r = 0;

	if (!pv->nat)
		return skp_provider_get_keks_from(pv->p, uids, n, keys, states, nodes, avoid, errs, err);
	for (size_t i = 0; i < n; i++) {
		struct skp_err e = {0};
		int ri = skp_native_get(pv->nat, uids[i], &keys[i], states ? &states[i] : NULL, &e);

		if (nodes)
			nodes[i] = -1;
		if (ri < 0 && errs)
			errs[i] = e;
		if (ri < 0 && !r) {
			r = ri;
			if (err)
				*err = e;
		}
		/* a TPM that answers again clears the alarm; one that does not raises it */
		if (ri == 0 || e.cls != SKP_ERRC_KEY_REFUSED)
			native_alarm(pv, ri, &e);
	}
	if (r < 0 && !errs) {
		for (size_t i = 0; i < n; i++) {
			skp_secmem_free(keys[i], SKP_KEK_LEN);
			keys[i] = NULL;
		}
	}
	return r;
}

int64_t prov_fetch_max_ms(const struct prov *pv, size_t n)
{
	/* One unseal of the host's store: well under a second, 10 s for a TPM busy elsewhere. */
	return pv->nat ? 10000 : skp_provider_fetch_max_ms(pv->conf, n);
}

int prov_create_kek(struct prov *pv, const char *name, char *uid, size_t uid_size, struct skp_err *err)
{
	int r;

	if (!pv->nat)
		return skp_provider_create_kek(pv->p, name, uid, uid_size, err);
	r = skp_native_create(pv->nat, name, uid, uid_size, err);
	native_alarm(pv, r, err);
	return r;
}

int prov_retire(struct prov *pv, const char *uid, const char *why, struct skp_err *err)
{
	if (!pv->nat)
		return skp_provider_revoke(pv->p, uid, KMIP_REVOKE_SUPERSEDED, why, err);
	return skp_native_revoke(pv->nat, uid, err);
}

int prov_state(struct prov *pv, const char *uid, int *state, struct skp_err *err)
{
	struct skp_key_attrs a;
	unsigned char *key = NULL;
	int r;

	if (pv->nat) {
		r = skp_native_get(pv->nat, uid, &key, state, err);
		skp_secmem_free(key, SKP_KEK_LEN);
		return r;
	}
	r = skp_provider_get_attrs(pv->p, uid, &a, err);
	if (r == 0)
		*state = a.state;
	return r;
}

int skpd_providers_setup(struct skpd *d, struct skp_err *err)
{
	d->n_provs = 0;
	for (size_t i = 0; i < d->cfg.n_providers; i++) {
		struct prov *pv = &d->provs[d->n_provs++];

		memset(pv, 0, sizeof(*pv));
		pv->conf = &d->cfg.providers[i];
		if (prov_open(pv, &d->cfg, err) < 0)
			return skp_err_wrap(err, "provider \"%s\"", pv->conf->name);
	}
	return 0;
}

void skpd_providers_free(struct skpd *d)
{
	for (size_t i = 0; i < d->n_provs; i++)
		prov_close(&d->provs[i]);
	d->n_provs = 0;
}

struct prov *skpd_prov(struct skpd *d, const char *name)
{
	for (size_t i = 0; i < d->n_provs; i++)
		if (!strcmp(d->provs[i].conf->name, name))
			return &d->provs[i];
	return NULL;
}

int skpd_reload(struct skpd *d, struct sbuf *out, struct skp_err *err)
{
	/* Heap: a configuration is about 175 KB, the providers as much again. */
	struct skp_config *ncfg = calloc(1, sizeof(*ncfg));
	struct prov *nprovs = calloc(SKP_MAX_PROVIDERS, sizeof(*nprovs));
	size_t n = 0;
	int r;

	if (!ncfg || !nprovs) {
		r = skp_err_set(err, -ENOMEM, "reload refused, old configuration kept: out of memory");
		goto out;
	}
	r = skp_config_load(d->config_path, ncfg, err);
	if (r < 0) {
		skp_err_wrap(err, "reload refused, old configuration kept");
		goto out;
	}
	/* The socket and dm target stay as started: moving them under running clients helps no one. */
	memcpy(ncfg->socket, d->cfg.socket, sizeof(ncfg->socket));
	for (size_t i = 0; i < ncfg->n_providers; i++) {
		struct prov *pv = &nprovs[n++];

		pv->conf = &ncfg->providers[i];
		r = prov_open(pv, ncfg, err);
		if (r < 0) {
			for (size_t j = 0; j + 1 < n; j++)
				prov_close(&nprovs[j]);
			skp_err_wrap(err, "reload refused, old configuration kept: provider \"%s\"",
				     ncfg->providers[i].name);
			skp_config_free(ncfg);
			goto out;
		}
	}
	skpd_providers_free(d);
	skp_config_free(&d->cfg);
	d->cfg = *ncfg;
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
out:
	free(ncfg);
	free(nprovs);
	return r;
}
