// SPDX-License-Identifier: GPL-2.0
/* Fake kernel keyring (fake-keyring.h): a fixed table of logon keys, in locked memory. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fake-keyring.h"
#include "secmem.h"

#define FAKE_KEYS 64
#define FAKE_KEY_MAX 64

struct fake_key {
	int32_t serial;			/* 0: free */
	char desc[SKP_KEY_DESC_MAX];
	unsigned char *payload;		/* secmem, FAKE_KEY_MAX bytes */
	size_t len;
};

static struct fake_key keys[FAKE_KEYS];
static int32_t next_serial = 1000;
static size_t added;

int skp_keyring_desc(const char *uuid, char desc[SKP_KEY_DESC_MAX], struct skp_err *err)
{
	static unsigned int n;

	/* Unique per call, like the real one's random part. */
	(void)err;
	snprintf(desc, SKP_KEY_DESC_MAX, "skp:%.40s:fake%04x", uuid, n++);
	return 0;
}

int skp_keyring_add(const char *desc, const void *key, size_t len, int32_t *ret_serial,
		    struct skp_err *err)
{
	if (len > FAKE_KEY_MAX)
		return skp_err_set(err, -EINVAL, "fake keyring: key of %zu bytes", len);
	for (int i = 0; i < FAKE_KEYS; i++) {
		struct fake_key *k = &keys[i];

		if (k->serial)
			continue;
		k->payload = skp_secmem_alloc(FAKE_KEY_MAX);
		if (!k->payload)
			return skp_err_set(err, -ENOMEM, "fake keyring: no locked memory");
		memcpy(k->payload, key, len);
		k->len = len;
		snprintf(k->desc, sizeof(k->desc), "%s", desc);
		k->serial = next_serial++;
		*ret_serial = k->serial;
		added++;
		return 0;
	}
	/* Full means skpd leaks keys: say so loudly rather than grow. */
	return skp_err_set(err, -EDQUOT, "fake keyring full: %d keys never removed", FAKE_KEYS);
}

int skp_keyring_remove(int32_t serial, struct skp_err *err)
{
	for (int i = 0; i < FAKE_KEYS; i++) {
		struct fake_key *k = &keys[i];

		if (k->serial != serial)
			continue;
		skp_secmem_free(k->payload, FAKE_KEY_MAX);
		memset(k, 0, sizeof(*k));
		return 0;
	}
	return skp_err_set(err, -ENOKEY, "removing key %d from the keyring: no such key", serial);
}

const unsigned char *fake_keyring_find(const char *desc, size_t *len)
{
	for (int i = 0; i < FAKE_KEYS; i++)
		if (keys[i].serial && !strcmp(keys[i].desc, desc)) {
			*len = keys[i].len;
			return keys[i].payload;
		}
	return NULL;
}

size_t fake_keyring_count(void)
{
	size_t n = 0;

	for (int i = 0; i < FAKE_KEYS; i++)
		n += keys[i].serial != 0;
	return n;
}

size_t fake_keyring_added(void)
{
	return added;
}
