// SPDX-License-Identifier: GPL-2.0
/*
 * Boot: open every skptab device at start.  Headers are read first, then each
 * provider is asked for all the KEKs it must deliver in one batched call
 * (skp_provider_get_keks), so boot costs one round of KMS exchanges per provider
 * rather than one per device.  A device that cannot be opened (bad skptab line, no
 * such device, KEK refused) is logged with the reason and the others go on; main()
 * sends READY=1 when this returns.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot.h"
#include "log.h"
#include "ops.h"
#include "provider.h"
#include "sbuf.h"
#include "secmem.h"
#include "skpd.h"
#include "wrap.h"

struct bent {
	char path[256];
	struct skp_header h;
	int state;			/* 0 pending, 1 header read, -1 failed (logged) */
	int kek_idx;			/* index into the provider's batch, -1 if cached */
};

struct scan_ent {
	unsigned char uuid[16];
	char path[256];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Mappings skp made hold plaintext: a header-lookalike written inside one must not be taken
 * for a device, so they are never scanned. */
static int is_skp_mapping(const char *blk)
{
	char p[300], u[8] = "";
	FILE *f;

	snprintf(p, sizeof(p), "/sys/class/block/%s/dm/uuid", blk);
	f = fopen(p, "re");
	if (!f)
		return 0;
	if (!fgets(u, sizeof(u), f))
		u[0] = '\0';
	fclose(f);
	return !strncmp(u, "SKP-", 4);
}

/* Reads every block device's header once: UUID= entries are then looked up in memory
 * (scanning per entry would read N devices N times). */
static int scan_devices(struct scan_ent **ret, size_t *n_ret)
{
	DIR *dir = opendir("/sys/class/block");
	struct scan_ent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!dir)
		return -errno;
	while ((e = readdir(dir))) {
		struct skp_header h;
		char p[300];

		if (e->d_name[0] == '.' || is_skp_mapping(e->d_name))
			continue;
		snprintf(p, sizeof(p), "/dev/%s", e->d_name);
		if (skp_header_read_dev(p, O_RDONLY, NULL, &h, NULL) < 0)
			continue;
		if (n == cap) {
			struct scan_ent *nv = realloc(v, (cap = cap ? cap * 2 : 64) * sizeof(*nv));

			if (!nv)
				break;
			v = nv;
		}
		memcpy(v[n].uuid, h.uuid, 16);
		snprintf(v[n].path, sizeof(v[n].path), "%.250s", p);
		n++;
	}
	closedir(dir);
	*ret = v;
	*n_ret = n;
	return 0;
}

/* A disk under a dm-linear that starts at sector 0 shows the same header as the mapping on
 * top: the one below (it has the other as a holder) is not a second copy, skip it. */
static int held_by_twin(const struct scan_ent *v, size_t n, size_t k)
{
	for (size_t j = 0; j < n; j++) {
		char p[700];

		if (j == k || memcmp(v[j].uuid, v[k].uuid, 16))
			continue;
		snprintf(p, sizeof(p), "/sys/class/block/%s/holders/%s", v[k].path + 5, v[j].path + 5);
		if (access(p, F_OK) == 0)
			return 1;
	}
	return 0;
}

struct bad_ctx {
	int n;
};

static void bad_line(void *ctx, const struct skp_err *e)
{
	((struct bad_ctx *)ctx)->n++;
	log_msg(LOG_E, "%s: line skipped", e->msg);
}

static void entry_fail(struct skpd *d, const struct skptab_entry *e, struct bent *b, const char *why)
{
	log_msg(e->nofail ? LOG_W : LOG_E, "%s:%d: %s: %s", d->cfg.skptab, e->line, e->name, why);
	b->state = -1;
}

static unsigned long exchanges(struct skpd *d)
{
	unsigned long n = 0;

	for (size_t i = 0; i < d->n_provs; i++)
		for (size_t j = 0; j < skp_provider_nodes(d->provs[i].p); j++) {
			const struct skp_node_health *h = skp_provider_node(d->provs[i].p, j);

			n += h->n_ok + h->n_fail;
		}
	return n;
}

int skpd_boot_open(struct skpd *d)
{
	struct skptab tab;
	struct skp_err err = {0};
	struct bad_ctx bad = {0};
	struct bent *b = NULL;
	struct scan_ent *scan = NULL;
	size_t n_scan = 0;
	int opened = 0, failed = 0, already = 0, batches = 0, fetched = 0;
	unsigned long ex0 = exchanges(d);
	double t0 = now_s(), t_fetch = t0, t_open = t0;

	if (skptab_load_lenient(d->cfg.skptab, &tab, bad_line, &bad, &err) < 0) {
		log_msg(LOG_E, "%s: no device opened at start", err.msg);
		return -1;
	}
	failed = bad.n;
	if (!tab.n)
		goto summary;
	b = calloc(tab.n, sizeof(*b));
	if (!b) {
		log_msg(LOG_E, "skptab: out of memory");
		skptab_free(&tab);
		return -1;
	}
	for (size_t i = 0; i < tab.n; i++)
		if (tab.e[i].by_uuid) {
			scan_devices(&scan, &n_scan);
			break;
		}

	/* 1. Resolve each entry and read its header. */
	for (size_t i = 0; i < tab.n; i++) {
		struct skptab_entry *e = &tab.e[i];
		struct skp_dm_info info;
		struct skp_err le = {0};

		b[i].kek_idx = -1;
		/* Left open by an earlier skpd (its key is in the kernel): nothing to do. */
		if (dev_find(d, e->name) || (skp_dm_info(e->name, &info, NULL) == 0 && info.exists)) {
			log_msg(LOG_I, "%s:%d: %s is already open", d->cfg.skptab, e->line, e->name);
			b[i].state = 2;
			already++;
			continue;
		}
		if (e->by_uuid) {
			size_t hits = 0;

			for (size_t k = 0; k < n_scan; k++)
				if (!memcmp(scan[k].uuid, e->uuid, 16) && !held_by_twin(scan, n_scan, k) &&
				    hits++ == 0)
					snprintf(b[i].path, sizeof(b[i].path), "%s", scan[k].path);
			if (!hits) {
				entry_fail(d, e, &b[i], "no device with this UUID found");
				continue;
			}
			/* Copies of one device share its UUID: refuse to guess which one to open. */
			if (hits > 1) {
				entry_fail(d, e, &b[i], "several devices hold this UUID (copies?): name the device by path");
				continue;
			}
		} else {
			snprintf(b[i].path, sizeof(b[i].path), "%s", e->source);
		}
		if (skp_header_read_dev(b[i].path, O_RDONLY, NULL, &b[i].h, &le) < 0) {
			entry_fail(d, e, &b[i], le.msg);
			continue;
		}
		if (!skpd_prov(d, b[i].h.slot[0].provider) &&
		    !kek_cache_get(d, b[i].h.slot[0].provider, b[i].h.slot[0].kek_uid)) {
			char why[300];

			snprintf(why, sizeof(why), "provider \"%s\" (KEK %s) is not configured",
				 b[i].h.slot[0].provider, b[i].h.slot[0].kek_uid);
			entry_fail(d, e, &b[i], why);
			continue;
		}
		b[i].state = 1;
	}

	/* 2. One batched fetch per provider of the KEKs not already cached. */
	t_fetch = now_s();
	for (size_t p = 0; p < d->n_provs; p++) {
		struct prov *pv = &d->provs[p];
		const char **uids = calloc(tab.n, sizeof(*uids));
		unsigned char **keys = calloc(tab.n, sizeof(*keys));
		struct skp_err *errs = calloc(tab.n, sizeof(*errs));
		int *states = calloc(tab.n, sizeof(*states));
		size_t n = 0;

		if (!uids || !keys || !errs || !states) {
			log_msg(LOG_E, "skptab: out of memory");
			goto next;
		}
		for (size_t i = 0; i < tab.n; i++) {
			const struct skp_slot *s = &b[i].h.slot[0];
			size_t k;

			if (b[i].state != 1 || strcmp(s->provider, pv->conf->name) ||
			    kek_cache_get(d, s->provider, s->kek_uid))
				continue;
			/* Devices may share a KEK (copies): ask once. */
			for (k = 0; k < n && strcmp(uids[k], s->kek_uid); k++)
				;
			if (k == n)
				uids[n++] = s->kek_uid;
			b[i].kek_idx = (int)k;
		}
		if (!n)
			goto next;
		batches++;
		/* The KEKs' States in the same requests: op_open checks them (a superseded KEK). */
		skp_provider_get_keks_states(pv->p, uids, n, keys, states, errs, &err);
		for (size_t k = 0; k < n; k++) {
			struct skp_err ce = {0};

			if (keys[k] && !errs[k].code) {
				if (kek_cache_put(d, pv->conf->name, uids[k], keys[k], &ce) < 0) {
					errs[k] = ce;
					if (!errs[k].code)
						errs[k].code = -ENOMEM;
				} else {
					kek_state_note(d, pv->conf->name, uids[k], states[k]);
					fetched++;
				}
			}
			if (keys[k])
				skp_secmem_free(keys[k], SKP_KEK_LEN);
		}
		/* A KEK the batch could not deliver fails its devices here, without a second
		 * request per device. */
		for (size_t i = 0; i < tab.n; i++) {
			char why[400];

			if (b[i].state != 1 || b[i].kek_idx < 0 || strcmp(b[i].h.slot[0].provider, pv->conf->name))
				continue;
			if (!errs[b[i].kek_idx].code)
				continue;
			snprintf(why, sizeof(why), "getting KEK %s from provider \"%s\": %s", uids[b[i].kek_idx],
				 pv->conf->name, errs[b[i].kek_idx].msg);
			entry_fail(d, &tab.e[i], &b[i], why);
		}
next:
		free(uids);
		free(keys);
		free(errs);
		free(states);
	}

	/* 3. Open: every KEK is cached now, with its State, so this talks to the kernel only. */
	t_open = now_s();
	for (size_t i = 0; i < tab.n; i++) {
		struct skptab_entry *e = &tab.e[i];
		struct sbuf out = {0};

		if (b[i].state != 1)
			continue;
		skp_err_clear(&err);
		if (op_open(d, b[i].path, e->name, e->discard, 0, &out, &err) < 0)
			entry_fail(d, e, &b[i], err.msg);
		else
			opened++;
		sb_free(&out);
	}
	for (size_t i = 0; i < tab.n; i++)
		failed += b[i].state == -1;
summary:
	log_msg(failed ? LOG_W : LOG_I, "skptab %s: %d device(s) opened, %d already open, %d failed; "
		"%d KEK(s) fetched in %d batch(es), %lu KMIP request(s), %.3f s (headers %.3f, KEKs %.3f, "
		"mappings %.3f)", d->cfg.skptab, opened, already, failed, fetched, batches, exchanges(d) - ex0,
		now_s() - t0, t_fetch - t0, t_open - t_fetch, t_fetch > t0 ? now_s() - t_open : 0.0);
	free(scan);
	free(b);
	skptab_free(&tab);
	return failed ? -1 : 0;
}
