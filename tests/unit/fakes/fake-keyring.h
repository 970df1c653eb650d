/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake of daemon/lib/keyring.h for unit tests: logon keys in process memory.  The fake
 * device-mapper looks keys up here by description, as the kernel's request_key() does at
 * a table load; tests check that skpd leaves none behind.
 */
#ifndef SKP_FAKE_KEYRING_H
#define SKP_FAKE_KEYRING_H

#include <stddef.h>

#include "keyring.h"

/* The payload of the live key with this description, NULL if none (invalidated, never added). */
const unsigned char *fake_keyring_find(const char *desc, size_t *len);
/* Live keys: skpd drops each key once its table load is done, so this is 0 between loads. */
size_t fake_keyring_count(void);
/* Keys ever added (each table load adds one per key it carries). */
size_t fake_keyring_added(void);

#endif
