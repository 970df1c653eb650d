// SPDX-License-Identifier: GPL-2.0
/* Providers: set up from the configuration, and replaced whole on reload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "provider.h"
#include "sbuf.h"
#include "skpd.h"

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
		r = prov_open(pv, err);
		if (r < 0) {
			for (size_t j = 0; j + 1 < n; j++)
				skp_provider_free(nprovs[j].p);
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
