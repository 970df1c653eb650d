/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A native key provider: KEKs made by this host and kept in a store file sealed by its
 * TPM (sealed.c, tpm.c), for hosts or sites without a KMS.  Never prints.
 *
 * The store is DIR/keys.sealed (DIR = native_dir/NAME, 0700); inside the sealed file,
 * text:
 *   skp-native 1 NAME
 *   kek UID STATE KMIP-NAME HEX-KEY        (one line per KEK; STATE 1..6 as KMIP)
 * Every change (a new KEK, a revoked one, a restore) is made under DIR/.lock on the
 * store read afresh, then sealed and renamed into place: skpd and `skpctl provider
 * restore` may both write it.  A KEK missing from memory is looked for in the file
 * again before it is declared unknown (a restore while skpd runs).
 *
 * A backup (skpctl provider backup) is the same text under a passphrase: scrypt
 * (OpenSSL 3's EVP_KDF) then AES-256-GCM, docs/on-disk-format.md:
 *   "SKPNATB" 0x01 | kdf 1 (scrypt) | log2 N | r | p | salt (16) | check (16) |
 *   nonce (12) | length (u32 BE) | ciphertext | tag (16)
 * scrypt gives 64 bytes: the AES key and a check key; check = HMAC-SHA256(check key,
 * "skp native backup")[0..16), so a wrong passphrase is told from a damaged file.
 * Everything before the ciphertext is the GCM's additional data.
 */
#ifndef SKP_NATIVE_H
#define SKP_NATIVE_H

#include <stddef.h>

#include "err.h"

#define SKP_NATIVE_DIR_DEFAULT	"/var/lib/skp/native"
#define SKP_NATIVE_MAX_KEKS	65536
#define SKP_NATIVE_PASS_MIN	8	/* a backup's passphrase, bytes */
#define SKP_NATIVE_PASS_MAX	1024
/* scrypt's cost: N = 2^16, r = 8, p = 1: 64 MiB and a fraction of a second. */
#define SKP_NATIVE_SCRYPT_LOGN	16

struct skp_native;

/* The store of provider name in dir (not read yet); tcti: the TPM ("" = /dev/tpmrm0). */
struct skp_native *skp_native_new(const char *dir, const char *name, const char *tcti, struct skp_err *err);
void skp_native_free(struct skp_native *n);
const char *skp_native_dir(const struct skp_native *n);
/*
 * Reads the store again (the TPM unseals it; no file: an empty store).  A TPM that is
 * missing, another host's, or a damaged file: an error saying which, the KEKs in memory
 * kept.  0 or -errno.
 */
int skp_native_load(struct skp_native *n, struct skp_err *err);
/* KEKs in memory. */
size_t skp_native_count(const struct skp_native *n);
/* A new AES-256 KEK named name (Active), sealed into the store before it is returned:
 * its uid (a random UUID) to uid.  0 or -errno (nothing kept). */
int skp_native_create(struct skp_native *n, const char *name, char *uid, size_t uid_size, struct skp_err *err);
/* KEK uid: *key in secmem (SKP_KEK_LEN, caller frees), *state (KMIP 1..6; may be NULL).
 * -ENOENT (class KEY_REFUSED) when the store does not hold it. */
int skp_native_get(struct skp_native *n, const char *uid, unsigned char **key, int *state, struct skp_err *err);
/* Marks KEK uid Deactivated (3) in the store (a deep rekey retired it); the key stays. */
int skp_native_revoke(struct skp_native *n, const char *uid, struct skp_err *err);

/* The store read afresh, encrypted under pass: *out malloc'ed.  pass: at least
 * SKP_NATIVE_PASS_MIN bytes. */
int skp_native_backup(struct skp_native *n, const char *pass, size_t pass_len, unsigned char **out,
		      size_t *out_len, struct skp_err *err);
/*
 * Adds the KEKs of a backup to the store (the backup's provider name must be this one's):
 * all or nothing.  A KEK already there with the same bytes is counted in *present; with
 * other bytes, the whole restore is refused.  -EKEYREJECTED: wrong passphrase;
 * -EBADMSG: a changed, damaged or truncated file.
 */
int skp_native_restore(struct skp_native *n, const unsigned char *in, size_t len, const char *pass,
		       size_t pass_len, size_t *added, size_t *present, struct skp_err *err);

/* The backup format alone (tests): plain text under pass with scrypt cost 2^log_n. */
int skp_native_backup_encode(const char *plain, size_t len, const char *pass, size_t pass_len, int log_n,
			     unsigned char **out, size_t *out_len, struct skp_err *err);
/* Decrypts a backup into *plain (secmem, *len + 1 bytes, NUL-terminated). */
int skp_native_backup_decode(const unsigned char *in, size_t len, const char *pass, size_t pass_len,
			     char **plain, size_t *plain_len, struct skp_err *err);

#endif
