// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "secmem.h"
#include "ttlv.h"

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- encoder ---- */

void skp_ttlv_enc_init(struct skp_ttlv_enc *e, size_t max)
{
	memset(e, 0, sizeof(*e));
	e->max = max && max < SKP_TTLV_MAX_MSG ? max : SKP_TTLV_MAX_MSG;
}

void skp_ttlv_enc_free(struct skp_ttlv_enc *e)
{
	if (e->buf) {
		skp_wipe(e->buf, e->cap);
		free(e->buf);
	}
	memset(e, 0, sizeof(*e));
}

/* Reserves n more bytes (zeroed) and returns their start, or NULL (sticky error). */
static unsigned char *reserve(struct skp_ttlv_enc *e, size_t n)
{
	unsigned char *p;

	if (e->error)
		return NULL;
	if (n > e->max - e->len) {
		e->error = -EMSGSIZE;
		return NULL;
	}
	if (e->len + n > e->cap) {
		size_t cap = e->cap ? e->cap : 256;

		while (cap < e->len + n)
			cap *= 2;
		if (cap > e->max)
			cap = e->max;
		/* Not realloc: the old buffer may hold a password and must be wiped. */
		p = malloc(cap);
		if (!p) {
			e->error = -ENOMEM;
			return NULL;
		}
		if (e->buf) {
			memcpy(p, e->buf, e->len);
			skp_wipe(e->buf, e->cap);
			free(e->buf);
		}
		e->buf = p;
		e->cap = cap;
	}
	p = e->buf + e->len;
	memset(p, 0, pad8(n));
	e->len += n;
	return p;
}

static unsigned char *item(struct skp_ttlv_enc *e, uint32_t tag, uint8_t type, size_t len)
{
	unsigned char *p;

	if (len > 0xffffffffu) {
		e->error = -EMSGSIZE;
		return NULL;
	}
	p = reserve(e, SKP_TTLV_HDR + pad8(len));
	if (!p)
		return NULL;
	p[0] = (unsigned char)(tag >> 16);
	p[1] = (unsigned char)(tag >> 8);
	p[2] = (unsigned char)tag;
	p[3] = type;
	skp_put_be32(p + 4, (uint32_t)len);
	return p + SKP_TTLV_HDR;
}

void skp_ttlv_begin(struct skp_ttlv_enc *e, uint32_t tag)
{
	size_t off = e->len;

	if (e->error)
		return;
	if (e->depth >= SKP_TTLV_MAX_DEPTH) {
		e->error = -E2BIG;
		return;
	}
	if (item(e, tag, SKP_TTLV_STRUCT, 0))
		e->open[e->depth++] = off;
}

void skp_ttlv_end(struct skp_ttlv_enc *e)
{
	size_t off;

	if (e->error)
		return;
	if (e->depth <= 0) {
		e->error = -EINVAL;
		return;
	}
	off = e->open[--e->depth];
	skp_put_be32(e->buf + off + 4, (uint32_t)(e->len - off - SKP_TTLV_HDR));
}

void skp_ttlv_int(struct skp_ttlv_enc *e, uint32_t tag, int32_t v)
{
	unsigned char *p = item(e, tag, SKP_TTLV_INT, 4);

	if (p)
		skp_put_be32(p, (uint32_t)v);
}

void skp_ttlv_enum(struct skp_ttlv_enc *e, uint32_t tag, uint32_t v)
{
	unsigned char *p = item(e, tag, SKP_TTLV_ENUM, 4);

	if (p)
		skp_put_be32(p, v);
}

void skp_ttlv_interval(struct skp_ttlv_enc *e, uint32_t tag, uint32_t v)
{
	unsigned char *p = item(e, tag, SKP_TTLV_INTERVAL, 4);

	if (p)
		skp_put_be32(p, v);
}

static void eight(struct skp_ttlv_enc *e, uint32_t tag, uint8_t type, uint64_t v)
{
	unsigned char *p = item(e, tag, type, 8);

	if (p) {
		skp_put_be32(p, (uint32_t)(v >> 32));
		skp_put_be32(p + 4, (uint32_t)v);
	}
}

void skp_ttlv_long(struct skp_ttlv_enc *e, uint32_t tag, int64_t v)
{
	eight(e, tag, SKP_TTLV_LONG, (uint64_t)v);
}

void skp_ttlv_bool(struct skp_ttlv_enc *e, uint32_t tag, int v)
{
	eight(e, tag, SKP_TTLV_BOOL, v ? 1 : 0);
}

void skp_ttlv_datetime(struct skp_ttlv_enc *e, uint32_t tag, int64_t v)
{
	eight(e, tag, SKP_TTLV_DATETIME, (uint64_t)v);
}

void skp_ttlv_text(struct skp_ttlv_enc *e, uint32_t tag, const char *s)
{
	size_t n = strlen(s);
	unsigned char *p = item(e, tag, SKP_TTLV_TEXT, n);

	if (p)
		memcpy(p, s, n);
}

void skp_ttlv_bytes(struct skp_ttlv_enc *e, uint32_t tag, const void *v, size_t n)
{
	unsigned char *p = item(e, tag, SKP_TTLV_BYTES, n);

	if (p && n)
		memcpy(p, v, n);
}

size_t skp_ttlv_last_value(const struct skp_ttlv_enc *e)
{
	/* Fixed-size items are 16 bytes: the value sits 8 bytes before the end. */
	return e->len >= 16 ? e->len - 8 : 0;
}

void skp_ttlv_patch_int(struct skp_ttlv_enc *e, size_t value_off, int32_t v)
{
	if (!e->error && value_off + 4 <= e->len)
		skp_put_be32(e->buf + value_off, (uint32_t)v);
}

int skp_ttlv_enc_result(const struct skp_ttlv_enc *e, struct skp_err *err)
{
	if (e->error == -EMSGSIZE)
		return skp_err_set(err, e->error, "TTLV encode: message larger than %zu bytes", e->max);
	if (e->error == -E2BIG)
		return skp_err_set(err, e->error, "TTLV encode: nesting deeper than %d", SKP_TTLV_MAX_DEPTH);
	if (e->error)
		return skp_err_set(err, e->error, "TTLV encode failed");
	if (e->depth)
		return skp_err_set(err, -EINVAL, "TTLV encode: %d structure(s) left open", e->depth);
	if (!e->len)
		return skp_err_set(err, -EINVAL, "TTLV encode: empty message");
	return 0;
}

/* ---- decoder ---- */

static const char *type_name(uint8_t t)
{
	static const char *const names[] = {
		"?", "Structure", "Integer", "Long Integer", "Big Integer", "Enumeration",
		"Boolean", "Text String", "Byte String", "Date-Time", "Interval",
	};

	return t <= SKP_TTLV_INTERVAL ? names[t] : "unknown";
}

int skp_ttlv_validate(const unsigned char *buf, size_t len, int max_depth, struct skp_err *err)
{
	size_t ends[SKP_TTLV_MAX_DEPTH + 1];
	size_t pos = 0;
	int d = 0;

	if (max_depth <= 0 || max_depth > SKP_TTLV_MAX_DEPTH)
		max_depth = SKP_TTLV_MAX_DEPTH;
	if (len > SKP_TTLV_MAX_MSG)
		return skp_err_set(err, -EMSGSIZE, "TTLV: message of %zu bytes exceeds the %u byte limit",
				   len, SKP_TTLV_MAX_MSG);
	ends[0] = len;
	do {
		uint32_t tag, l;
		uint8_t type;
		size_t padded, i;

		if (ends[d] - pos < SKP_TTLV_HDR)
			return skp_err_set(err, -EPROTO, "TTLV: truncated item header at offset %zu", pos);
		tag = skp_get_be32(buf + pos) >> 8;
		type = buf[pos + 3];
		l = skp_get_be32(buf + pos + 4);
		if ((tag >> 16) != 0x42 && (tag >> 16) != 0x54)
			return skp_err_set(err, -EPROTO, "TTLV: invalid tag %06X at offset %zu", tag, pos);
		padded = pad8(l);
		if (padded > ends[d] - pos - SKP_TTLV_HDR)
			return skp_err_set(err, -EPROTO,
					   "TTLV: length %u of tag %06X at offset %zu runs past the end",
					   l, tag, pos);
		switch (type) {
		case SKP_TTLV_INT:
		case SKP_TTLV_ENUM:
		case SKP_TTLV_INTERVAL:
			if (l != 4)
				goto bad_len;
			break;
		case SKP_TTLV_LONG:
		case SKP_TTLV_DATETIME:
			if (l != 8)
				goto bad_len;
			break;
		case SKP_TTLV_BOOL:
			if (l != 8)
				goto bad_len;
			if (skp_get_be64(buf + pos + SKP_TTLV_HDR) > 1)
				return skp_err_set(err, -EPROTO, "TTLV: Boolean %06X is neither 0 nor 1", tag);
			break;
		case SKP_TTLV_BIGINT:
		case SKP_TTLV_STRUCT:
			if (l % 8)
				goto bad_len;
			break;
		case SKP_TTLV_TEXT:
		case SKP_TTLV_BYTES:
			break;
		default:
			return skp_err_set(err, -EPROTO, "TTLV: unknown type %02X of tag %06X at offset %zu",
					   type, tag, pos);
		}
		if (type == SKP_TTLV_STRUCT) {
			if (d + 1 > max_depth)
				return skp_err_set(err, -EPROTO, "TTLV: nesting deeper than %d at offset %zu",
						   max_depth, pos);
			ends[++d] = pos + SKP_TTLV_HDR + l;
			pos += SKP_TTLV_HDR;
		} else {
			for (i = l; i < padded; i++)
				if (buf[pos + SKP_TTLV_HDR + i])
					return skp_err_set(err, -EPROTO,
							   "TTLV: non-zero padding in tag %06X at offset %zu",
							   tag, pos);
			pos += SKP_TTLV_HDR + padded;
		}
		while (d > 0 && pos == ends[d])
			d--;
		continue;
bad_len:
		return skp_err_set(err, -EPROTO, "TTLV: %s %06X has invalid length %u",
				   type_name(type), tag, l);
	} while (d > 0);
	if (pos != len)
		return skp_err_set(err, -EPROTO, "TTLV: %zu trailing bytes after the message", len - pos);
	return 0;
}

static void read_item(const unsigned char *p, struct skp_ttlv *out)
{
	out->tag = skp_get_be32(p) >> 8;
	out->type = p[3];
	out->len = skp_get_be32(p + 4);
	out->val = p + SKP_TTLV_HDR;
}

void skp_ttlv_root(const unsigned char *buf, struct skp_ttlv *out)
{
	read_item(buf, out);
}

void skp_ttlv_children(const struct skp_ttlv *st, struct skp_ttlv_iter *it)
{
	it->p = st->val;
	it->left = st->type == SKP_TTLV_STRUCT ? st->len : 0;
}

int skp_ttlv_next(struct skp_ttlv_iter *it, struct skp_ttlv *out)
{
	size_t n;

	if (it->left < SKP_TTLV_HDR)
		return 0;
	read_item(it->p, out);
	n = SKP_TTLV_HDR + (out->type == SKP_TTLV_STRUCT ? out->len : pad8(out->len));
	if (n > it->left)	/* impossible after validation; stay safe anyway */
		return 0;
	it->p += n;
	it->left -= n;
	return 1;
}

int skp_ttlv_expect(const struct skp_ttlv *t, uint8_t type, struct skp_err *err)
{
	if (t->type != type)
		return skp_err_set(err, -EPROTO, "TTLV: tag %06X is a %s, expected a %s", t->tag,
				   type_name(t->type), type_name(type));
	return 0;
}

int skp_ttlv_get_int(const struct skp_ttlv *t, int32_t *v, struct skp_err *err)
{
	int r = skp_ttlv_expect(t, SKP_TTLV_INT, err);

	if (!r)
		*v = (int32_t)skp_get_be32(t->val);
	return r;
}

int skp_ttlv_get_enum(const struct skp_ttlv *t, uint32_t *v, struct skp_err *err)
{
	int r = skp_ttlv_expect(t, SKP_TTLV_ENUM, err);

	if (!r)
		*v = skp_get_be32(t->val);
	return r;
}

int skp_ttlv_get_long(const struct skp_ttlv *t, int64_t *v, struct skp_err *err)
{
	int r = skp_ttlv_expect(t, SKP_TTLV_LONG, err);

	if (!r)
		*v = (int64_t)skp_get_be64(t->val);
	return r;
}

int skp_ttlv_get_bool(const struct skp_ttlv *t, int *v, struct skp_err *err)
{
	int r = skp_ttlv_expect(t, SKP_TTLV_BOOL, err);

	if (!r)
		*v = skp_get_be64(t->val) != 0;
	return r;
}

int skp_ttlv_get_datetime(const struct skp_ttlv *t, int64_t *v, struct skp_err *err)
{
	int r = skp_ttlv_expect(t, SKP_TTLV_DATETIME, err);

	if (!r)
		*v = (int64_t)skp_get_be64(t->val);
	return r;
}

int skp_ttlv_get_text(const struct skp_ttlv *t, char *out, size_t out_size, struct skp_err *err)
{
	int r = skp_ttlv_expect(t, SKP_TTLV_TEXT, err);

	if (r)
		return r;
	if (t->len >= out_size)
		return skp_err_set(err, -EPROTO, "TTLV: text %06X of %u bytes is too long (max %zu)",
				   t->tag, t->len, out_size - 1);
	if (memchr(t->val, 0, t->len))
		return skp_err_set(err, -EPROTO, "TTLV: text %06X contains a NUL byte", t->tag);
	memcpy(out, t->val, t->len);
	out[t->len] = '\0';
	return 0;
}
