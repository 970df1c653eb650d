// SPDX-License-Identifier: GPL-2.0
/* Open devices, and loading their tables with keys that pass through the keyring. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyring.h"
#include "log.h"
#include "skpd.h"
#include "testhooks.h"

struct device *dev_find(struct skpd *d, const char *name)
{
	for (size_t i = 0; i < d->n_devs; i++)
		if (!strcmp(d->devs[i].name, name))
			return &d->devs[i];
	return NULL;
}

void dev_set_slot(struct device *v, const struct skp_slot *s)
{
	memcpy(v->provider, s->provider, sizeof(v->provider));
	memcpy(v->kek_uid, s->kek_uid, sizeof(v->kek_uid));
	memcpy(v->kek_name, s->kek_name, sizeof(v->kek_name));
	v->generation = s->generation;
}

int dev_add(struct skpd *d, const char *name, const char *dev, const struct skp_header *h,
	    int discard, struct skp_err *err)
{
	struct device *v;

	if (d->n_devs == d->cap_devs) {
		size_t ncap = d->cap_devs ? d->cap_devs * 2 : 64;
		struct device *nd = realloc(d->devs, ncap * sizeof(*nd));

		if (!nd)
			return skp_err_set(err, -ENOMEM, "out of memory");
		d->devs = nd;
		d->cap_devs = ncap;
	}
	v = &d->devs[d->n_devs++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->dev, sizeof(v->dev), "%s", dev);
	memcpy(v->uuid, h->uuid, 16);
	memcpy(v->label, h->label, sizeof(v->label));
	dev_set_slot(v, &h->slot[0]);
	v->data_length = h->data_length;
	v->sector_size = h->sector_size;
	v->discard = discard;
	v->opened = time(NULL);
	return 0;
}

void dev_del(struct skpd *d, struct device *v)
{
	*v = d->devs[--d->n_devs];
}

/* A key in the keyring for one table load: its description goes into the table. */
static int key_add(const unsigned char *uuid, const unsigned char *key, char *desc, int32_t *serial,
		   struct skp_err *err)
{
	char u[37];
	int r;

	skp_uuid_format(uuid, u);
	r = skp_keyring_desc(u, desc, err);
	if (r == 0)
		r = skp_keyring_add(desc, key, SKP_DEK_LEN, serial, err);
	return r;
}

/* The target holds its own copy once the table is loaded: the keyring's goes, whatever happened. */
static void key_drop(int32_t serial, const char *desc, const char *which)
{
	struct skp_err e = {0};

	if (test_keep_key(serial, desc, which))
		return;
	if (skp_keyring_remove(serial, &e) < 0)
		log_msg(LOG_W, "%s", e.msg);
}

int dev_load_table(struct skpd *d, const char *name, const char *dev, const struct skp_header *h,
		   const struct dev_keys *k, int discard, int read_only, int create, struct skp_err *err)
{
	char desc[SKP_KEY_DESC_MAX], ndesc[SKP_KEY_DESC_MAX], u[37], dmuuid[SKP_DM_NAME_MAX];
	struct skp_dm_table t = {0};
	int32_t s1 = 0, s2 = 0;
	int r;

	r = key_add(h->uuid, k->key, desc, &s1, err);
	if (r < 0)
		return r;
	if (k->new_key) {
		r = key_add(h->uuid, k->new_key, ndesc, &s2, err);
		if (r < 0)
			goto out;
		t.new_key_desc = ndesc;
		t.boundary = k->boundary;
	}
	t.target = d->cfg.target;
	t.dev = dev;
	t.offset_sectors = h->data_offset / 512;
	t.len_sectors = h->data_length / 512;
	t.key_desc = desc;
	t.sector_size = h->sector_size;
	t.allow_discards = discard;
	t.read_only = read_only;
	if (create) {
		/* The dm UUID names the device and the mapping, so copies of one device can coexist. */
		skp_uuid_format(h->uuid, u);
		snprintf(dmuuid, sizeof(dmuuid), "SKP-%s-%.80s", u, name);
		r = skp_dm_create(name, dmuuid, &t, err);
	} else {
		r = skp_dm_reload(name, &t, err);
		if (r == 0)
			r = skp_dm_suspend(name, 1, err);
		if (r == 0)
			r = skp_dm_suspend(name, 0, err);
	}
out:
	if (s2)
		key_drop(s2, ndesc, "new");
	key_drop(s1, desc, k->new_key ? "old" : "key");
	return r;
}
