/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A sealed file: data encrypted (AES-256-GCM) under a random 256-bit key that the TPM
 * seals (tpm.h), for data larger than a TPM sealed object holds.  Never prints.
 *
 *   "SKPSEAL\1" | pcr mask (u32) | blob length (u16) | TPM blob | nonce (12) |
 *   data length (u32) | ciphertext | GCM tag (16)          (integers big-endian)
 *
 * Everything before the ciphertext is the GCM's additional data: a changed byte anywhere
 * fails the whole file, nothing of it is used.  Without the TPM that made the blob the
 * file holds nothing usable.
 */
#ifndef SKP_SEALED_H
#define SKP_SEALED_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_SEALED_KEY_LEN	32
#define SKP_GCM_NONCE_LEN	12
#define SKP_GCM_TAG_LEN		16
#define SKP_SEALED_DATA_MAX	(1u << 20)

struct skp_tpm;

struct skp_sealed {
	uint32_t pcr_mask;
	const unsigned char *blob;	/* the TPM object sealing the key */
	size_t blob_len;
	const unsigned char *nonce, *ct, *tag;
	size_t ct_len, aad_len;		/* the additional data: in[0..aad_len) */
	const unsigned char *in;
};

/* AES-256-GCM of len bytes in to out (len may be 0) with aad_len bytes of additional
 * data: enc writes the tag, decryption checks it.  1 on success, 0 on any failure.  Also
 * the cipher of native provider backups (native.h). */
int skp_aes256_gcm(int enc, const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
		   size_t aad_len, const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag);
/* The file image of plain under key; *out is malloc'ed (it holds no secret).  0 or -errno. */
int skp_sealed_encode(const unsigned char key[SKP_SEALED_KEY_LEN], uint32_t pcr_mask,
		      const unsigned char *blob, size_t blob_len, const void *plain, size_t len,
		      unsigned char **out, size_t *out_len, struct skp_err *err);
/* Splits a file image (in stays the caller's).  -EBADMSG when malformed. */
int skp_sealed_parse(const unsigned char *in, size_t len, struct skp_sealed *s, struct skp_err *err);
/* Decrypts into plain (s->ct_len bytes, locked memory).  -EBADMSG when it does not authenticate. */
int skp_sealed_decrypt(const unsigned char key[SKP_SEALED_KEY_LEN], const struct skp_sealed *s,
		       void *plain, struct skp_err *err);

/* A new key sealed by the TPM (bound to pcr_mask), plain encrypted under it. */
int skp_sealed_seal(struct skp_tpm *t, uint32_t pcr_mask, const void *plain, size_t len,
		    unsigned char **out, size_t *out_len, struct skp_err *err);
/*
 * The key unsealed by the TPM, the data decrypted into *plain (locked memory of *len + 1
 * bytes, NUL-terminated; free with skp_secmem_free(*plain, *len + 1)).  All or nothing.
 */
int skp_sealed_open(struct skp_tpm *t, const unsigned char *in, size_t len, char **plain,
		    size_t *plain_len, struct skp_err *err);

#endif
