/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logon keys for the dm-skp target.  A DEK is added to the calling thread's
 * keyring just long enough for the table load to request it, then invalidated,
 * so afterwards only the target holds the key.  Logon keys cannot be read back
 * from userspace.
 */
#ifndef SKP_KEYRING_H
#define SKP_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_KEY_DESC_MAX 96

/* Builds a unique description "skp:<uuid>:<random>" into desc. */
int skp_keyring_desc(const char *uuid, char desc[SKP_KEY_DESC_MAX], struct skp_err *err);
/* Adds a logon key to the thread keyring; *ret_serial set on success. */
int skp_keyring_add(const char *desc, const void *key, size_t len, int32_t *ret_serial,
		    struct skp_err *err);
/* Invalidates the key (gone from every keyring at once); unlink as a fallback. */
int skp_keyring_remove(int32_t serial, struct skp_err *err);

#endif
