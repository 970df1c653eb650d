// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <keyutils.h>

#include "keyring.h"
#include "wrap.h"

int skp_keyring_desc(const char *uuid, char desc[SKP_KEY_DESC_MAX], struct skp_err *err)
{
	unsigned char rnd[8];
	int r = skp_dek_generate(rnd, sizeof(rnd), err);

	if (r < 0)
		return r;
	/* The random part keeps two openings of copies of one device apart. */
	snprintf(desc, SKP_KEY_DESC_MAX, "skp:%.40s:%02x%02x%02x%02x%02x%02x%02x%02x", uuid,
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	return 0;
}

int skp_keyring_add(const char *desc, const void *key, size_t len, int32_t *ret_serial,
		    struct skp_err *err)
{
	key_serial_t s;

	/* The thread keyring is searched by request_key() from this thread's table load. */
	s = add_key("logon", desc, key, len, KEY_SPEC_THREAD_KEYRING);
	if (s < 0)
		return skp_err_set(err, -errno, "adding logon key to the kernel keyring: %s", strerror(errno));
	*ret_serial = s;
	return 0;
}

int skp_keyring_remove(int32_t serial, struct skp_err *err)
{
	if (keyctl_invalidate(serial) == 0)
		return 0;
	if (keyctl_unlink(serial, KEY_SPEC_THREAD_KEYRING) == 0)
		return 0;
	return skp_err_set(err, -errno, "removing key %d from the keyring: %s", serial, strerror(errno));
}
