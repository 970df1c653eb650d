// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "bytes.h"
#include "io.h"
#include "reencrypt.h"
#include "secmem.h"

/* Record layout, little-endian (docs/on-disk-format.md). */
enum {
	R_MAGIC = 0, R_VERSION = 8, R_FLAGS = 12, R_SEQ = 16, R_UUID = 24, R_OLD_GEN = 40,
	R_NEW_GEN = 48, R_SECTOR_SIZE = 56, R_RESERVED0 = 60, R_LENGTH = 64, R_BOUNDARY = 72,
	R_HOT_LEN = 80, R_RATE = 88, R_RESERVED = 92, R_MAC = 96, R_SAMPLES = SKP_RENC_HDR_SIZE,
};
_Static_assert(R_SAMPLES + SKP_RENC_MAX_HOT * SKP_RENC_SAMPLE_LEN <= SKP_RENC_SLOT_SIZE,
	       "a full record fits its slot");

/* Data reads and rewrites go through an O_DIRECT descriptor (the target writes below the
 * page cache): buffers and lengths are aligned for it. */
#define DIO_ALIGN SKP_RENC_BUF_ALIGN

static size_t rec_size(uint64_t nsamples)
{
	return R_SAMPLES + (size_t)nsamples * SKP_RENC_SAMPLE_LEN;
}

int skp_renc_key(const unsigned char *old_dek, const unsigned char *new_dek, size_t dek_len,
		 const unsigned char uuid[16], unsigned char key[SKP_RENC_KEY_LEN],
		 struct skp_err *err)
{
	static const char info[] = "skp reencrypt record v1";
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	unsigned char *ikm = skp_secmem_alloc(2 * dek_len);
	OSSL_PARAM p[5];
	int ok = 0;

	EVP_KDF_free(kdf);
	if (ctx && ikm) {
		memcpy(ikm, old_dek, dek_len);
		memcpy(ikm + dek_len, new_dek, dek_len);
		p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
		p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm, 2 * dek_len);
		p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)uuid, 16);
		p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
							 sizeof(info) - 1);
		p[4] = OSSL_PARAM_construct_end();
		ok = EVP_KDF_derive(ctx, key, SKP_RENC_KEY_LEN, p) == 1;
	}
	EVP_KDF_CTX_free(ctx);
	skp_secmem_free(ikm, 2 * dek_len);
	return ok ? 0 : skp_err_set(err, -EIO, "re-encryption key derivation failed");
}

static void encode(const struct skp_renc_rec *r, unsigned char *buf)
{
	memset(buf, 0, R_SAMPLES);
	memcpy(buf + R_MAGIC, SKP_RENC_MAGIC, 8);
	skp_put_le32(buf + R_VERSION, SKP_RENC_VERSION);
	skp_put_le32(buf + R_FLAGS, r->flags);
	skp_put_le64(buf + R_SEQ, r->seq);
	memcpy(buf + R_UUID, r->uuid, 16);
	skp_put_le64(buf + R_OLD_GEN, r->old_gen);
	skp_put_le64(buf + R_NEW_GEN, r->new_gen);
	skp_put_le32(buf + R_SECTOR_SIZE, r->sector_size);
	skp_put_le64(buf + R_LENGTH, r->length);
	skp_put_le64(buf + R_BOUNDARY, r->boundary);
	skp_put_le64(buf + R_HOT_LEN, r->hot_len);
	skp_put_le32(buf + R_RATE, r->rate_mib);
	memcpy(buf + R_SAMPLES, r->samples, (size_t)r->hot_len * SKP_RENC_SAMPLE_LEN);
}

/* HMAC over the record with its MAC field taken as zero. */
static int rec_mac(unsigned char *buf, uint64_t nsamples, const unsigned char key[SKP_RENC_KEY_LEN],
		   unsigned char mac[32])
{
	unsigned char saved[32], out[32];
	unsigned int n = 32;
	int ok;

	memcpy(saved, buf + R_MAC, 32);
	memset(buf + R_MAC, 0, 32);
	ok = HMAC(EVP_sha256(), key, SKP_RENC_KEY_LEN, buf, rec_size(nsamples), out, &n) != NULL;
	memcpy(buf + R_MAC, saved, 32);
	memcpy(mac, out, 32);
	return ok ? 0 : -EIO;
}

static int sector_size_ok(uint32_t ss)
{
	return ss >= 512 && ss <= 4096 && !(ss & (ss - 1));
}

/* Checks the record's own consistency; geom and uuid say which device it must describe. */
static int rec_fits(const struct skp_renc_rec *r, const struct skp_renc_geom *geom,
		    const unsigned char uuid[16], const char **why)
{
	uint64_t spb;

	if (memcmp(r->uuid, uuid, 16))
		return *why = "it belongs to another device", 0;
	if (!sector_size_ok(r->sector_size) || r->sector_size != geom->sector_size)
		return *why = "its sector size does not match the device", 0;
	if (r->length != geom->length)
		return *why = "its length does not match the device", 0;
	if (r->new_gen != r->old_gen + 1)
		return *why = "its key generations are inconsistent", 0;
	spb = r->sector_size / 512;
	if (r->boundary % spb || r->hot_len % spb || r->hot_len > SKP_RENC_MAX_HOT)
		return *why = "its boundary or hotzone is not aligned or too large", 0;
	if (r->boundary > r->length || r->hot_len > r->length - r->boundary)
		return *why = "its boundary or hotzone lies past the end", 0;
	if (r->flags & ~(uint32_t)SKP_RENC_PAUSED)
		return *why = "it has unknown flags", 0;
	return 1;
}

int skp_renc_rec_write(int fd, uint64_t resil_offset, const struct skp_renc_rec *r,
		       const unsigned char key[SKP_RENC_KEY_LEN], struct skp_err *err)
{
	/* Whole aligned blocks: the caller's fd may be O_DIRECT (it is in skpd). */
	size_t len = (rec_size(r->hot_len) + DIO_ALIGN - 1) / DIO_ALIGN * DIO_ALIGN;
	unsigned char *buf;
	int ret;

	if (r->hot_len > SKP_RENC_MAX_HOT)
		return skp_err_set(err, -EINVAL, "re-encryption record: hotzone too large");
	if (posix_memalign((void **)&buf, DIO_ALIGN, len))
		return skp_err_set(err, -ENOMEM, "re-encryption record: out of memory");
	memset(buf, 0, len);
	encode(r, buf);
	ret = rec_mac(buf, r->hot_len, key, buf + R_MAC);
	if (!ret)
		ret = skp_pwrite_full(fd, buf, len, resil_offset + (r->seq % 2) * SKP_RENC_SLOT_SIZE);
	if (!ret && fdatasync(fd))
		ret = -errno;
	free(buf);
	return ret ? skp_err_set(err, ret, "writing the re-encryption record: %s", strerror(-ret)) : 0;
}

/* 1 = a valid record in r, 0 = empty slot, -EBADMSG = something there that does not hold. */
static int read_slot(int fd, uint64_t off, const struct skp_renc_geom *geom,
		     const unsigned char uuid[16], const unsigned char key[SKP_RENC_KEY_LEN],
		     struct skp_renc_rec *r, const char **why)
{
	unsigned char *buf, mac[32];
	int ret;

	if (posix_memalign((void **)&buf, DIO_ALIGN, SKP_RENC_SLOT_SIZE))
		return -ENOMEM;
	ret = skp_pread_full(fd, buf, SKP_RENC_SLOT_SIZE, off);
	if (ret)
		goto out;
	if (memcmp(buf + R_MAGIC, SKP_RENC_MAGIC, 8)) {
		ret = 0;
		goto out;
	}
	ret = -EBADMSG;
	if (skp_get_le32(buf + R_VERSION) != SKP_RENC_VERSION) {
		*why = "unknown record version";
		goto out;
	}
	if (skp_get_le32(buf + R_RESERVED0) || skp_get_le32(buf + R_RESERVED)) {
		*why = "reserved field not zero";
		goto out;
	}
	/* One sample per hotzone sector: the length bounds what the MAC covers. */
	r->hot_len = skp_get_le64(buf + R_HOT_LEN);
	if (r->hot_len > SKP_RENC_MAX_HOT) {
		*why = "hotzone length out of range";
		goto out;
	}
	if (rec_mac(buf, r->hot_len, key, mac) || CRYPTO_memcmp(mac, buf + R_MAC, 32)) {
		*why = "it does not authenticate (altered, torn, or another key)";
		goto out;
	}
	r->flags = skp_get_le32(buf + R_FLAGS);
	r->seq = skp_get_le64(buf + R_SEQ);
	memcpy(r->uuid, buf + R_UUID, 16);
	r->old_gen = skp_get_le64(buf + R_OLD_GEN);
	r->new_gen = skp_get_le64(buf + R_NEW_GEN);
	r->sector_size = skp_get_le32(buf + R_SECTOR_SIZE);
	r->length = skp_get_le64(buf + R_LENGTH);
	r->boundary = skp_get_le64(buf + R_BOUNDARY);
	memcpy(r->samples, buf + R_SAMPLES, (size_t)r->hot_len * SKP_RENC_SAMPLE_LEN);
	r->rate_mib = skp_get_le32(buf + R_RATE);
	/* Authentic but wrong for this device: refuse rather than act on it. */
	ret = rec_fits(r, geom, uuid, why) ? 1 : -EBADMSG;
out:
	free(buf);
	return ret;
}

int skp_renc_rec_read(int fd, uint64_t resil_offset, const struct skp_renc_geom *geom,
		      const unsigned char uuid[16], const unsigned char key[SKP_RENC_KEY_LEN],
		      struct skp_renc_rec *r, struct skp_err *err)
{
	struct skp_renc_rec *tmp = malloc(sizeof(*tmp));
	const char *why[2] = { NULL, NULL };
	uint64_t seq[2] = { 0, 0 };
	int st[2], best = -1;

	if (!tmp)
		return skp_err_set(err, -ENOMEM, "re-encryption record: out of memory");
	for (int i = 0; i < 2; i++) {
		st[i] = read_slot(fd, resil_offset + (uint64_t)i * SKP_RENC_SLOT_SIZE, geom, uuid,
				  key, tmp, &why[i]);
		if (st[i] < 0 && st[i] != -EBADMSG) {
			free(tmp);
			return skp_err_set(err, st[i], "reading re-encryption record %d: %s", i,
					   strerror(-st[i]));
		}
		if (st[i] != 1)
			continue;
		seq[i] = tmp->seq;
		/* Record n is written to slot n % 2 only: one elsewhere was copied there. */
		if (tmp->seq % 2 != (uint64_t)i) {
			free(tmp);
			return skp_err_set(err, -ESTALE, "re-encryption record %llu is in the wrong slot (%d): it was copied there",
					   (unsigned long long)seq[i], i);
		}
		if (best < 0 || tmp->seq > r->seq) {
			memcpy(r, tmp, sizeof(*r));
			best = i;
		}
	}
	free(tmp);
	if (st[0] == 0 && st[1] == 0)
		return skp_err_set(err, -ENODATA, "no re-encryption record");
	/*
	 * Both slots hold a record for the whole rekey (two are written before the header
	 * names it), so an empty slot was erased: the other record may be the older one.  A
	 * slot that does not authenticate is a torn write of the newest record, whose chunk
	 * was not touched yet: the other one is then right.
	 */
	if (st[0] == 0 || st[1] == 0)
		return skp_err_set(err, -ESTALE, "re-encryption record slot %d is empty while slot %d holds %s: a record was erased",
				   st[0] == 0 ? 0 : 1, st[0] == 0 ? 1 : 0,
				   best >= 0 ? "a valid record" : "an invalid one");
	if (best < 0)
		return skp_err_set(err, -EBADMSG, "re-encryption state refused: %s",
				   why[0] ? why[0] : why[1]);
	/* Records alternate: the other slot holds the one before.  A gap is a put-back record. */
	if (st[0] == 1 && st[1] == 1 && seq[0] + 1 != seq[1] && seq[1] + 1 != seq[0])
		return skp_err_set(err, -ESTALE, "re-encryption records %llu and %llu are not consecutive: an older one was put back",
				   (unsigned long long)seq[0], (unsigned long long)seq[1]);
	return 0;
}

int skp_renc_rec_clear(int fd, uint64_t resil_offset, struct skp_err *err)
{
	unsigned char *zero = NULL;
	int ret = posix_memalign((void **)&zero, DIO_ALIGN, SKP_RENC_SLOT_SIZE) ? -ENOMEM : 0;

	if (zero)
		memset(zero, 0, SKP_RENC_SLOT_SIZE);

	for (int i = 0; !ret && i < 2; i++)
		ret = skp_pwrite_full(fd, zero, SKP_RENC_SLOT_SIZE,
				      resil_offset + (uint64_t)i * SKP_RENC_SLOT_SIZE);
	if (!ret && fdatasync(fd))
		ret = -errno;
	free(zero);
	return ret ? skp_err_set(err, ret, "clearing re-encryption records: %s", strerror(-ret)) : 0;
}

int skp_renc_sample_hotzone(int fd, const struct skp_renc_geom *geom, struct skp_renc_rec *r,
			    unsigned char *buf, struct skp_err *err)
{
	uint32_t ss = geom->sector_size;
	int ret;

	if (!sector_size_ok(ss) || r->hot_len > SKP_RENC_MAX_HOT || (r->hot_len * 512) % ss)
		return skp_err_set(err, -EINVAL, "hotzone of %llu sectors does not fit sector size %u",
				   (unsigned long long)r->hot_len, ss);
	ret = skp_pread_full(fd, buf, r->hot_len * 512, geom->data_offset + r->boundary * 512);
	if (ret)
		return skp_err_set(err, ret, "reading the hotzone: %s", strerror(-ret));
	for (uint64_t i = 0; i < r->hot_len; i++)
		memcpy(r->samples[i], buf + i * 512, SKP_RENC_SAMPLE_LEN);
	return 0;
}

int skp_xts_sector(const struct skp_renc_geom *geom, const unsigned char *dek, size_t dek_len,
		   int encrypt, uint64_t sector, const unsigned char *in, unsigned char *out,
		   struct skp_err *err)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char iv[16] = { 0 };
	uint64_t ivs = sector + geom->iv_offset;
	int n = 0, ok;

	if (!c)
		return skp_err_set(err, -ENOMEM, "XTS: out of memory");
	if (dek_len != 64) {
		EVP_CIPHER_CTX_free(c);
		return skp_err_set(err, -EINVAL, "XTS: key of %zu bytes, need 64", dek_len);
	}
	if (geom->iv_large_sectors)
		ivs /= geom->sector_size / 512;
	skp_put_le64(iv, ivs);
	ok = EVP_CipherInit_ex(c, EVP_aes_256_xts(), NULL, dek, iv, encrypt) &&
	     EVP_CipherUpdate(c, out, &n, in, (int)geom->sector_size) &&
	     n == (int)geom->sector_size;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : skp_err_set(err, -EIO, "XTS failed");
}

/*
 * Which 512-byte parts of the crypto sector in raw are still old: bit k for part k.  A
 * crypto sector has at most 8 parts (4096 bytes).
 */
static unsigned int old_parts(const unsigned char *raw, uint32_t ss,
			      const unsigned char (*samples)[SKP_RENC_SAMPLE_LEN])
{
	unsigned int mask = 0;

	for (uint32_t k = 0; k < ss / 512; k++)
		if (!CRYPTO_memcmp(raw + k * 512, samples[k], SKP_RENC_SAMPLE_LEN))
			mask |= 1u << k;
	return mask;
}

int skp_renc_recover(int fd, const struct skp_renc_geom *geom, const struct skp_renc_rec *r,
		     const unsigned char *old_dek, const unsigned char *new_dek, size_t dek_len,
		     uint64_t *ret_redone, uint64_t *ret_torn, struct skp_err *err)
{
	uint32_t ss = geom->sector_size, spb = ss / 512;
	unsigned int all = (1u << spb) - 1;
	unsigned char *raw = NULL, *plain = skp_secmem_alloc(2 * ss);
	uint64_t redone = 0, torn = 0;
	int ret = 0;

	if (posix_memalign((void **)&raw, DIO_ALIGN, ss))
		raw = NULL;
	if (!raw || !plain) {
		ret = skp_err_set(err, -ENOMEM, "recovery: out of memory");
		goto out;
	}
	for (uint64_t s = 0; s < r->hot_len; s += spb) {
		uint64_t sector = r->boundary + s;
		uint64_t off = geom->data_offset + sector * 512;
		unsigned int old;

		ret = skp_pread_full(fd, raw, ss, off);
		if (ret) {
			skp_err_set(err, ret, "recovery: reading sector %llu: %s",
				    (unsigned long long)sector, strerror(-ret));
			goto out;
		}
		old = old_parts(raw, ss, r->samples + s);
		if (!old)
			continue;	/* already rewritten under the new key */
		ret = skp_xts_sector(geom, old_dek, dek_len, 0, sector, raw, plain, err);
		if (!ret && old != all) {
			/*
			 * Torn: XTS deciphers each 16-byte block on its own (no ciphertext
			 * stealing at these sizes), so the new parts decrypt under the new key
			 * in place of the old key's garbage.
			 */
			ret = skp_xts_sector(geom, new_dek, dek_len, 0, sector, raw, plain + ss, err);
			for (uint32_t k = 0; !ret && k < spb; k++)
				if (!(old & (1u << k)))
					memcpy(plain + k * 512, plain + ss + k * 512, 512);
			torn++;
		}
		if (!ret)
			ret = skp_xts_sector(geom, new_dek, dek_len, 1, sector, plain, raw, err);
		if (!ret)
			ret = skp_pwrite_full(fd, raw, ss, off);
		if (ret) {
			if (!err || !err->code)
				skp_err_set(err, ret, "recovery: writing sector %llu: %s",
					    (unsigned long long)sector, strerror(-ret));
			goto out;
		}
		redone += (uint64_t)__builtin_popcount(old);
	}
	if (redone && fdatasync(fd))
		ret = skp_err_set(err, -errno, "recovery: flushing: %s", strerror(errno));
	if (!ret && ret_redone)
		*ret_redone = redone;
	if (!ret && ret_torn)
		*ret_torn = torn;
out:
	free(raw);
	skp_secmem_free(plain, 2 * ss);
	return ret;
}
