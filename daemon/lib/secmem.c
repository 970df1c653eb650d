// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "secmem.h"

/*
 * Each allocation is its own mapping: mlock and MADV_DONTDUMP work on pages, and
 * keys are few and small, so page granularity costs little and keeps the
 * accounting trivial.  A length header sits in front of the user pointer.
 */
struct secmem_hdr {
	size_t map_len;
	size_t pad;	/* keeps the user pointer 16-byte aligned */
};

void skp_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}

void *skp_secmem_alloc(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t map_len;
	struct secmem_hdr *h;
	int e;

	if (len == 0 || len > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	map_len = (len + sizeof(*h) + page - 1) / page * page;
	h = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h == MAP_FAILED)
		return NULL;
	if (mlock(h, map_len) || madvise(h, map_len, MADV_DONTDUMP)) {
		e = errno;
		munmap(h, map_len);
		errno = e;
		return NULL;
	}
	h->map_len = map_len;
	return h + 1;
}

void skp_secmem_free(void *p, size_t len)
{
	struct secmem_hdr *h;

	if (!p)
		return;
	h = (struct secmem_hdr *)p - 1;
	(void)len;
	explicit_bzero(h, h->map_len);
	munlock(h, h->map_len);
	munmap(h, h->map_len);
}

int skp_secmem_harden_process(void)
{
	struct rlimit no_core = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	if (setrlimit(RLIMIT_CORE, &no_core))
		return -errno;
	return 0;
}

int skp_secmem_lock_all(void)
{
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		return -errno;
	return 0;
}
