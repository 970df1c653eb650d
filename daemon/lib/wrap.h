/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Data keys: generation from the kernel's CSPRNG and AES key wrap with padding
 * (RFC 5649) under a KEK, through OpenSSL's EVP.  Keys live in caller buffers,
 * which should come from skp_secmem_alloc().
 */
#ifndef SKP_WRAP_H
#define SKP_WRAP_H

#include <stddef.h>

#include "err.h"

#define SKP_KEK_LEN	32	/* AES-256 KEK held in the KMS */
#define SKP_DEK_LEN	64	/* AES-256-XTS: two 256-bit keys */
/* RFC 5649 output: input padded to a multiple of 8, plus the 8-byte integrity block. */
#define SKP_WRAP_LEN(n)	((((n) + 7) / 8) * 8 + 8)
#define SKP_WRAPPED_MAX	SKP_WRAP_LEN(SKP_DEK_LEN)

/* Fills dek with len bytes from getrandom(2), retrying short reads and EINTR. */
int skp_dek_generate(unsigned char *dek, size_t len, struct skp_err *err);

/*
 * Wraps in[in_len] under kek[kek_len] (16, 24 or 32 bytes).  out must hold
 * SKP_WRAP_LEN(in_len) bytes; *ret_len is set on success.
 */
int skp_wrap(const unsigned char *kek, size_t kek_len, const unsigned char *in, size_t in_len,
	     unsigned char *out, size_t out_size, size_t *ret_len, struct skp_err *err);

/*
 * Unwraps; -EBADMSG when the integrity check fails (wrong KEK or altered data).
 * out must hold in_len - 8 bytes; nothing is left in out on failure.
 */
int skp_unwrap(const unsigned char *kek, size_t kek_len, const unsigned char *in, size_t in_len,
	       unsigned char *out, size_t out_size, size_t *ret_len, struct skp_err *err);

#endif
