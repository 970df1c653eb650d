// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz builds only: secmem on malloc, so AddressSanitizer guards every buffer the
 * decoder touches (the real one is page-granular mmap, invisible to ASan, and its
 * ever-moving mappings inflate ASan's shadow memory).  Same contract as secmem.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "secmem.h"

void skp_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

void *skp_secmem_alloc(size_t len)
{
	if (len == 0 || len > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	return malloc(len);
}

void skp_secmem_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

int skp_secmem_harden_process(void)
{
	return 0;
}
