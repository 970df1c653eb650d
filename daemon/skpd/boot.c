// SPDX-License-Identifier: GPL-2.0
/*
 * Boot: open the skptab devices, and keep trying those that cannot be opened yet.
 * Headers are read first, then each provider is asked for all the KEKs it must deliver
 * in one batched call (skp_provider_get_keks_from), so an attempt costs one round of
 * KMS exchanges per provider rather than one per device; retries go through the same
 * path with the entries then due.  An entry that fails (no such device yet, KMS down,
 * KEK refused) stays pending: tried again after 1 s, doubling to 60 s, for ever, and at
 * once when a block device appears (uevent) or its provider's KMS answers again (health
 * probe).  Its first failure is logged with its skptab line, a repeat of the same reason
 * is not.  A mapping already live (skpd restarted) is adopted through op_open.  main()
 * sends READY=1 when boot_ready() says so (docs/architecture.md, "Boot").
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
#include "jitter.h"
#include "log.h"
#include "manager.h"
#include "ops.h"
#include "provider.h"
#include "sbuf.h"
#include "secmem.h"
#include "skpd.h"
#include "wrap.h"

/* One attempt's view of a due entry. */
struct bent {
	struct boot_ent *be;
	char path[256];
	struct skp_header h;
	int state;			/* 1 header read, -1 failed this attempt, 2 done */
	int kek_idx[2];			/* slot 0 and (deep rekey) slot 1 in their provider's batch */
};

struct scan_ent {
	unsigned char uuid[16];
	char path[256];
};

double boot_now(void)
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

static void bad_line(void *ctx, const struct skp_err *e)
{
	(*(int *)ctx)++;
	log_msg(LOG_E, "%s: line skipped", e->msg);
}

/*
 * The backoff's share waited after this attempt, in [0.5, 1] (lib/jitter.h): drawn once per
 * attempt, so the entries that failed together are retried together, in one batch, while
 * hosts that failed together (a fleet booting at once) spread their retries out.
 */
static double attempt_jitter = 1;

/* This attempt failed: the entry waits (why, for what), its next attempt after the backoff. */
static void entry_fail(struct skpd *d, struct bent *b, enum boot_wait wait, const char *provider,
		       const char *why, double now)
{
	struct boot_ent *be = b->be;

	b->state = -1;
	be->wait = wait;
	snprintf(be->provider, sizeof(be->provider), "%s", provider ? provider : "");
	snprintf(be->reason, sizeof(be->reason), "%s", why);
	be->next_at = now + be->backoff * attempt_jitter;
	be->backoff = be->backoff * 2 > BOOT_BACKOFF_MAX ? BOOT_BACKOFF_MAX : be->backoff * 2;
	/* Tried for ever: the same reason again and again is said once. */
	if (strcmp(be->logged, be->reason)) {
		log_msg(be->e.nofail ? LOG_W : LOG_E, "%s:%d: %s: %s%s", d->cfg.skptab, be->e.line, be->e.name,
			why, be->attempts > 1 ? " (still pending, retrying)" : " (pending, will retry)");
		snprintf(be->logged, sizeof(be->logged), "%s", be->reason);
	}
}

static void entry_done(struct skpd *d, struct bent *b, const char *how, double now)
{
	struct boot_ent *be = b->be;

	b->state = 2;
	be->wait = BOOT_WAIT_NONE;
	be->reason[0] = be->logged[0] = '\0';
	if (be->attempts > 1)
		log_msg(LOG_I, "%s:%d: %s %s after %u attempt(s), %.1f s", d->cfg.skptab, be->e.line,
			be->e.name, how, be->attempts, now - be->added);
}

static unsigned long exchanges(struct skpd *d)
{
	unsigned long n = 0;

	for (size_t i = 0; i < d->n_provs; i++)
		for (size_t j = 0; d->provs[i].p && j < skp_provider_nodes(d->provs[i].p); j++) {
			const struct skp_node_health *h = skp_provider_node(d->provs[i].p, j);

			n += h->n_ok + h->n_fail;
		}
	return n;
}

/* Phase 1: the device of b's entry and its header; 1 when its KEKs are next. */
static int resolve(struct skpd *d, struct bent *b, const struct scan_ent *scan, size_t n_scan, double now)
{
	const struct skptab_entry *e = &b->be->e;
	struct skp_err le = {0};
	char why[300];

	b->kek_idx[0] = b->kek_idx[1] = -1;
	/* Opened since by a request (skpctl open): nothing left to do. */
	if (dev_find(d, e->name)) {
		entry_done(d, b, "opened on request", now);
		return 0;
	}
	if (e->by_uuid) {
		size_t hits = 0;

		for (size_t k = 0; k < n_scan; k++)
			if (!memcmp(scan[k].uuid, e->uuid, 16) && !held_by_twin(scan, n_scan, k) && hits++ == 0)
				snprintf(b->path, sizeof(b->path), "%s", scan[k].path);
		if (!hits) {
			entry_fail(d, b, BOOT_WAIT_DEVICE, NULL, "no device with this UUID found", now);
			return 0;
		}
		/* Copies of one device share its UUID: refuse to guess which one to open. */
		if (hits > 1) {
			entry_fail(d, b, BOOT_WAIT_DEVICE, NULL,
				   "several devices hold this UUID (copies?): name the device by path", now);
			return 0;
		}
	} else {
		snprintf(b->path, sizeof(b->path), "%s", e->source);
	}
	/* Not O_EXCL: a live mapping of it (skpd restarted) holds the device, and is adopted. */
	if (skp_header_read_dev(b->path, O_RDONLY, NULL, &b->h, &le) < 0) {
		entry_fail(d, b, BOOT_WAIT_DEVICE, NULL, le.msg, now);
		return 0;
	}
	for (int s = 0; s < 2; s++) {
		const struct skp_slot *sl = &b->h.slot[s];

		if (s == 1 && sl->state != SKP_SLOT_NEW)
			break;
		if (!skpd_prov(d, sl->provider) && !kek_cache_get(d, sl->provider, sl->kek_uid)) {
			snprintf(why, sizeof(why), "provider \"%s\" (KEK %s) is not configured", sl->provider,
				 sl->kek_uid);
			entry_fail(d, b, BOOT_WAIT_PROVIDER, sl->provider, why, now);
			return 0;
		}
	}
	b->state = 1;
	return 1;
}

/* Phase 2 for one provider: the KEKs its due entries need and the cache lacks, in one
 * batched request (their States with them: op_open checks them).  Returns 1 if asked. */
static int fetch(struct skpd *d, struct prov *pv, struct bent *b, size_t nb, int *fetched, double now)
{
	const char **uids = calloc(2 * nb, sizeof(*uids));
	unsigned char **keys = calloc(2 * nb, sizeof(*keys));
	struct skp_err *errs = calloc(2 * nb, sizeof(*errs));
	int *states = calloc(2 * nb, sizeof(*states));
	int *nodes = calloc(2 * nb, sizeof(*nodes));
	struct skp_err err = {0};
	size_t n = 0, failed = 0;
	int asked = 0;

	if (!uids || !keys || !errs || !states || !nodes) {
		log_msg(LOG_E, "skptab: out of memory");
		goto out;
	}
	for (size_t i = 0; i < nb; i++)
		for (int s = 0; s < 2 && b[i].state == 1; s++) {
			const struct skp_slot *sl = &b[i].h.slot[s];
			size_t k;

			if ((s == 1 && sl->state != SKP_SLOT_NEW) || strcmp(sl->provider, pv->conf->name) ||
			    kek_cache_get(d, sl->provider, sl->kek_uid))
				continue;
			/* Devices may share a KEK (copies): ask once. */
			for (k = 0; k < n && strcmp(uids[k], sl->kek_uid); k++)
				;
			if (k == n)
				uids[n++] = sl->kek_uid;
			b[i].kek_idx[s] = (int)k;
		}
	if (!n)
		goto out;
	asked = 1;
	prov_get_keks(pv, uids, n, keys, states, nodes, -1, errs, &err);
	for (size_t k = 0; k < n; k++) {
		struct skp_err ce = {0};

		if (keys[k] && !errs[k].code) {
			if (kek_cache_put(d, pv->conf->name, uids[k], keys[k], &ce) < 0) {
				errs[k] = ce;
				if (!errs[k].code)
					errs[k].code = -ENOMEM;
			} else {
				kek_state_note(d, pv->conf->name, uids[k], states[k]);
				kek_node_note(d, pv->conf->name, uids[k], nodes[k]);
				(*fetched)++;
			}
		}
		if (keys[k])
			skp_secmem_free(keys[k], SKP_KEK_LEN);
		failed += errs[k].code != 0 || !keys[k];
	}
	/* Nothing delivered: the KMS is taken as down, so the health worker's next probe that
	 * finds it answering retries these entries at once. */
	if (failed == n)
		pv->kms_down = 1;
	/* A KEK the batch could not deliver fails its devices here, without a second
	 * request per device. */
	for (size_t i = 0; i < nb; i++)
		for (int s = 0; s < 2 && b[i].state == 1; s++) {
			int k = b[i].kek_idx[s];
			char why[400];

			if (k < 0 || strcmp(b[i].h.slot[s].provider, pv->conf->name) || !errs[k].code)
				continue;
			snprintf(why, sizeof(why), "getting KEK %s from provider \"%s\": %s", uids[k],
				 pv->conf->name, errs[k].msg);
			entry_fail(d, &b[i], BOOT_WAIT_PROVIDER, pv->conf->name, why, now);
		}
out:
	free(uids);
	free(keys);
	free(errs);
	free(states);
	free(nodes);
	return asked;
}

/* Waiting, and its time has come: what attempt() tries and boot_retry_max_s() bounds. */
static int entry_due(const struct boot_ent *be, double now)
{
	return be->wait != BOOT_WAIT_NONE && be->next_at <= now;
}

static int attempt(struct skpd *d, double now, int summary)
{
	struct bent *b;
	struct scan_ent *scan = NULL;
	const char **mounts = NULL;
	size_t nb = 0, n_scan = 0, n_mounts = 0;
	int opened = 0, adopted = 0, failed = 0, batches = 0, fetched = 0, want_scan = 0;
	unsigned long ex0 = exchanges(d);
	double t0 = boot_now();

	/* Called on every turn of the main loop: nothing due costs nothing. */
	if (boot_next(d) < 0 || boot_next(d) > now)
		goto summary;
	b = calloc(d->n_boot, sizeof(*b));
	mounts = calloc(d->n_boot, sizeof(*mounts));
	if (!b || !mounts) {
		log_msg(LOG_E, "skptab: out of memory");
		free(b);
		free(mounts);
		return 0;
	}
	for (size_t i = 0; i < d->n_boot; i++) {
		struct boot_ent *be = &d->boot[i];

		if (!entry_due(be, now))
			continue;
		be->attempts++;
		be->last_at = now;
		want_scan |= be->e.by_uuid;
		b[nb++].be = be;
	}
	if (!nb) {
		free(b);
		free(mounts);
		goto summary;
	}
	attempt_jitter = skp_jitter(1.0);
	if (want_scan)
		scan_devices(&scan, &n_scan);

	/* 1. Resolve each entry and read its header. */
	for (size_t i = 0; i < nb; i++)
		resolve(d, &b[i], scan, n_scan, now);

	/* 2. One batched fetch per provider of the KEKs not already cached. */
	for (size_t p = 0; p < d->n_provs; p++)
		batches += fetch(d, &d->provs[p], b, nb, &fetched, now);

	/* 3. Open (or adopt): every KEK is cached now, with its State, so this talks to the
	 * kernel only. */
	for (size_t i = 0; i < nb; i++) {
		struct skptab_entry *e = &b[i].be->e;
		struct skp_dm_info info;
		struct sbuf out = {0};
		struct skp_err err = {0};
		int live;

		if (b[i].state != 1)
			continue;
		live = skp_dm_info(e->name, &info, NULL) == 0 && info.exists;
		if (op_open(d, b[i].path, e->name, e->discard, 0, &out, &err) < 0) {
			entry_fail(d, &b[i], BOOT_WAIT_OTHER, NULL, err.msg, now);
		} else {
			entry_done(d, &b[i], live ? "adopted" : "opened", now);
			live ? adopted++ : opened++;
			if (!live)
				mounts[n_mounts++] = e->name;
		}
		sb_free(&out);
	}
	/* Their fstab mounts may have given up already: a device timeout counts from the
	 * start of the boot, not from skpd's, and the KMS may have been away for minutes.
	 * An adopted mapping's mount is up or was unmounted on purpose. */
	manager_start_mounts(mounts, n_mounts);
	free(mounts);
	for (size_t i = 0; i < nb; i++)
		failed += b[i].state == -1;
	free(scan);
	free(b);
summary:
	if (summary)
		log_msg(failed || d->boot_bad ? LOG_W : LOG_I, "skptab %s: %d device(s) opened, %d adopted (already "
			"live), %d pending, %d bad line(s); %d KEK(s) fetched in %d batch(es), %lu KMIP request(s), "
			"%.3f s", d->cfg.skptab, opened, adopted, failed, d->boot_bad, fetched, batches,
			exchanges(d) - ex0, boot_now() - t0);
	return opened + adopted;
}

int boot_is_initramfs(const struct skpd *d, const char *name)
{
	for (size_t i = 0; i < d->n_boot; i++)
		if (d->boot[i].e.initramfs && !strcmp(d->boot[i].e.name, name))
			return 1;
	return 0;
}

double boot_retry_max_s(const struct skpd *d, double now)
{
	size_t due = 0;
	int64_t ms = 0;

	for (size_t i = 0; i < d->n_boot; i++)
		due += entry_due(&d->boot[i], now);
	for (size_t p = 0; due && p < d->n_provs; p++)
		ms += prov_fetch_max_ms(&d->provs[p], due);
	return (double)ms / 1000;
}

int boot_retry(struct skpd *d, double now)
{
	return attempt(d, now, 0);
}

/* Same entry across a reload: same name, same device, same options. */
static int same_entry(const struct skptab_entry *a, const struct skptab_entry *b)
{
	return !strcmp(a->name, b->name) && !strcmp(a->source, b->source) && a->nofail == b->nofail &&
	       a->discard == b->discard;
}

int boot_load(struct skpd *d, double now)
{
	struct skptab tab;
	struct skp_err err = {0};
	struct boot_ent *nb = NULL;
	int bad = 0;

	if (skptab_load_lenient(d->cfg.skptab, &tab, bad_line, &bad, &err) < 0) {
		log_msg(LOG_E, "%s: skptab not read%s", err.msg, d->n_boot ? " (the entries read before are kept)" : "");
		return -1;
	}
	if (tab.n) {
		nb = calloc(tab.n, sizeof(*nb));
		if (!nb) {
			log_msg(LOG_E, "skptab: out of memory");
			skptab_free(&tab);
			return -1;
		}
	}
	for (size_t i = 0; i < tab.n; i++) {
		struct boot_ent *o = NULL;

		for (size_t j = 0; j < d->n_boot && !o; j++)
			if (same_entry(&d->boot[j].e, &tab.e[i]))
				o = &d->boot[j];
		if (o) {
			nb[i] = *o;
			/* The configuration may have changed under it (a provider added): try now. */
			if (nb[i].wait != BOOT_WAIT_NONE) {
				nb[i].next_at = now;
				nb[i].backoff = BOOT_BACKOFF_MIN;
			}
		} else {
			nb[i].wait = BOOT_WAIT_OTHER;
			snprintf(nb[i].reason, sizeof(nb[i].reason), "not tried yet");
			nb[i].added = nb[i].next_at = now;
			nb[i].backoff = BOOT_BACKOFF_MIN;
		}
		nb[i].e = tab.e[i];
	}
	/* An entry no longer in skptab is no longer tried; a mapping of it stays open. */
	free(d->boot);
	d->boot = nb;
	d->n_boot = tab.n;
	d->boot_bad = bad;
	skptab_free(&tab);
	attempt(d, now, 1);
	return 0;
}

double boot_next(const struct skpd *d)
{
	double next = -1;

	for (size_t i = 0; i < d->n_boot; i++)
		if (d->boot[i].wait != BOOT_WAIT_NONE && (next < 0 || d->boot[i].next_at < next))
			next = d->boot[i].next_at;
	return next;
}

/* Due at once; for device events not twice a second however many come (a disk's
 * partitions, the mappings skpd itself makes).  The backoff starts again from 1 s, so an
 * entry that needs what udev makes after the event (a /dev/disk/by-* link) gets it on the
 * next attempt. */
static void kick(struct boot_ent *be, double now, int limit)
{
	double at = be->last_at + BOOT_BACKOFF_MIN;

	if (!limit || !be->attempts || at < now)
		at = now;
	if (at < be->next_at)
		be->next_at = at;
	be->backoff = BOOT_BACKOFF_MIN;
}

void boot_kick_devices(struct skpd *d, double now)
{
	for (size_t i = 0; i < d->n_boot; i++)
		if (d->boot[i].wait == BOOT_WAIT_DEVICE)
			kick(&d->boot[i], now, 1);
}

void boot_kick_providers(struct skpd *d, double now)
{
	for (size_t p = 0; p < d->n_provs; p++) {
		if (!d->provs[p].up_kick)
			continue;
		d->provs[p].up_kick = 0;
		for (size_t i = 0; i < d->n_boot; i++)
			if (d->boot[i].wait == BOOT_WAIT_PROVIDER &&
			    !strcmp(d->boot[i].provider, d->provs[p].conf->name))
				kick(&d->boot[i], now, 0);
	}
}

int boot_ready(const struct skpd *d, double now, char *status, size_t size, double *wait_s)
{
	char list[1024] = "";
	size_t n = 0, o = 0;
	double left = 0;

	for (size_t i = 0; i < d->n_boot; i++) {
		const struct boot_ent *be = &d->boot[i];
		double l = be->added + be->e.timeout - now;

		if (be->wait == BOOT_WAIT_NONE || be->e.nofail || l <= 0)
			continue;
		if (l > left)
			left = l;
		if (o < sizeof(list))
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s (%.80s)", n ? ", " : "", be->e.name,
					      be->reason);
		n++;
	}
	if (wait_s)
		*wait_s = left;
	if (status && size) {
		status[0] = '\0';
		if (n)
			snprintf(status, size, "waiting for %zu device(s): %s", n, list);
	}
	return n == 0;
}

void boot_free(struct skpd *d)
{
	free(d->boot);
	d->boot = NULL;
	d->n_boot = 0;
}

int skpd_boot_open(struct skpd *d)
{
	if (boot_load(d, boot_now()) < 0)
		return -1;
	for (size_t i = 0; i < d->n_boot; i++)
		if (d->boot[i].wait != BOOT_WAIT_NONE)
			return -1;
	return d->boot_bad ? -1 : 0;
}
