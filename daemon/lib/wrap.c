// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "secmem.h"
#include "wrap.h"

int skp_dek_generate(unsigned char *dek, size_t len, struct skp_err *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(dek + done, len - done, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return skp_err_set(err, -errno, "getrandom: %s", strerror(errno));
		}
		done += (size_t)n;
	}
	return 0;
}

static const EVP_CIPHER *wrap_cipher(size_t kek_len)
{
	switch (kek_len) {
	case 16: return EVP_aes_128_wrap_pad();
	case 24: return EVP_aes_192_wrap_pad();
	case 32: return EVP_aes_256_wrap_pad();
	default: return NULL;
	}
}

/* One pass of the wrap cipher; enc selects direction. */
static int wrap_run(int enc, const unsigned char *kek, size_t kek_len,
		    const unsigned char *in, size_t in_len, unsigned char *out, size_t *ret_len)
{
	const EVP_CIPHER *c = wrap_cipher(kek_len);
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, r = -EIO;

	if (!c)
		return -EINVAL;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	/* OpenSSL refuses the wrap modes through EVP unless explicitly allowed. */
	EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
	if (EVP_CipherInit_ex(ctx, c, NULL, kek, NULL, enc) != 1)
		goto out;
	if (EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) != 1 || n <= 0) {
		r = enc ? -EIO : -EBADMSG;
		goto out;
	}
	if (EVP_CipherFinal_ex(ctx, out + n, &fin) != 1) {
		r = enc ? -EIO : -EBADMSG;
		goto out;
	}
	*ret_len = (size_t)n + (size_t)fin;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int skp_wrap(const unsigned char *kek, size_t kek_len, const unsigned char *in, size_t in_len,
	     unsigned char *out, size_t out_size, size_t *ret_len, struct skp_err *err)
{
	size_t len = 0;
	int r;

	if (!wrap_cipher(kek_len))
		return skp_err_set(err, -EINVAL, "key wrap: KEK of %zu bytes (need 16, 24 or 32)", kek_len);
	if (in_len == 0 || in_len > 4096)
		return skp_err_set(err, -EINVAL, "key wrap: cannot wrap %zu bytes", in_len);
	if (out_size < SKP_WRAP_LEN(in_len))
		return skp_err_set(err, -ENOBUFS, "key wrap: output buffer too small");
	r = wrap_run(1, kek, kek_len, in, in_len, out, &len);
	if (r < 0 || len != SKP_WRAP_LEN(in_len)) {
		skp_wipe(out, out_size);
		return skp_err_set(err, r < 0 ? r : -EIO, "key wrap failed (OpenSSL)");
	}
	*ret_len = len;
	return 0;
}

int skp_unwrap(const unsigned char *kek, size_t kek_len, const unsigned char *in, size_t in_len,
	       unsigned char *out, size_t out_size, size_t *ret_len, struct skp_err *err)
{
	unsigned char *tmp;
	size_t len = 0;
	int r;

	if (!wrap_cipher(kek_len))
		return skp_err_set(err, -EINVAL, "key unwrap: KEK of %zu bytes (need 16, 24 or 32)", kek_len);
	if (in_len < 16 || in_len % 8 || in_len > 4096 + 16)
		return skp_err_set(err, -EBADMSG, "key unwrap: wrapped key of %zu bytes is malformed", in_len);
	/* OpenSSL may write up to in_len bytes before it knows the padded length: use scratch. */
	tmp = skp_secmem_alloc(in_len);
	if (!tmp)
		return skp_err_set(err, -ENOMEM, "key unwrap: no secure memory");
	r = wrap_run(0, kek, kek_len, in, in_len, tmp, &len);
	if (r < 0) {
		skp_secmem_free(tmp, in_len);
		if (r == -EBADMSG)
			return skp_err_set(err, r, "key unwrap: integrity check failed (wrong KEK or altered wrapped key)");
		return skp_err_set(err, r, "key unwrap failed (OpenSSL)");
	}
	if (len > out_size) {
		skp_secmem_free(tmp, in_len);
		return skp_err_set(err, -ENOBUFS, "key unwrap: unwrapped key of %zu bytes does not fit", len);
	}
	memcpy(out, tmp, len);
	skp_secmem_free(tmp, in_len);
	*ret_len = len;
	return 0;
}
