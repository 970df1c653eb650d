/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A KMIP client private key that lives in the TPM 2.0 (a provider's `key = tpm:...`),
 * used through the tpm2 OpenSSL provider (Debian's tpm2-openssl): the private key never
 * exists outside the TPM, in a file or in this process; OpenSSL asks the TPM for each
 * signature.  The provider is loaded into an OpenSSL library context of skp's own, one
 * per loaded key (so each has its own TPM connection and threads share none); the
 * process-wide default context is left as it is.  Never prints.
 *
 * Forms of `key =`:
 *   tpm:/PATH             a TSS2 PRIVATE KEY file (skpctl tpm-key create): the key's
 *                         private part wrapped by this TPM's storage key, usable only
 *                         with this TPM; root-only (0600) like a PEM key
 *   tpm:handle:0xHANDLE   a key made persistent in the TPM (0x81000000..0x81FFFFFF)
 */
#ifndef SKP_TPMKEY_H
#define SKP_TPMKEY_H

#include <openssl/evp.h>

#include "err.h"

#define SKP_TPMKEY_PREFIX	"tpm:"

enum skp_tpmkey_type { SKP_TPMKEY_EC = 0, SKP_TPMKEY_RSA = 1 };

struct skp_tpmkey;

/* 1 if spec names a TPM key ("tpm:..."), else 0 (a PEM file). */
int skp_tpmkey_is(const char *spec);
/*
 * Checks the form of spec ("tpm:/PATH" with PATH an absolute path, or "tpm:handle:0x..."
 * in the persistent range) without the TPM; for a file, that it exists and is root's
 * 0600.  0, or -EINVAL (the message says which form is expected; it names no config file).
 */
int skp_tpmkey_check(const char *spec, struct skp_err *err);
/*
 * Loads the key spec names through the tpm2 provider at tcti ("" or NULL: the default
 * TPM, device:/dev/tpmrm0).  -ENOPKG when the tpm2 provider is not installed, -ENODEV
 * when the TPM cannot be reached, -ENOENT for a handle with no key, -EINVAL for a file
 * that is no TPM key (or another TPM's).  0 or -errno.
 */
int skp_tpmkey_load(const char *spec, const char *tcti, struct skp_tpmkey **out, struct skp_err *err);
/* The key (owned by k; valid until skp_tpmkey_free). */
EVP_PKEY *skp_tpmkey_pkey(const struct skp_tpmkey *k);
/*
 * Its library context: the default provider, then the tpm2 provider (wrapped: keys,
 * signatures, key files; no digests, ciphers or random numbers).  TLS with the key runs
 * in it with SKP_TPMKEY_PROPQ: all but the key's own signatures by the default provider.
 */
OSSL_LIB_CTX *skp_tpmkey_libctx(const struct skp_tpmkey *k);
#define SKP_TPMKEY_PROPQ	"?provider=default"
/* Frees the key and its library context: after everything that holds the key (SSL_CTX). */
void skp_tpmkey_free(struct skp_tpmkey *k);

/*
 * Generates a new key (EC P-256 or RSA-2048) inside the TPM at tcti and writes it to
 * path as a TSS2 PRIVATE KEY file (created 0600; an existing file is refused, -EEXIST).
 * *out is the loaded key, for skp_tpmkey_csr.  0 or -errno.
 */
int skp_tpmkey_create(const char *path, const char *tcti, enum skp_tpmkey_type type, struct skp_tpmkey **out,
		      struct skp_err *err);
/*
 * Writes a PKCS#10 request for k to csr_path (PEM, created 0644, an existing file is
 * refused): subject "CN=host1,O=Example" (comma-separated NAME=VALUE), extended key usage
 * clientAuth, signed by the TPM with SHA-256.  0 or -errno.
 */
int skp_tpmkey_csr(const struct skp_tpmkey *k, const char *subject, const char *csr_path, struct skp_err *err);

#endif
