// SPDX-License-Identifier: GPL-2.0
/* Device operations: format, open, close, shallow rekey, migration (skptab at boot: boot.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dm.h"
#include "io.h"
#include "kmip.h"
#include "log.h"
#include "ops.h"
#include "probe.h"
#include "proto.h"
#include "provider.h"
#include "rekey.h"
#include "sbuf.h"
#include "secmem.h"
#include "skpd.h"
#include "wrap.h"

/*
 * What else dev holds (filesystems, partition tables, LUKS, swap, RAID: lib/probe.c) refuses
 * the format, named, unless the request says FORCE.  An skp header is not in the list.
 */
static int foreign_check(int fd, const struct skp_req *q, struct skp_sigs *sigs, struct skp_err *err)
{
	char what[160];

	if (skp_probe_sigs(fd, sigs, err) < 0)
		return skp_err_wrap(err, "%s", q->dev);
	if (sigs->n && !(q->flags & SKP_REQ_FORCE))
		return skp_err_set(err, -EEXIST, "%s holds %s: refusing to format; --force to overwrite it",
				   q->dev, skp_sigs_describe(sigs, 0, what, sizeof(what)));
	return 0;
}

/* FORCE: every signature erased, what went logged (also what went before a failure). */
static int foreign_wipe(int fd, const char *dev, struct sbuf *out, struct skp_err *err)
{
	struct skp_sigs w;
	char what[512];
	int r = skp_probe_wipe(fd, &w, err);

	skp_sigs_describe(&w, SKP_SIGS_OFFSETS, what, sizeof(what));
	if (r < 0) {
		if (w.n)
			log_msg(LOG_W, "format --force of %s failed after wiping %s", dev, what);
		return skp_err_wrap(err, "%s: wiping what it held (no header written)", dev);
	}
	sb_printf(out, "wiped from %s: %s\n", dev, what);
	log_msg(LOG_W, "format --force of %s: wiped %s", dev, what);
	if (w.rrpart)
		log_msg(LOG_W, "%s: the kernel did not re-read its partition table (%s): its old partitions "
			"stay until it does", dev, strerror(-w.rrpart));
	return 0;
}

int op_format(struct skpd *d, const struct skp_req *q, struct sbuf *out, struct skp_err *err)
{
	const char *pname = q->provider[0] ? q->provider : NULL;
	struct skp_header h, old;
	struct skp_sigs sigs;
	struct prov *pv;
	unsigned char *dek = NULL;
	const unsigned char *deks[SKP_SLOTS] = {NULL, NULL};
	uint64_t size = 0;
	char u[37];
	int fd, r;

	if (!pname) {
		const struct skp_provider_conf *c = skp_config_default(&d->cfg);

		if (!c)
			return skp_err_set(err, -ENOENT, "no provider configured");
		pname = c->name;
	}
	pv = skpd_prov(d, pname);
	if (!pv)
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", pname);
	/* O_EXCL: refuse a device that is mounted or mapped. */
	fd = skp_dev_open(q->dev, O_RDWR | O_EXCL, &size, err);
	if (fd < 0)
		return fd;
	/* Formatting over a live skp header would orphan its data: refuse, say how to proceed. */
	if (skp_header_read(fd, size, &old, NULL, NULL) == 0) {
		skp_uuid_format(old.uuid, u);
		r = skp_err_setc(err, SKP_ERRC_BUSY, -EEXIST, "%s already holds an skp header (UUID %s); erase its first "
				"128 KiB to format it again", q->dev, u);
		goto out;
	}
	r = foreign_check(fd, q, &sigs, err);
	if (r < 0)
		goto out;
	r = skp_header_init(&h, size, q->sector_size ? q->sector_size : 4096,
			    q->label[0] ? q->label : NULL, err);
	if (r < 0)
		goto out;
	dek = skp_secmem_alloc(SKP_DEK_LEN);
	if (!dek) {
		r = skp_err_set(err, -ENOMEM, "no locked memory for the DEK");
		goto out;
	}
	r = skp_dek_generate(dek, SKP_DEK_LEN, err);
	if (r < 0)
		goto out;
	h.slot[0].state = SKP_SLOT_ACTIVE;
	h.slot[0].generation = 1;
	r = kek_wrap_new(d, pv, h.uuid, dek, &h.slot[0], err);
	if (r < 0)
		goto out;
	deks[0] = dek;
	/* Last, once nothing that can fail without writing is left: the KEK exists. */
	if (sigs.n) {
		r = foreign_wipe(fd, q->dev, out, err);
		if (r < 0)
			goto out;
	}
	r = skp_header_write(fd, &h, deks, err);
	if (r < 0)
		goto out;
	skp_uuid_format(h.uuid, u);
	sb_printf(out, "formatted %s: UUID %s, provider %s, KEK %s, %llu bytes of data\n", q->dev, u,
		  pname, h.slot[0].kek_uid, (unsigned long long)h.data_length);
	log_msg(LOG_I, "formatted %s: UUID %s, provider %s, KEK %s (%s)", q->dev, u, pname,
		h.slot[0].kek_uid, h.slot[0].kek_name);
out:
	skp_secmem_free(dek, SKP_DEK_LEN);
	close(fd);
	return r;
}

/* A live mapping is adopted only if it sits on dev at the header's data offset: its dm
 * UUID alone would also match a copy of the device on another disk. */
static int check_backing(const char *name, const char *dev, const struct skp_header *h,
			 struct skp_err *err)
{
	char type[32], params[512];
	struct skp_target_table t;
	struct stat st;
	int r;

	r = skp_dm_status(name, 1, type, sizeof(type), params, sizeof(params), err);
	if (r < 0)
		return r;
	if (stat(dev, &st) < 0)
		return skp_err_set(err, -errno, "%s: %s", dev, strerror(errno));
	if (!skp_target_type_ok(type) || skp_target_table_parse(params, &t) < 0)
		return skp_err_setc(err, SKP_ERRC_BUSY, -EEXIST, "mapping %s already exists and is not an skp mapping (target %s): "
				   "refusing to adopt it", name, type);
	if (!S_ISBLK(st.st_mode) || t.major != major(st.st_rdev) || t.minor != minor(st.st_rdev))
		return skp_err_setc(err, SKP_ERRC_BUSY, -EEXIST, "mapping %s already exists on device %u:%u, not on %s: refusing to "
				   "adopt it (close it, or open %s under another name)", name, t.major, t.minor, dev, dev);
	if (t.offset_sectors != h->data_offset / 512)
		return skp_err_setc(err, SKP_ERRC_BUSY, -EEXIST, "mapping %s maps %s from sector %llu, not from the header's data "
				   "offset %llu: refusing to adopt it", name, dev, (unsigned long long)t.offset_sectors,
				   (unsigned long long)(h->data_offset / 512));
	return 0;
}

/*
 * A mapping of dev that is live in the kernel (skpd restarted): take it over without
 * touching the table, and continue an interrupted deep rekey from the kernel's boundary.
 * The header is authenticated with the unwrapped DEK, as open does.
 */
static int adopt(struct skpd *d, const char *dev, const char *name, const struct skp_dm_info *info,
		 int discard, struct sbuf *out, struct skp_err *err)
{
	struct skp_header h;
	unsigned char *dek = NULL;
	char u[37], want[48];
	int r;

	r = skp_header_read_dev(dev, O_RDONLY, NULL, &h, err);
	if (r < 0)
		return r;
	skp_uuid_format(h.uuid, u);
	snprintf(want, sizeof(want), "SKP-%s-", u);
	if (strncmp(info->uuid, want, strlen(want)))
		return skp_err_setc(err, SKP_ERRC_BUSY, -EEXIST, "mapping %s already exists and is not %s", name, dev);
	r = check_backing(name, dev, &h, err);
	if (r < 0)
		return r;
	if (h.slot[1].state == SKP_SLOT_NEW)
		return rekey_open(d, dev, name, &h, discard, 1, out, err);	/* authenticates both slots */
	r = kek_unwrap_slot(d, dev, &h, 0, &dek, err);
	skp_secmem_free(dek, SKP_DEK_LEN);
	if (r < 0)
		return skp_err_wrap(err, "adopting %s of %s", name, dev);
	r = dev_add(d, name, dev, &h, discard, err);
	if (r < 0)
		return r;
	sb_printf(out, "adopted /dev/mapper/%s (%s, UUID %s, already open)\n", name, dev, u);
	log_msg(LOG_I, "adopted live mapping %s of %s (UUID %s)", name, dev, u);
	return 0;
}

/*
 * A deep rekey retires the old KEK at the KMS (revoked as Superseded: Deactivated), so a
 * header of an older DEK generation written back (a backup, a snapshot) names a retired
 * KEK: it opens read-only unless the administrator asked for it (restoring a backup), and
 * either way says so.  Returns 1 for read-only.  When the KMS cannot be asked (down, the
 * KEK came from the cache) the open goes on: the cache never holds a KEK this host retired.
 */
static int rollback_check(struct skpd *d, const char *dev, const struct skp_slot *s, unsigned int flags,
			  struct sbuf *out)
{
	struct skp_err e = {0};
	int state = 0, r = kek_retired(d, s->provider, s->kek_uid, &state, &e);

	if (r < 0) {
		log_msg(LOG_W, "%s: KEK %s state unknown (%s): opened without the rollback check", dev,
			s->kek_uid, e.msg);
		return 0;
	}
	if (!r)
		return 0;
	if (flags & SKP_REQ_SUPERSEDED) {
		sb_printf(out, "warning: KEK %s is %s in the KMS: opening DEK generation %llu read-write as asked "
			  "(--allow-superseded)\n", s->kek_uid, skp_kmip_state_name((uint32_t)state), (unsigned long long)s->generation);
		log_msg(LOG_W, "%s: KEK %s is %s in the KMS; DEK generation %llu opened read-write on explicit request "
			"(--allow-superseded): an older header was restored", dev, s->kek_uid, skp_kmip_state_name((uint32_t)state),
			(unsigned long long)s->generation);
		return 0;
	}
	sb_printf(out, "warning: KEK %s is %s in the KMS: this header holds a superseded data key (DEK generation "
		  "%llu, an old backup or snapshot?); opened READ-ONLY. To restore it on purpose: close, then open "
		  "with --allow-superseded\n", s->kek_uid, skp_kmip_state_name((uint32_t)state), (unsigned long long)s->generation);
	log_msg(LOG_W, "%s: KEK %s is %s in the KMS: DEK generation %llu is superseded; opened read-only", dev,
		s->kek_uid, skp_kmip_state_name((uint32_t)state), (unsigned long long)s->generation);
	return 1;
}

int op_open(struct skpd *d, const char *dev, const char *name, int discard, unsigned int flags,
	    struct sbuf *out, struct skp_err *err)
{
	struct skp_header h;
	struct skp_dm_info info;
	unsigned char *dek = NULL;
	char u[37];
	int r, ro;

	if (!skp_name_valid(name, SKP_DM_NAME_MAX))
		return skp_err_set(err, -EINVAL, "mapping name '%.64s' is not valid ([A-Za-z0-9._-])", name);
	r = skp_dm_info(name, &info, err);
	if (r < 0)
		return r;
	if (dev_find(d, name))
		return skp_err_setc(err, SKP_ERRC_BUSY, -EEXIST, "mapping %s already exists", name);
	if (info.exists)
		return adopt(d, dev, name, &info, discard, out, err);
	r = skp_header_read_dev(dev, O_RDONLY | O_EXCL, NULL, &h, err);
	if (r < 0)
		return r;
	if (h.slot[1].state == SKP_SLOT_NEW) {
		if (flags & SKP_REQ_READONLY)
			return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "%s: a deep rekey is in progress: it goes on "
					    "when the device opens read-write", dev);
		return rekey_open(d, dev, name, &h, discard, 0, out, err);
	}
	r = kek_unwrap_slot(d, dev, &h, 0, &dek, err);
	if (r < 0)
		return skp_err_wrap(err, "opening %s", dev);
	ro = (flags & SKP_REQ_READONLY) || rollback_check(d, dev, &h.slot[0], flags, out);
	r = dev_load_table(d, name, dev, &h, &(struct dev_keys){.key = dek}, discard, ro, 1, err);
	skp_secmem_free(dek, SKP_DEK_LEN);
	if (r < 0)
		return r;
	r = dev_add(d, name, dev, &h, discard, err);
	if (r < 0)
		return r;
	dev_find(d, name)->read_only = ro;
	skp_uuid_format(h.uuid, u);
	sb_printf(out, "opened %s as /dev/mapper/%s (UUID %s, provider %s, KEK %s%s)\n", dev, name, u,
		  h.slot[0].provider, h.slot[0].kek_uid, ro ? ", read-only" : "");
	log_msg(LOG_I, "opened %s as %s (UUID %s, provider %s, KEK %s, DEK generation %llu)", dev, name,
		u, h.slot[0].provider, h.slot[0].kek_uid, (unsigned long long)h.slot[0].generation);
	return 0;
}

int op_close(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err)
{
	struct device *v = dev_find(d, name);
	struct skp_dm_info info;
	int r;

	r = skp_dm_info(name, &info, err);
	if (r < 0)
		return r;
	if (!info.exists) {
		if (v) {
			rekey_free(v);
			dev_del(d, v);
		}
		return skp_err_setc(err, SKP_ERRC_NO_DEVICE, -ENOENT, "no mapping %s", name);
	}
	if (strncmp(info.uuid, "SKP-", 4))
		return skp_err_setc(err, SKP_ERRC_NO_DEVICE, -EPERM, "mapping %s is not an skp device", name);
	if (info.open_count)
		return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "mapping %s is in use (open count %u)", name, info.open_count);
	if (v && rekey_on_close(v, err) < 0)
		return err->code;
	r = skp_dm_remove(name, err);
	if (r < 0)
		return r;
	if (v)
		dev_del(d, v);
	sb_printf(out, "closed %s\n", name);
	log_msg(LOG_I, "closed %s", name);
	return 0;
}

int op_rekey(struct skpd *d, const char *name, const char *provider, struct sbuf *out,
	     struct skp_err *err)
{
	struct device *v = dev_find(d, name);
	struct skp_header h;
	struct prov *pv;
	unsigned char *dek = NULL;
	const unsigned char *deks[SKP_SLOTS] = {NULL, NULL};
	struct skp_slot ns;
	char old_uid[SKP_KEK_UID_MAX], old_prov[SKP_PROVIDER_MAX];
	int fd = -1, r;

	if (!v)
		return skp_err_setc(err, SKP_ERRC_NO_DEVICE, -ENOENT, "%s is not a device opened by this skpd", name);
	if (rekey_in_progress(v))
		return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "a deep rekey of %s is in progress; a shallow rekey waits for it", name);
	if (v->read_only)
		return skp_err_set(err, -EROFS, "%s is open read-only: a rekey writes its header", name);
	pv = skpd_prov(d, provider ? provider : v->provider);
	if (!pv)
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", provider ? provider : v->provider);
	/* Not O_EXCL: the mapping holds the device; only the header area is rewritten. */
	r = skp_header_read_dev(v->dev, O_RDWR, &fd, &h, err);
	if (r < 0)
		return r;
	if (memcmp(h.uuid, v->uuid, 16)) {
		r = skp_err_set(err, -ESTALE, "%s no longer holds the header of %s", v->dev, name);
		goto out;
	}
	r = kek_unwrap_slot(d, v->dev, &h, 0, &dek, err);
	if (r < 0)
		goto out;
	ns = h.slot[0];
	r = kek_wrap_new(d, pv, h.uuid, dek, &ns, err);
	if (r < 0)
		goto out;
	snprintf(old_uid, sizeof(old_uid), "%s", h.slot[0].kek_uid);
	snprintf(old_prov, sizeof(old_prov), "%s", h.slot[0].provider);
	h.slot[0] = ns;
	deks[0] = dek;
	/* The data and the kernel's key are untouched: I/O goes on while the header changes. */
	r = skp_header_write(fd, &h, deks, err);
	if (r < 0)
		goto out;
	dev_set_slot(v, &ns);
	v->problem[0] = '\0';
	sb_printf(out, "rekeyed %s (shallow): KEK %s on %s -> KEK %s on %s\n", name, old_uid, old_prov,
		  ns.kek_uid, ns.provider);
	log_msg(LOG_I, "shallow rekey of %s: KEK %s on %s -> KEK %s (%s) on %s; the old KEK is kept in the KMS",
		name, old_uid, old_prov, ns.kek_uid, ns.kek_name, ns.provider);
out:
	skp_secmem_free(dek, SKP_DEK_LEN);
	close(fd);
	return r;
}

int op_migrate(struct skpd *d, const char *from, const char *to, struct sbuf *out,
	       struct skp_err *err)
{
	size_t done = 0, failed = 0;
	char names[64][SKP_DM_NAME_MAX];
	size_t n = 0;

	if (!skpd_prov(d, to))
		return skp_err_set(err, -ENOENT, "provider \"%s\" is not configured", to);
	if (!strcmp(from, to))
		return skp_err_set(err, -EINVAL, "source and target provider are the same");
	/* Collect first: a rekey updates the device list entries. */
	for (size_t i = 0; i < d->n_devs; i++) {
		if (strcmp(d->devs[i].provider, from))
			continue;
		if (n == 64) {
			sb_printf(out, "more than 64 devices: run the command again for the rest\n");
			break;
		}
		snprintf(names[n++], SKP_DM_NAME_MAX, "%s", d->devs[i].name);
	}
	for (size_t i = 0; i < n; i++) {
		struct skp_err e = {0};

		if (op_rekey(d, names[i], to, out, &e) < 0) {
			failed++;
			sb_printf(out, "FAILED %s: %s\n", names[i], e.msg);
			log_msg(LOG_E, "migration of %s to %s failed: %s", names[i], to, e.msg);
		} else {
			done++;
		}
	}
	sb_printf(out, "migrated %zu device(s) from %s to %s, %zu failed\n", done, from, to, failed);
	if (failed)
		return skp_err_set(err, -EIO, "%zu of %zu device(s) could not be migrated from %s to %s",
				   failed, n, from, to);
	return 0;
}
