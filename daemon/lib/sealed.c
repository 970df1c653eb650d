// SPDX-License-Identifier: GPL-2.0
/* Sealed files: see sealed.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "sealed.h"
#include "secmem.h"
#include "tpm.h"

#define MAGIC		"SKPSEAL\1"
#define MAGIC_LEN	8
#define NONCE_LEN	SKP_GCM_NONCE_LEN
#define TAG_LEN		SKP_GCM_TAG_LEN

int skp_aes256_gcm(int enc, const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
		   size_t aad_len, const unsigned char *in, size_t len, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok;

	if (!c)
		return 0;
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SKP_GCM_NONCE_LEN, NULL) == 1 &&
	     EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
	     EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) == 1 &&
	     (!len || EVP_CipherUpdate(c, out, &n, in, (int)len) == 1) &&
	     (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SKP_GCM_TAG_LEN, tag) == 1) &&
	     EVP_CipherFinal_ex(c, out + len, &n) == 1 &&
	     (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SKP_GCM_TAG_LEN, tag) == 1);
	EVP_CIPHER_CTX_free(c);
	return ok;
}

int skp_sealed_encode(const unsigned char key[SKP_SEALED_KEY_LEN], uint32_t pcr_mask,
		      const unsigned char *blob, size_t blob_len, const void *plain, size_t len,
		      unsigned char **out, size_t *out_len, struct skp_err *err)
{
	size_t aad_len = MAGIC_LEN + 4 + 2 + blob_len + NONCE_LEN + 4;
	unsigned char *o, *p;

	if (!blob_len || blob_len > 0xffff || len > SKP_SEALED_DATA_MAX)
		return skp_err_set(err, -EINVAL, "sealed file: TPM object or data too large");
	o = malloc(aad_len + len + TAG_LEN);
	if (!o)
		return skp_err_set(err, -ENOMEM, "out of memory");
	p = o;
	memcpy(p, MAGIC, MAGIC_LEN);
	p += MAGIC_LEN;
	skp_put_be32(p, pcr_mask);
	p += 4;
	*p++ = blob_len >> 8;
	*p++ = blob_len & 0xff;
	memcpy(p, blob, blob_len);
	p += blob_len;
	if (RAND_bytes(p, NONCE_LEN) != 1) {
		free(o);
		return skp_err_set(err, -EIO, "sealed file: no random nonce");
	}
	p += NONCE_LEN;
	skp_put_be32(p, (uint32_t)len);
	if (!skp_aes256_gcm(1, key, o + aad_len - 4 - NONCE_LEN, o, aad_len, plain, len, o + aad_len, o + aad_len + len)) {
		free(o);
		return skp_err_set(err, -EIO, "sealed file: encryption failed");
	}
	*out = o;
	*out_len = aad_len + len + TAG_LEN;
	return 0;
}

int skp_sealed_parse(const unsigned char *in, size_t len, struct skp_sealed *s, struct skp_err *err)
{
	size_t off = MAGIC_LEN + 4 + 2;

	memset(s, 0, sizeof(*s));
	if (len < off || memcmp(in, MAGIC, MAGIC_LEN))
		return skp_err_set(err, -EBADMSG, "not an skp sealed file");
	s->in = in;
	s->pcr_mask = skp_get_be32(in + MAGIC_LEN);
	s->blob_len = (size_t)in[off - 2] << 8 | in[off - 1];
	s->blob = in + off;
	if (len - off < s->blob_len + NONCE_LEN + 4)
		return skp_err_set(err, -EBADMSG, "sealed file truncated");
	off += s->blob_len;
	s->nonce = in + off;
	off += NONCE_LEN;
	s->ct_len = skp_get_be32(in + off);
	off += 4;
	s->aad_len = off;
	if (s->ct_len > SKP_SEALED_DATA_MAX || len - off != s->ct_len + TAG_LEN)
		return skp_err_set(err, -EBADMSG, "sealed file truncated or of a wrong length");
	s->ct = in + off;
	s->tag = in + off + s->ct_len;
	return 0;
}

int skp_sealed_decrypt(const unsigned char key[SKP_SEALED_KEY_LEN], const struct skp_sealed *s,
		       void *plain, struct skp_err *err)
{
	unsigned char tag[TAG_LEN];

	memcpy(tag, s->tag, TAG_LEN);
	if (!skp_aes256_gcm(0, key, s->nonce, s->in, s->aad_len, s->ct, s->ct_len, plain, tag)) {
		skp_wipe(plain, s->ct_len);
		return skp_err_set(err, -EBADMSG, "sealed file does not authenticate (changed or damaged)");
	}
	return 0;
}

int skp_sealed_seal(struct skp_tpm *t, uint32_t pcr_mask, const void *plain, size_t len,
		    unsigned char **out, size_t *out_len, struct skp_err *err)
{
	unsigned char *key = skp_secmem_alloc(SKP_SEALED_KEY_LEN), blob[SKP_TPM_BLOB_MAX];
	size_t blob_len = 0;
	int r;

	if (!key)
		return skp_err_set(err, -ENOMEM, "out of locked memory");
	if (RAND_priv_bytes(key, SKP_SEALED_KEY_LEN) != 1)
		r = skp_err_set(err, -EIO, "no random key");
	else
		r = skp_tpm_seal(t, pcr_mask, key, SKP_SEALED_KEY_LEN, blob, sizeof(blob), &blob_len, err);
	if (!r)
		r = skp_sealed_encode(key, pcr_mask, blob, blob_len, plain, len, out, out_len, err);
	skp_secmem_free(key, SKP_SEALED_KEY_LEN);
	return r;
}

int skp_sealed_open(struct skp_tpm *t, const unsigned char *in, size_t len, char **plain,
		    size_t *plain_len, struct skp_err *err)
{
	struct skp_sealed s;
	unsigned char *key;
	size_t kl = 0;
	char *p;
	int r;

	r = skp_sealed_parse(in, len, &s, err);
	if (r < 0)
		return r;
	key = skp_secmem_alloc(SKP_TPM_SECRET_MAX);
	p = skp_secmem_alloc(s.ct_len + 1);
	if (!key || !p) {
		r = skp_err_set(err, -ENOMEM, "out of locked memory");
		goto out;
	}
	r = skp_tpm_unseal(t, s.pcr_mask, s.blob, s.blob_len, key, SKP_TPM_SECRET_MAX, &kl, err);
	if (!r && kl != SKP_SEALED_KEY_LEN)
		r = skp_err_set(err, -EBADMSG, "sealed file: the TPM holds a %zu-byte key, not %d", kl,
				SKP_SEALED_KEY_LEN);
	if (!r)
		r = skp_sealed_decrypt(key, &s, p, err);
	if (!r) {
		p[s.ct_len] = '\0';
		*plain = p;
		*plain_len = s.ct_len;
		p = NULL;
	}
out:
	skp_secmem_free(key, SKP_TPM_SECRET_MAX);
	skp_secmem_free(p, s.ct_len + 1);
	return r;
}
