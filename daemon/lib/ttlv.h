/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KMIP TTLV (Tag, Type, Length, Value) encoding, strict and bounded.
 *
 * Encoder: appends to a buffer that grows up to a fixed maximum; structures are
 * opened and closed, their lengths patched on close.  Decoder: validates a whole
 * message once (types, fixed lengths, zero padding, structure bounds, nesting
 * depth, total size), then iterates over it without copying.  No global state.
 */
#ifndef SKP_TTLV_H
#define SKP_TTLV_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_TTLV_HDR		8
#define SKP_TTLV_MAX_DEPTH	16		/* deepest KMIP 1.x message we use is 7 */
#define SKP_TTLV_MAX_MSG	(4u << 20)	/* cap on any message sent or received */

enum skp_ttlv_type {
	SKP_TTLV_STRUCT = 0x01,
	SKP_TTLV_INT = 0x02,
	SKP_TTLV_LONG = 0x03,
	SKP_TTLV_BIGINT = 0x04,
	SKP_TTLV_ENUM = 0x05,
	SKP_TTLV_BOOL = 0x06,
	SKP_TTLV_TEXT = 0x07,
	SKP_TTLV_BYTES = 0x08,
	SKP_TTLV_DATETIME = 0x09,
	SKP_TTLV_INTERVAL = 0x0A,
};

/* ---- encoder ---- */
struct skp_ttlv_enc {
	unsigned char *buf;
	size_t len, cap, max;
	size_t open[SKP_TTLV_MAX_DEPTH];	/* offsets of open structures */
	int depth;
	int error;				/* sticky negative errno */
};

/* max = 0 means SKP_TTLV_MAX_MSG. */
void skp_ttlv_enc_init(struct skp_ttlv_enc *e, size_t max);
/* Wipes (a request may hold a password) and frees the buffer. */
void skp_ttlv_enc_free(struct skp_ttlv_enc *e);
void skp_ttlv_begin(struct skp_ttlv_enc *e, uint32_t tag);
void skp_ttlv_end(struct skp_ttlv_enc *e);
void skp_ttlv_int(struct skp_ttlv_enc *e, uint32_t tag, int32_t v);
void skp_ttlv_enum(struct skp_ttlv_enc *e, uint32_t tag, uint32_t v);
void skp_ttlv_long(struct skp_ttlv_enc *e, uint32_t tag, int64_t v);
void skp_ttlv_bool(struct skp_ttlv_enc *e, uint32_t tag, int v);
void skp_ttlv_datetime(struct skp_ttlv_enc *e, uint32_t tag, int64_t v);
void skp_ttlv_interval(struct skp_ttlv_enc *e, uint32_t tag, uint32_t v);
void skp_ttlv_text(struct skp_ttlv_enc *e, uint32_t tag, const char *s);
void skp_ttlv_bytes(struct skp_ttlv_enc *e, uint32_t tag, const void *p, size_t n);
/* Offset of the value of the last item written (for patching an Integer later). */
size_t skp_ttlv_last_value(const struct skp_ttlv_enc *e);
void skp_ttlv_patch_int(struct skp_ttlv_enc *e, size_t value_off, int32_t v);
/* 0 when complete and well-formed (all structures closed), else negative errno. */
int skp_ttlv_enc_result(const struct skp_ttlv_enc *e, struct skp_err *err);

/* ---- decoder ---- */
struct skp_ttlv {
	uint32_t tag;
	uint8_t type;
	uint32_t len;			/* value length without padding */
	const unsigned char *val;	/* points into the validated buffer */
};

struct skp_ttlv_iter {
	const unsigned char *p;
	size_t left;
};

/*
 * Validates one complete top-level item occupying exactly len bytes: every nested
 * item has a known type, the fixed length of its type, zero padding, and fits its
 * parent; nesting <= max_depth (0 = SKP_TTLV_MAX_DEPTH); len <= SKP_TTLV_MAX_MSG.
 * Only after this succeeds may the iterators below be used on buf.
 */
int skp_ttlv_validate(const unsigned char *buf, size_t len, int max_depth, struct skp_err *err);

/* Reads the (validated) top-level item. */
void skp_ttlv_root(const unsigned char *buf, struct skp_ttlv *out);
/* Iterates over the children of a structure item. */
void skp_ttlv_children(const struct skp_ttlv *st, struct skp_ttlv_iter *it);
/* 1 and *out = next item, or 0 at the end. */
int skp_ttlv_next(struct skp_ttlv_iter *it, struct skp_ttlv *out);

/* Typed accessors: -EPROTO with a message naming the tag when the type is wrong. */
int skp_ttlv_get_int(const struct skp_ttlv *t, int32_t *v, struct skp_err *err);
int skp_ttlv_get_enum(const struct skp_ttlv *t, uint32_t *v, struct skp_err *err);
int skp_ttlv_get_long(const struct skp_ttlv *t, int64_t *v, struct skp_err *err);
int skp_ttlv_get_bool(const struct skp_ttlv *t, int *v, struct skp_err *err);
int skp_ttlv_get_datetime(const struct skp_ttlv *t, int64_t *v, struct skp_err *err);
/* Copies a Text String into out as a C string; -EPROTO if too long or holds NUL. */
int skp_ttlv_get_text(const struct skp_ttlv *t, char *out, size_t out_size, struct skp_err *err);
int skp_ttlv_expect(const struct skp_ttlv *t, uint8_t type, struct skp_err *err);

#endif
