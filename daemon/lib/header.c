// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "bytes.h"
#include "header.h"
#include "io.h"
#include "secmem.h"

/* Byte offsets inside one 4 KiB copy (docs/on-disk-format.md). */
enum {
	O_MAGIC = 0, O_VMAJ = 8, O_VMIN = 10, O_CSIZE = 12, O_SEQ = 16, O_COPYOFF = 24,
	O_UUID = 32, O_LABEL = 48, O_CIPHER = 112, O_SECTOR = 144, O_FLAGS = 148,
	O_DOFF = 152, O_DLEN = 160, O_ROFF = 168, O_RSIZE = 176, O_RSV0 = 184,
	O_SLOT0 = 256, SLOT_SIZE = 512, O_REENC = 1280, O_RSV1 = 1792, O_SUM = 4064,
	/* within a slot */
	S_STATE = 0, S_DEKLEN = 4, S_GEN = 8, S_PROV = 16, S_UID = 80, S_NAME = 208,
	S_WLEN = 336, S_RSV0 = 340, S_WRAP = 344, S_MAC = 440, S_RSV1 = 472,
};

static int all_zero(const unsigned char *p, size_t n)
{
	unsigned char acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

void skp_uuid_format(const unsigned char u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
		 u[12], u[13], u[14], u[15]);
}

int skp_uuid_parse(const char *s, unsigned char u[16])
{
	static const int dash[] = {8, 13, 18, 23};
	size_t n = 0;

	if (strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36; i++) {
		int isdash = i == (size_t)dash[0] || i == (size_t)dash[1] ||
			     i == (size_t)dash[2] || i == (size_t)dash[3];
		char c = s[i];
		int v;

		if (isdash) {
			if (c != '-')
				return -EINVAL;
			continue;
		}
		if (c >= '0' && c <= '9') v = c - '0';
		else if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
		else return -EINVAL;
		if (n % 2 == 0)
			u[n / 2] = (unsigned char)(v << 4);
		else
			u[n / 2] |= (unsigned char)v;
		n++;
	}
	return 0;
}

int skp_name_valid(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == 0 || n >= max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return s[0] != '.' && s[0] != '-';
}

/* A fixed-size text field: printable ASCII, NUL-terminated, zero after the NUL. */
static int text_field_ok(const unsigned char *p, size_t size, int allow_empty)
{
	size_t n = strnlen((const char *)p, size);

	if (n == size || (!allow_empty && n == 0))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return 0;
	return all_zero(p + n, size - n);
}

static void put_text(unsigned char *p, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memset(p, 0, size);
	memcpy(p, s, n);
}

int skp_header_init(struct skp_header *h, uint64_t dev_size, uint32_t sector_size,
		    const char *label, struct skp_err *err)
{
	uint64_t len;
	int r;

	memset(h, 0, sizeof(*h));
	if (sector_size != 512 && sector_size != 1024 && sector_size != 2048 && sector_size != 4096)
		return skp_err_set(err, -EINVAL, "sector size %u is not 512, 1024, 2048 or 4096", sector_size);
	if (label && !text_field_ok((const unsigned char *)label, strnlen(label, SKP_LABEL_MAX) + 1, 1))
		return skp_err_set(err, -EINVAL, "label must be printable ASCII of at most %d characters",
				   SKP_LABEL_MAX - 1);
	if (label && strlen(label) >= SKP_LABEL_MAX)
		return skp_err_set(err, -EINVAL, "label longer than %d characters", SKP_LABEL_MAX - 1);
	if (dev_size < (uint64_t)SKP_DATA_OFFSET + SKP_DATA_ALIGN)
		return skp_err_set(err, -ENOSPC, "device of %llu bytes is too small (need at least %u MiB)",
				   (unsigned long long)dev_size, (SKP_DATA_OFFSET + SKP_DATA_ALIGN) >> 20);
	len = (dev_size - SKP_DATA_OFFSET) / sector_size * sector_size;
	h->version_major = SKP_HDR_VERSION_MAJOR;
	h->version_minor = SKP_HDR_VERSION_MINOR;
	r = skp_dek_generate(h->uuid, sizeof(h->uuid), err);
	if (r < 0)
		return r;
	h->uuid[6] = (unsigned char)((h->uuid[6] & 0x0f) | 0x40);	/* RFC 4122 version 4 */
	h->uuid[8] = (unsigned char)((h->uuid[8] & 0x3f) | 0x80);
	if (label)
		snprintf(h->label, sizeof(h->label), "%s", label);
	snprintf(h->cipher, sizeof(h->cipher), "%s", SKP_CIPHER);
	h->sector_size = sector_size;
	h->data_offset = SKP_DATA_OFFSET;
	h->data_length = len;
	h->resil_offset = SKP_RESIL_OFFSET;
	h->resil_size = SKP_RESIL_SIZE;
	return 0;
}

static void encode_slot(const struct skp_slot *s, unsigned char *p)
{
	memset(p, 0, SLOT_SIZE);
	if (s->state == SKP_SLOT_EMPTY)
		return;
	skp_put_le32(p + S_STATE, s->state);
	skp_put_le32(p + S_DEKLEN, s->dek_len);
	skp_put_le64(p + S_GEN, s->generation);
	put_text(p + S_PROV, SKP_PROVIDER_MAX, s->provider);
	put_text(p + S_UID, SKP_KEK_UID_MAX, s->kek_uid);
	put_text(p + S_NAME, SKP_KEK_NAME_MAX, s->kek_name);
	skp_put_le32(p + S_WLEN, s->wrapped_len);
	memcpy(p + S_WRAP, s->wrapped, s->wrapped_len <= SKP_SLOT_WRAPPED_MAX ? s->wrapped_len : 0);
	memcpy(p + S_MAC, s->mac, SKP_MAC_LEN);
}

static void checksum(const unsigned char *buf, unsigned char out[32])
{
	unsigned int n = 32;

	EVP_Digest(buf, O_SUM, out, &n, EVP_sha256(), NULL);
}

void skp_header_encode(const struct skp_header *h, uint64_t copy_offset,
		       unsigned char out[SKP_HDR_COPY_SIZE])
{
	memset(out, 0, SKP_HDR_COPY_SIZE);
	memcpy(out + O_MAGIC, SKP_HDR_MAGIC, 8);
	skp_put_le16(out + O_VMAJ, h->version_major);
	skp_put_le16(out + O_VMIN, h->version_minor);
	skp_put_le32(out + O_CSIZE, SKP_HDR_COPY_SIZE);
	skp_put_le64(out + O_SEQ, h->seq);
	skp_put_le64(out + O_COPYOFF, copy_offset);
	memcpy(out + O_UUID, h->uuid, 16);
	put_text(out + O_LABEL, SKP_LABEL_MAX, h->label);
	put_text(out + O_CIPHER, SKP_CIPHER_MAX, h->cipher);
	skp_put_le32(out + O_SECTOR, h->sector_size);
	skp_put_le64(out + O_DOFF, h->data_offset);
	skp_put_le64(out + O_DLEN, h->data_length);
	skp_put_le64(out + O_ROFF, h->resil_offset);
	skp_put_le64(out + O_RSIZE, h->resil_size);
	for (int i = 0; i < SKP_SLOTS; i++)
		encode_slot(&h->slot[i], out + O_SLOT0 + i * SLOT_SIZE);
	memcpy(out + O_REENC, h->reenc, SKP_REENC_STATE_SIZE);
	checksum(out, out + O_SUM);
}

static int decode_slot(const unsigned char *p, int i, struct skp_slot *s, struct skp_err *err)
{
	memset(s, 0, sizeof(*s));
	s->state = skp_get_le32(p + S_STATE);
	if (s->state == SKP_SLOT_EMPTY) {
		if (!all_zero(p, SLOT_SIZE))
			return skp_err_set(err, -EBADMSG, "slot %d is empty but not zeroed", i);
		return 0;
	}
	if (s->state != SKP_SLOT_ACTIVE && s->state != SKP_SLOT_NEW)
		return skp_err_set(err, -EBADMSG, "slot %d: unknown state %u", i, s->state);
	s->dek_len = skp_get_le32(p + S_DEKLEN);
	if (s->dek_len != SKP_DEK_LEN)
		return skp_err_set(err, -EBADMSG, "slot %d: DEK length %u (expected %d)", i, s->dek_len, SKP_DEK_LEN);
	s->generation = skp_get_le64(p + S_GEN);
	if (s->generation == 0 || s->generation > (1ull << 40))
		return skp_err_set(err, -EBADMSG, "slot %d: DEK generation %llu out of range", i,
				   (unsigned long long)s->generation);
	if (!text_field_ok(p + S_PROV, SKP_PROVIDER_MAX, 0) ||
	    !skp_name_valid((const char *)p + S_PROV, SKP_PROVIDER_MAX))
		return skp_err_set(err, -EBADMSG, "slot %d: provider name is not a valid name", i);
	if (!text_field_ok(p + S_UID, SKP_KEK_UID_MAX, 0))
		return skp_err_set(err, -EBADMSG, "slot %d: KEK unique identifier malformed", i);
	if (!text_field_ok(p + S_NAME, SKP_KEK_NAME_MAX, 1))
		return skp_err_set(err, -EBADMSG, "slot %d: KEK name malformed", i);
	memcpy(s->provider, p + S_PROV, SKP_PROVIDER_MAX);
	memcpy(s->kek_uid, p + S_UID, SKP_KEK_UID_MAX);
	memcpy(s->kek_name, p + S_NAME, SKP_KEK_NAME_MAX);
	s->wrapped_len = skp_get_le32(p + S_WLEN);
	if (s->wrapped_len != SKP_WRAP_LEN(s->dek_len))
		return skp_err_set(err, -EBADMSG, "slot %d: wrapped key length %u (expected %d)", i,
				   s->wrapped_len, SKP_WRAP_LEN(SKP_DEK_LEN));
	if (skp_get_le32(p + S_RSV0) || !all_zero(p + S_WRAP + s->wrapped_len, SKP_SLOT_WRAPPED_MAX - s->wrapped_len) ||
	    !all_zero(p + S_RSV1, SLOT_SIZE - S_RSV1))
		return skp_err_set(err, -EBADMSG, "slot %d: reserved bytes not zero", i);
	memcpy(s->wrapped, p + S_WRAP, s->wrapped_len);
	memcpy(s->mac, p + S_MAC, SKP_MAC_LEN);
	return 0;
}

int skp_header_decode(const unsigned char *buf, size_t len, uint64_t copy_offset,
		      struct skp_header *h, struct skp_err *err)
{
	unsigned char sum[32];
	uint64_t end;
	int r;

	memset(h, 0, sizeof(*h));
	if (len < SKP_HDR_COPY_SIZE)
		return skp_err_set(err, -EBADMSG, "header copy truncated (%zu bytes)", len);
	if (memcmp(buf + O_MAGIC, SKP_HDR_MAGIC, 8))
		return skp_err_set(err, -ENODATA, "no skp header (bad magic)");
	checksum(buf, sum);
	if (CRYPTO_memcmp(sum, buf + O_SUM, 32))
		return skp_err_set(err, -EBADMSG, "checksum mismatch");
	h->version_major = skp_get_le16(buf + O_VMAJ);
	h->version_minor = skp_get_le16(buf + O_VMIN);
	if (h->version_major != SKP_HDR_VERSION_MAJOR || h->version_minor > SKP_HDR_VERSION_MINOR)
		return skp_err_set(err, -EPROTONOSUPPORT, "header format %u.%u not supported (this build reads %d.0 to %d.%d)",
				   h->version_major, h->version_minor, SKP_HDR_VERSION_MAJOR,
				   SKP_HDR_VERSION_MAJOR, SKP_HDR_VERSION_MINOR);
	if (skp_get_le32(buf + O_CSIZE) != SKP_HDR_COPY_SIZE)
		return skp_err_set(err, -EBADMSG, "copy size %u (expected %u)", skp_get_le32(buf + O_CSIZE), SKP_HDR_COPY_SIZE);
	h->seq = skp_get_le64(buf + O_SEQ);
	if (h->seq == 0 || h->seq == UINT64_MAX)
		return skp_err_set(err, -EBADMSG, "sequence number %llu invalid", (unsigned long long)h->seq);
	if (skp_get_le64(buf + O_COPYOFF) != copy_offset)
		return skp_err_set(err, -EBADMSG, "copy records offset %llu but sits at %llu",
				   (unsigned long long)skp_get_le64(buf + O_COPYOFF), (unsigned long long)copy_offset);
	memcpy(h->uuid, buf + O_UUID, 16);
	if (all_zero(h->uuid, 16))
		return skp_err_set(err, -EBADMSG, "device UUID is zero");
	if (!text_field_ok(buf + O_LABEL, SKP_LABEL_MAX, 1))
		return skp_err_set(err, -EBADMSG, "label malformed");
	memcpy(h->label, buf + O_LABEL, SKP_LABEL_MAX);
	if (!text_field_ok(buf + O_CIPHER, SKP_CIPHER_MAX, 0) || strcmp((const char *)buf + O_CIPHER, SKP_CIPHER))
		return skp_err_set(err, -EBADMSG, "cipher is not %s", SKP_CIPHER);
	memcpy(h->cipher, buf + O_CIPHER, SKP_CIPHER_MAX);
	h->sector_size = skp_get_le32(buf + O_SECTOR);
	if (h->sector_size != 512 && h->sector_size != 1024 && h->sector_size != 2048 && h->sector_size != 4096)
		return skp_err_set(err, -EBADMSG, "sector size %u invalid", h->sector_size);
	if (skp_get_le32(buf + O_FLAGS))
		return skp_err_set(err, -EBADMSG, "unknown header flags 0x%x", skp_get_le32(buf + O_FLAGS));
	h->data_offset = skp_get_le64(buf + O_DOFF);
	h->data_length = skp_get_le64(buf + O_DLEN);
	h->resil_offset = skp_get_le64(buf + O_ROFF);
	h->resil_size = skp_get_le64(buf + O_RSIZE);
	if (h->resil_offset < SKP_HDR_AREA_SIZE || h->resil_offset % 4096 || h->resil_size % 4096 ||
	    h->resil_size > (1ull << 40) || h->resil_offset > (1ull << 40))
		return skp_err_set(err, -EBADMSG, "resilience area %llu+%llu invalid",
				   (unsigned long long)h->resil_offset, (unsigned long long)h->resil_size);
	if (h->data_offset % SKP_DATA_ALIGN || h->data_offset < h->resil_offset + h->resil_size ||
	    h->data_offset > (1ull << 50))
		return skp_err_set(err, -EBADMSG, "data offset %llu invalid", (unsigned long long)h->data_offset);
	if (h->data_length == 0 || h->data_length % h->sector_size || h->data_length > (1ull << 60) ||
	    __builtin_add_overflow(h->data_offset, h->data_length, &end))
		return skp_err_set(err, -EBADMSG, "data length %llu invalid", (unsigned long long)h->data_length);
	if (!all_zero(buf + O_RSV0, O_SLOT0 - O_RSV0) || !all_zero(buf + O_RSV1, O_SUM - O_RSV1))
		return skp_err_set(err, -EBADMSG, "reserved header bytes not zero");
	for (int i = 0; i < SKP_SLOTS; i++) {
		r = decode_slot(buf + O_SLOT0 + i * SLOT_SIZE, i, &h->slot[i], err);
		if (r < 0)
			return r;
	}
	if (h->slot[0].state != SKP_SLOT_ACTIVE)
		return skp_err_set(err, -EBADMSG, "slot 0 holds no active key");
	/* 1.1: slot 1 is empty, or the NEW key of a deep rekey (its progress lives in the
	 * resilience area); 1.0 knows no rekey, so its slot 1 stays empty. */
	if (h->slot[1].state == SKP_SLOT_ACTIVE)
		return skp_err_set(err, -EBADMSG, "slot 1 cannot hold an active key");
	if (h->slot[1].state == SKP_SLOT_NEW && h->version_minor < 1)
		return skp_err_set(err, -EBADMSG, "format 1.0 header with a new-key slot");
	if (h->slot[1].state == SKP_SLOT_NEW && h->slot[1].generation != h->slot[0].generation + 1)
		return skp_err_set(err, -EBADMSG, "new-key slot generation %llu does not follow %llu",
				   (unsigned long long)h->slot[1].generation,
				   (unsigned long long)h->slot[0].generation);
	memcpy(h->reenc, buf + O_REENC, SKP_REENC_STATE_SIZE);
	/* The in-header rekey state area is still unused (records are in the resilience area). */
	if (!all_zero(h->reenc, SKP_REENC_STATE_SIZE))
		return skp_err_set(err, -EBADMSG, "reserved rekey state bytes not zero");
	return 0;
}

/* HKDF-SHA256(DEK, salt = device UUID, info = label below) -> HMAC key. */
static int mac_key(const struct skp_header *h, const unsigned char *dek, size_t dek_len,
		   unsigned char *key)
{
	static const char info[] = "skp header mac v1";
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5];
	int ok;

	EVP_KDF_free(kdf);
	if (!ctx)
		return -ENOMEM;
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)dek, dek_len);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)h->uuid, 16);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, sizeof(info) - 1);
	p[4] = OSSL_PARAM_construct_end();
	ok = EVP_KDF_derive(ctx, key, 32, p);
	EVP_KDF_CTX_free(ctx);
	return ok == 1 ? 0 : -EIO;
}

int skp_header_mac(const struct skp_header *h, const unsigned char *dek, size_t dek_len,
		   unsigned char mac[SKP_MAC_LEN], struct skp_err *err)
{
	unsigned char buf[SKP_HDR_COPY_SIZE], *key;
	unsigned int n = SKP_MAC_LEN;
	int r;

	key = skp_secmem_alloc(32);
	if (!key)
		return skp_err_set(err, -ENOMEM, "header MAC: no secure memory");
	r = mac_key(h, dek, dek_len, key);
	if (r < 0) {
		skp_secmem_free(key, 32);
		return skp_err_set(err, r, "header MAC: HKDF failed");
	}
	/* Everything but the copy offset, the MACs and the checksum is authenticated. */
	skp_header_encode(h, 0, buf);
	for (int i = 0; i < SKP_SLOTS; i++)
		memset(buf + O_SLOT0 + i * SLOT_SIZE + S_MAC, 0, SKP_MAC_LEN);
	if (!HMAC(EVP_sha256(), key, 32, buf, O_SUM, mac, &n))
		r = skp_err_set(err, -EIO, "header MAC: HMAC failed");
	skp_secmem_free(key, 32);
	return r;
}

int skp_header_verify(const struct skp_header *h, int slot, const unsigned char *dek,
		      size_t dek_len, struct skp_err *err)
{
	unsigned char mac[SKP_MAC_LEN];
	int r;

	if (slot < 0 || slot >= SKP_SLOTS || h->slot[slot].state == SKP_SLOT_EMPTY)
		return skp_err_set(err, -EINVAL, "header slot %d is empty", slot);
	r = skp_header_mac(h, dek, dek_len, mac, err);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(mac, h->slot[slot].mac, SKP_MAC_LEN))
		return skp_err_set(err, -EBADMSG, "header authentication failed: the header was altered");
	return 0;
}

/* Picks the newest valid copy of an area holding both copies. */
static int pick_copy(const unsigned char *area, uint64_t dev_size, struct skp_header *h,
		     struct skp_header_info *info, struct skp_err *err)
{
	static const uint64_t offs[2] = {SKP_HDR_COPY_A, SKP_HDR_COPY_B};
	struct skp_header c[2];
	struct skp_err e[2] = {0};
	int ok[2], best = -1, nodata = 0;

	for (int i = 0; i < 2; i++) {
		ok[i] = skp_header_decode(area + offs[i], SKP_HDR_COPY_SIZE, offs[i], &c[i], &e[i]) == 0;
		if (ok[i] && c[i].data_offset + c[i].data_length > dev_size) {
			skp_err_set(&e[i], -EBADMSG, "data area ends at %llu, past the device end %llu",
				    (unsigned long long)(c[i].data_offset + c[i].data_length),
				    (unsigned long long)dev_size);
			ok[i] = 0;
		}
		if (e[i].code == -ENODATA)
			nodata++;
		if (info) {
			info->copy_ok[i] = ok[i];
			info->copy_seq[i] = ok[i] ? c[i].seq : 0;
			snprintf(info->copy_err[i], sizeof(info->copy_err[i]), "%s", ok[i] ? "" : e[i].msg);
		}
		if (ok[i] && (best < 0 || c[i].seq > c[best].seq))
			best = i;
	}
	if (best < 0) {
		if (nodata == 2)
			return skp_err_setc(err, SKP_ERRC_NO_DEVICE, -ENODATA, "not an skp device (no header found)");
		return skp_err_set(err, e[0].code == -ENODATA ? e[1].code : e[0].code,
				   "no valid header copy (A: %.90s; B: %.90s)", e[0].msg, e[1].msg);
	}
	/* Two valid copies with one sequence number but different contents: refuse to guess. */
	if (ok[0] && ok[1] && c[0].seq == c[1].seq &&
	    memcmp(area + offs[0] + O_UUID, area + offs[1] + O_UUID, O_SUM - O_UUID))
		return skp_err_set(err, -EBADMSG, "header copies disagree at the same sequence number");
	if (info)
		info->used = best;
	*h = c[best];
	return 0;
}

int skp_header_read(int fd, uint64_t dev_size, struct skp_header *h,
		    struct skp_header_info *info, struct skp_err *err)
{
	unsigned char *area;
	int r;

	if (dev_size < SKP_HDR_AREA_SIZE)
		return skp_err_set(err, -ENODATA, "device too small to hold an skp header");
	area = calloc(1, SKP_HDR_AREA_SIZE);
	if (!area)
		return skp_err_set(err, -ENOMEM, "out of memory");
	r = skp_pread_full(fd, area, SKP_HDR_AREA_SIZE, 0);
	if (r < 0) {
		free(area);
		return skp_err_set(err, r, "reading header: %s", strerror(-r));
	}
	if (info)
		memset(info, 0, sizeof(*info));
	r = pick_copy(area, dev_size, h, info, err);
	free(area);
	return r;
}

int skp_header_check_area(const unsigned char *area, size_t len, uint64_t dev_size,
			  struct skp_header *h, struct skp_err *err)
{
	if (len != SKP_HDR_AREA_SIZE)
		return skp_err_set(err, -EBADMSG, "header backup has %zu bytes (expected %u)", len, SKP_HDR_AREA_SIZE);
	return pick_copy(area, dev_size, h, NULL, err);
}

int skp_header_read_dev(const char *path, int flags, int *ret_fd, struct skp_header *h,
			struct skp_err *err)
{
	uint64_t size = 0;
	int fd = skp_dev_open(path, flags, &size, err), r;

	if (fd < 0)
		return fd;
	r = skp_header_read(fd, size, h, NULL, err);
	if (r < 0) {
		close(fd);
		return skp_err_wrap(err, "%s", path);
	}
	if (ret_fd)
		*ret_fd = fd;
	else
		close(fd);
	return 0;
}

int skp_header_write(int fd, struct skp_header *h, const unsigned char *const deks[SKP_SLOTS],
		     struct skp_err *err)
{
	static const uint64_t offs[2] = {SKP_HDR_COPY_A, SKP_HDR_COPY_B};
	unsigned char buf[SKP_HDR_COPY_SIZE];
	struct skp_header chk;
	int r;

	if (h->seq >= UINT64_MAX - 1)
		return skp_err_set(err, -EOVERFLOW, "header sequence number exhausted");
	h->seq++;
	/* 1.1 only when it is needed, so a device without a rekey in flight stays 1.0 for
	 * older readers. */
	h->version_minor = h->slot[1].state == SKP_SLOT_EMPTY ? 0 : 1;
	for (int i = 0; i < SKP_SLOTS; i++) {
		if (h->slot[i].state == SKP_SLOT_EMPTY)
			continue;
		if (!deks || !deks[i])
			return skp_err_set(err, -EINVAL, "header write: no key for slot %d", i);
		r = skp_header_mac(h, deks[i], h->slot[i].dek_len, h->slot[i].mac, err);
		if (r < 0)
			return r;
	}
	for (int i = 0; i < 2; i++) {
		skp_header_encode(h, offs[i], buf);
		/* Never write what we could not read back. */
		r = skp_header_decode(buf, sizeof(buf), offs[i], &chk, err);
		if (r < 0)
			return skp_err_wrap(err, "header write: refusing invalid header");
		r = skp_pwrite_full(fd, buf, sizeof(buf), offs[i]);
		if (r == 0 && fdatasync(fd) < 0)
			r = -errno;
		if (r < 0)
			return skp_err_set(err, r, "writing header copy %c: %s", 'A' + i, strerror(-r));
	}
	return 0;
}

int skp_header_restore_check(const struct skp_header *backup, const struct skp_header *cur,
			     struct skp_err *err)
{
	unsigned char a[SKP_HDR_COPY_SIZE], b[SKP_HDR_COPY_SIZE];
	char u[37], cu[37];

	if (memcmp(backup->uuid, cur->uuid, 16)) {
		skp_uuid_format(backup->uuid, u);
		skp_uuid_format(cur->uuid, cu);
		return skp_err_set(err, -EXDEV, "the device holds %s but the backup is of %s", cu, u);
	}
	if (backup->seq > cur->seq)
		return 0;
	skp_header_encode(backup, 0, a);
	skp_header_encode(cur, 0, b);
	if (backup->seq == cur->seq && !memcmp(a, b, sizeof(a)))
		return 0;
	return skp_err_set(err, -ESTALE, "the backup is older than the device's header (sequence %llu%s %llu, "
			   "DEK generation %llu%s vs %llu%s)", (unsigned long long)backup->seq,
			   backup->seq == cur->seq ? ", other contents, at" : " <", (unsigned long long)cur->seq,
			   (unsigned long long)backup->slot[0].generation,
			   backup->slot[1].state == SKP_SLOT_NEW ? " mid-rekey" : "",
			   (unsigned long long)cur->slot[0].generation,
			   cur->slot[1].state == SKP_SLOT_NEW ? " mid-rekey" : "");
}
