/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory for key material: locked (never swapped), excluded from core dumps,
 * wiped when freed.  Every key byte the library holds lives here.
 */
#ifndef SKP_SECMEM_H
#define SKP_SECMEM_H

#include <stddef.h>

/* Returns NULL with errno set on failure (ENOMEM, or the mlock error). */
void *skp_secmem_alloc(size_t len);
/* Wipes len bytes and frees; NULL is a no-op. len must be the allocated length. */
void skp_secmem_free(void *p, size_t len);
/* Wipes a buffer in a way the compiler may not elide. */
void skp_wipe(void *p, size_t len);
/* Process hardening for holders of keys: not dumpable, no core files. */
int skp_secmem_harden_process(void);
/*
 * Locks all of the process's memory, now and later (mlockall MCL_CURRENT|MCL_FUTURE): key
 * bytes that pass through memory the library does not own (OpenSSL's buffers, key
 * schedules, the TLS client key, stacks) never reach swap.  0 or -errno.
 */
int skp_secmem_lock_all(void);

#endif
