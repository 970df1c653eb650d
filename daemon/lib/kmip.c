// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "kmip.h"
#include "secmem.h"

/* ---- requests ---- */

int skp_kmip_req_init(struct skp_kmip_req *r, const struct skp_kmip_opts *o, struct skp_err *err)
{
	int major = o && (o->major || o->minor) ? o->major : 1;
	int minor = o && (o->major || o->minor) ? o->minor : 1;

	memset(r, 0, sizeof(*r));
	if (major != 1 || minor < 0 || minor > SKP_KMIP_MINOR_MAX)
		return skp_err_set(err, -EINVAL, "KMIP protocol %d.%d not supported (1.0 to 1.4)",
				   major, minor);
	skp_ttlv_enc_init(&r->enc, 0);
	r->minor = minor;
	r->no_batch_ids = o ? o->no_batch_ids : 0;
	if (o) {
		r->create_attrs = o->create_attrs;
		r->n_create_attrs = o->n_create_attrs;
	}
	skp_ttlv_begin(&r->enc, KMIP_TAG_REQUEST_MESSAGE);
	skp_ttlv_begin(&r->enc, KMIP_TAG_REQUEST_HEADER);
	skp_ttlv_begin(&r->enc, KMIP_TAG_PROTOCOL_VERSION);
	skp_ttlv_int(&r->enc, KMIP_TAG_PROTOCOL_VERSION_MAJOR, major);
	skp_ttlv_int(&r->enc, KMIP_TAG_PROTOCOL_VERSION_MINOR, minor);
	skp_ttlv_end(&r->enc);
	if (o && o->max_response)
		skp_ttlv_int(&r->enc, KMIP_TAG_MAXIMUM_RESPONSE_SIZE, (int32_t)o->max_response);
	if (o && o->username) {
		skp_ttlv_begin(&r->enc, KMIP_TAG_AUTHENTICATION);
		skp_ttlv_begin(&r->enc, KMIP_TAG_CREDENTIAL);
		skp_ttlv_enum(&r->enc, KMIP_TAG_CREDENTIAL_TYPE, 1);	/* Username and Password */
		skp_ttlv_begin(&r->enc, KMIP_TAG_CREDENTIAL_VALUE);
		skp_ttlv_text(&r->enc, KMIP_TAG_USERNAME, o->username);
		if (o->password)
			skp_ttlv_text(&r->enc, KMIP_TAG_PASSWORD, o->password);
		skp_ttlv_end(&r->enc);
		skp_ttlv_end(&r->enc);
		skp_ttlv_end(&r->enc);
	}
	if (o && o->batch_continue)
		skp_ttlv_enum(&r->enc, KMIP_TAG_BATCH_ERROR_CONTINUATION, 1);	/* Continue */
	skp_ttlv_int(&r->enc, KMIP_TAG_BATCH_COUNT, 0);
	r->batch_count_off = skp_ttlv_last_value(&r->enc);
	skp_ttlv_end(&r->enc);
	return r->enc.error ? skp_ttlv_enc_result(&r->enc, err) : 0;
}

/* What item id asked (its answer is checked against it); an allocation failure is
 * sticky like an encoding error. */
static void asked(struct skp_kmip_req *r, uint32_t id, uint32_t op)
{
	if (id >= r->cap_asked) {
		size_t ncap = r->cap_asked ? r->cap_asked * 2 : 4;
		struct skp_kmip_asked *na = realloc(r->asked, ncap * sizeof(*na));

		if (!na) {
			r->enc.error = r->enc.error ? r->enc.error : -ENOMEM;
			return;
		}
		memset(na + r->cap_asked, 0, (ncap - r->cap_asked) * sizeof(*na));
		r->asked = na;
		r->cap_asked = ncap;
	}
	r->asked[id].op = op;
}

static uint32_t item_begin(struct skp_kmip_req *r, uint32_t op)
{
	uint32_t id = r->n_items++;
	unsigned char be[4];

	skp_put_be32(be, id);
	asked(r, id, op);
	skp_ttlv_begin(&r->enc, KMIP_TAG_BATCH_ITEM);
	skp_ttlv_enum(&r->enc, KMIP_TAG_OPERATION, op);
	if (!r->no_batch_ids)
		skp_ttlv_bytes(&r->enc, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, be, sizeof(be));
	skp_ttlv_begin(&r->enc, KMIP_TAG_REQUEST_PAYLOAD);
	return id;
}

static void item_end(struct skp_kmip_req *r)
{
	skp_ttlv_end(&r->enc);	/* payload */
	skp_ttlv_end(&r->enc);	/* batch item */
}

uint32_t skp_kmip_add_discover(struct skp_kmip_req *r)
{
	uint32_t id = item_begin(r, KMIP_OP_DISCOVER_VERSIONS);

	/* An empty payload asks for every version the server supports. */
	item_end(r);
	return id;
}

uint32_t skp_kmip_add_query(struct skp_kmip_req *r, const uint32_t *funcs, size_t n)
{
	uint32_t id = item_begin(r, KMIP_OP_QUERY);
	size_t i;

	for (i = 0; i < n; i++)
		skp_ttlv_enum(&r->enc, KMIP_TAG_QUERY_FUNCTION, funcs[i]);
	item_end(r);
	return id;
}

static void attr_begin(struct skp_kmip_req *r, const char *name)
{
	skp_ttlv_begin(&r->enc, KMIP_TAG_ATTRIBUTE);
	skp_ttlv_text(&r->enc, KMIP_TAG_ATTRIBUTE_NAME, name);
}

static void attr_name(struct skp_kmip_req *r, const char *name)
{
	attr_begin(r, "Name");
	skp_ttlv_begin(&r->enc, KMIP_TAG_ATTRIBUTE_VALUE);
	skp_ttlv_text(&r->enc, KMIP_TAG_NAME_VALUE, name);
	skp_ttlv_enum(&r->enc, KMIP_TAG_NAME_TYPE, KMIP_NAME_TEXT);
	skp_ttlv_end(&r->enc);
	skp_ttlv_end(&r->enc);
}

uint32_t skp_kmip_add_create(struct skp_kmip_req *r, uint32_t alg, int32_t bits, uint32_t mask,
			     const char *name)
{
	uint32_t id = item_begin(r, KMIP_OP_CREATE);

	skp_ttlv_enum(&r->enc, KMIP_TAG_OBJECT_TYPE, KMIP_OBJ_SYMMETRIC_KEY);
	skp_ttlv_begin(&r->enc, KMIP_TAG_TEMPLATE_ATTRIBUTE);
	attr_begin(r, "Cryptographic Algorithm");
	skp_ttlv_enum(&r->enc, KMIP_TAG_ATTRIBUTE_VALUE, alg);
	skp_ttlv_end(&r->enc);
	attr_begin(r, "Cryptographic Length");
	skp_ttlv_int(&r->enc, KMIP_TAG_ATTRIBUTE_VALUE, bits);
	skp_ttlv_end(&r->enc);
	attr_begin(r, "Cryptographic Usage Mask");
	skp_ttlv_int(&r->enc, KMIP_TAG_ATTRIBUTE_VALUE, (int32_t)mask);
	skp_ttlv_end(&r->enc);
	if (name)
		attr_name(r, name);
	for (size_t i = 0; i < r->n_create_attrs; i++) {
		attr_begin(r, r->create_attrs[i].name);
		skp_ttlv_text(&r->enc, KMIP_TAG_ATTRIBUTE_VALUE, r->create_attrs[i].value);
		skp_ttlv_end(&r->enc);
	}
	skp_ttlv_end(&r->enc);
	item_end(r);
	return id;
}

/* The object an item names: its answer must be about the same one. */
static void item_uid(struct skp_kmip_req *r, uint32_t id, const char *uid)
{
	if (!uid)
		return;
	skp_ttlv_text(&r->enc, KMIP_TAG_UNIQUE_IDENTIFIER, uid);
	if (id < r->cap_asked && !(r->asked[id].uid = strdup(uid)))
		r->enc.error = r->enc.error ? r->enc.error : -ENOMEM;
}

static uint32_t uid_only(struct skp_kmip_req *r, uint32_t op, const char *uid)
{
	uint32_t id = item_begin(r, op);

	item_uid(r, id, uid);
	item_end(r);
	return id;
}

uint32_t skp_kmip_add_activate(struct skp_kmip_req *r, const char *uid)
{
	return uid_only(r, KMIP_OP_ACTIVATE, uid);
}

uint32_t skp_kmip_add_get_fmt(struct skp_kmip_req *r, const char *uid, uint32_t fmt)
{
	uint32_t id = item_begin(r, KMIP_OP_GET);

	item_uid(r, id, uid);
	if (fmt)
		skp_ttlv_enum(&r->enc, KMIP_TAG_KEY_FORMAT_TYPE, fmt);
	item_end(r);
	return id;
}

/* Raw asked for: a server free to choose may answer another format (Transparent). */
uint32_t skp_kmip_add_get(struct skp_kmip_req *r, const char *uid)
{
	return skp_kmip_add_get_fmt(r, uid, KMIP_KEYFMT_RAW);
}

uint32_t skp_kmip_add_destroy(struct skp_kmip_req *r, const char *uid)
{
	return uid_only(r, KMIP_OP_DESTROY, uid);
}

uint32_t skp_kmip_add_get_attrs(struct skp_kmip_req *r, const char *uid, const char *const *names,
				size_t n)
{
	uint32_t id = item_begin(r, KMIP_OP_GET_ATTRIBUTES);
	size_t i;

	item_uid(r, id, uid);
	for (i = 0; names && i < n; i++)
		skp_ttlv_text(&r->enc, KMIP_TAG_ATTRIBUTE_NAME, names[i]);
	item_end(r);
	return id;
}

uint32_t skp_kmip_add_locate(struct skp_kmip_req *r, const char *name, uint32_t object_type,
			     int32_t max_items, int32_t offset)
{
	uint32_t id = item_begin(r, KMIP_OP_LOCATE);

	if (max_items > 0)
		skp_ttlv_int(&r->enc, KMIP_TAG_MAXIMUM_ITEMS, max_items);
	if (offset > 0) {
		if (r->minor < 3)
			r->enc.error = -EOPNOTSUPP;
		skp_ttlv_int(&r->enc, KMIP_TAG_OFFSET_ITEMS, offset);
	}
	if (object_type) {
		attr_begin(r, "Object Type");
		skp_ttlv_enum(&r->enc, KMIP_TAG_ATTRIBUTE_VALUE, object_type);
		skp_ttlv_end(&r->enc);
	}
	if (name)
		attr_name(r, name);
	item_end(r);
	return id;
}

uint32_t skp_kmip_add_revoke(struct skp_kmip_req *r, const char *uid, uint32_t code, const char *msg)
{
	uint32_t id = item_begin(r, KMIP_OP_REVOKE);

	item_uid(r, id, uid);
	skp_ttlv_begin(&r->enc, KMIP_TAG_REVOCATION_REASON);
	skp_ttlv_enum(&r->enc, KMIP_TAG_REVOCATION_REASON_CODE, code);
	if (msg)
		skp_ttlv_text(&r->enc, KMIP_TAG_REVOCATION_MESSAGE, msg);
	skp_ttlv_end(&r->enc);
	item_end(r);
	return id;
}

int skp_kmip_req_finish(struct skp_kmip_req *r, struct skp_err *err)
{
	if (r->enc.error == -EOPNOTSUPP)
		return skp_err_set(err, -EOPNOTSUPP, "KMIP: Locate Offset Items needs protocol 1.3 or later");
	if (!r->n_items)
		return skp_err_set(err, -EINVAL, "KMIP: request without batch items");
	skp_ttlv_end(&r->enc);	/* request message */
	skp_ttlv_patch_int(&r->enc, r->batch_count_off, (int32_t)r->n_items);
	return skp_ttlv_enc_result(&r->enc, err);
}

void skp_kmip_req_free(struct skp_kmip_req *r)
{
	skp_ttlv_enc_free(&r->enc);
	for (size_t i = 0; i < r->cap_asked; i++)
		free(r->asked[i].uid);
	free(r->asked);
	r->asked = NULL;
	r->cap_asked = 0;
}

/* ---- responses ---- */

static int want(const struct skp_ttlv *t, uint8_t type, struct skp_err *err)
{
	return skp_ttlv_expect(t, type, err);
}

/* A Unique Identifier goes into the header, logs, skpctl output and the keks file (space
 * separated): printable ASCII without spaces, or the response is refused. */
static int get_uid(const struct skp_ttlv *t, char *out, size_t size, struct skp_err *err)
{
	char shown[SKP_UID_MAX];
	int r = skp_ttlv_get_text(t, out, size, err);

	if (r)
		return r;
	for (const unsigned char *c = (const unsigned char *)out; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return skp_err_set(err, -EPROTO, "KMIP: Unique Identifier '%s' is not printable ASCII "
					   "without spaces", skp_str_escape(shown, sizeof(shown), out, strlen(out)));
	return 0;
}

static int parse_header(const struct skp_ttlv *h, struct skp_kmip_resp *out, uint32_t *count,
			struct skp_err *err)
{
	struct skp_ttlv_iter it, vi;
	struct skp_ttlv t, v;
	int have_ver = 0, have_count = 0, r;

	skp_ttlv_children(h, &it);
	while (skp_ttlv_next(&it, &t)) {
		switch (t.tag) {
		case KMIP_TAG_PROTOCOL_VERSION:
			if ((r = want(&t, SKP_TTLV_STRUCT, err)))
				return r;
			skp_ttlv_children(&t, &vi);
			while (skp_ttlv_next(&vi, &v)) {
				int32_t x;

				if ((r = skp_ttlv_get_int(&v, &x, err)))
					return r;
				if (v.tag == KMIP_TAG_PROTOCOL_VERSION_MAJOR)
					out->major = x, have_ver |= 1;
				else if (v.tag == KMIP_TAG_PROTOCOL_VERSION_MINOR)
					out->minor = x, have_ver |= 2;
			}
			break;
		case KMIP_TAG_TIME_STAMP:
			if ((r = skp_ttlv_get_datetime(&t, &out->timestamp, err)))
				return r;
			break;
		case KMIP_TAG_BATCH_COUNT: {
			int32_t c;

			if ((r = skp_ttlv_get_int(&t, &c, err)))
				return r;
			if (c < 0)
				return skp_err_set(err, -EPROTO, "KMIP: negative Batch Count");
			*count = (uint32_t)c;
			have_count = 1;
			break;
		}
		default:	/* other header fields (Nonce, Attestation ...) are ignored */
			break;
		}
	}
	if (have_ver != 3 || !have_count)
		return skp_err_set(err, -EPROTO, "KMIP: response header lacks Protocol Version or Batch Count");
	return 0;
}

static int parse_item(const struct skp_ttlv *bi, struct skp_kmip_result *res, struct skp_err *err)
{
	struct skp_ttlv_iter it;
	struct skp_ttlv t;
	int have_status = 0, r;

	memset(res, 0, sizeof(*res));
	skp_ttlv_children(bi, &it);
	while (skp_ttlv_next(&it, &t)) {
		switch (t.tag) {
		case KMIP_TAG_OPERATION:
			r = skp_ttlv_get_enum(&t, &res->op, err);
			break;
		case KMIP_TAG_UNIQUE_BATCH_ITEM_ID:
			r = want(&t, SKP_TTLV_BYTES, err);
			if (!r && (t.len < 1 || t.len > 4))
				r = skp_err_set(err, -EPROTO, "KMIP: Unique Batch Item ID of %u bytes", t.len);
			if (!r) {
				uint32_t i;

				res->id = 0;
				for (i = 0; i < t.len; i++)
					res->id = res->id << 8 | t.val[i];
				res->has_id = 1;
			}
			break;
		case KMIP_TAG_RESULT_STATUS:
			r = skp_ttlv_get_enum(&t, &res->status, err);
			have_status = 1;
			break;
		case KMIP_TAG_RESULT_REASON:
			r = skp_ttlv_get_enum(&t, &res->reason, err);
			break;
		case KMIP_TAG_RESULT_MESSAGE:
			r = want(&t, SKP_TTLV_TEXT, err);
			if (!r)
				skp_str_escape(res->message, sizeof(res->message), t.val, t.len);
			break;
		case KMIP_TAG_RESPONSE_PAYLOAD:
			r = want(&t, SKP_TTLV_STRUCT, err);
			res->payload = t;
			res->has_payload = 1;
			break;
		default:
			r = 0;
			break;
		}
		if (r)
			return r;
	}
	if (!have_status)
		return skp_err_set(err, -EPROTO, "KMIP: batch item without Result Status");
	return 0;
}

/* The Unique Identifier of a successful answer about one object must be the one asked. */
static int check_uid(const struct skp_kmip_result *res, const char *want_uid, struct skp_err *err)
{
	char got[SKP_UID_MAX], shown[SKP_UID_MAX];
	struct skp_ttlv_iter it;
	struct skp_ttlv t;
	int r;

	if (res->has_payload) {
		skp_ttlv_children(&res->payload, &it);
		while (skp_ttlv_next(&it, &t)) {
			if (t.tag != KMIP_TAG_UNIQUE_IDENTIFIER)
				continue;
			if ((r = get_uid(&t, got, sizeof(got), err)))
				return r;
			if (strcmp(got, want_uid))
				return skp_err_set(err, -EPROTO, "KMIP: %s answer about object '%s', asked about '%s'",
						   skp_kmip_op_name(res->op), got,
						   skp_str_escape(shown, sizeof(shown), want_uid, strlen(want_uid)));
			return 0;
		}
	}
	return skp_err_set(err, -EPROTO, "KMIP: %s answer without the Unique Identifier",
			   skp_kmip_op_name(res->op));
}

/*
 * Item res, read from position k of the answer, as the answer to one of req's items:
 * its slot (the item's index in req), operation and object.  seen[] marks slots taken.
 */
static int match_item(const struct skp_kmip_req *req, const struct skp_kmip_result *res, uint32_t k,
		      unsigned char *seen, uint32_t *slot, struct skp_err *err)
{
	const struct skp_kmip_asked *a;
	uint32_t s;
	int r;

	if (req->no_batch_ids)
		s = k;		/* known-answer tests: answers in order */
	else if (res->has_id)
		s = res->id;
	else if (req->n_items == 1)
		s = 0;		/* an error to an unparsable one-item request may carry no ID */
	else
		return skp_err_set(err, -EPROTO, "KMIP: answer without Unique Batch Item ID to a request of %u items",
				   req->n_items);
	if (s >= req->n_items)
		return skp_err_set(err, -EPROTO, "KMIP: answer to batch item %u, not in the request", s);
	if (seen[s]++)
		return skp_err_set(err, -EPROTO, "KMIP: two answers to batch item %u", s);
	a = &req->asked[s];
	if (res->op && res->op != a->op)
		return skp_err_set(err, -EPROTO, "KMIP: answer to %s where %s was asked (batch item %u)",
				   skp_kmip_op_name(res->op), skp_kmip_op_name(a->op), s);
	if (res->status == KMIP_STATUS_SUCCESS && !res->op)
		return skp_err_set(err, -EPROTO, "KMIP: %s answer without Operation (batch item %u)",
				   skp_kmip_op_name(a->op), s);
	if (res->status == KMIP_STATUS_SUCCESS && a->uid && (r = check_uid(res, a->uid, err)))
		return r;
	*slot = s;
	return 0;
}

/* req NULL: any well-formed response.  Else it must answer req item for item, and
 * out->items[i] is the answer to req's item i. */
static int resp_parse(const unsigned char *buf, size_t len, const struct skp_kmip_req *req,
		      struct skp_kmip_resp *out, struct skp_err *err)
{
	struct skp_ttlv root, t;
	struct skp_ttlv_iter it;
	uint32_t count = 0, n = 0, k;
	unsigned char *seen = NULL;
	int r, have_header = 0;

	memset(out, 0, sizeof(*out));
	if ((r = skp_ttlv_validate(buf, len, 0, err)))
		return r;
	skp_ttlv_root(buf, &root);
	if (root.tag != KMIP_TAG_RESPONSE_MESSAGE)
		return skp_err_set(err, -EPROTO, "KMIP: expected a Response Message, got tag %06X", root.tag);
	if ((r = want(&root, SKP_TTLV_STRUCT, err)))
		return r;
	skp_ttlv_children(&root, &it);
	while (skp_ttlv_next(&it, &t)) {
		if (t.tag == KMIP_TAG_RESPONSE_HEADER) {
			if (have_header++)
				return skp_err_set(err, -EPROTO, "KMIP: two response headers");
			if ((r = want(&t, SKP_TTLV_STRUCT, err)) || (r = parse_header(&t, out, &count, err)))
				return r;
		} else if (t.tag == KMIP_TAG_BATCH_ITEM) {
			if ((r = want(&t, SKP_TTLV_STRUCT, err)))
				return r;
			/* Room for its Result Status at least: so n <= len / 24 below. */
			if (t.len < 16)
				return skp_err_set(err, -EPROTO, "KMIP: batch item of %u bytes cannot hold a Result Status",
						   t.len);
			n++;
		} else {
			return skp_err_set(err, -EPROTO, "KMIP: unexpected tag %06X in Response Message", t.tag);
		}
	}
	if (!have_header)
		return skp_err_set(err, -EPROTO, "KMIP: response without header");
	if (n != count)
		return skp_err_set(err, -EPROTO, "KMIP: Batch Count %u but %u batch items", count, n);
	if (n == 0)
		return skp_err_set(err, -EPROTO, "KMIP: response without batch items");
	/* Checked before allocating: a request's answer is as large as the request. */
	if (req && n != req->n_items)
		return skp_err_set(err, -EPROTO, "KMIP: %u answers to a request of %u batch items", n, req->n_items);
	/* Else each item took 8 bytes of header and 16 of Result Status: n <= len / 24. */
	out->items = calloc(n, sizeof(*out->items));
	if (req && out->items)
		seen = calloc(n, 1);
	if (!out->items || (req && !seen)) {
		free(out->items);
		out->items = NULL;
		return skp_err_set(err, -ENOMEM, "KMIP: out of memory for %u results", n);
	}
	skp_ttlv_children(&root, &it);
	k = 0;
	while (skp_ttlv_next(&it, &t)) {
		struct skp_kmip_result res;
		uint32_t slot = k;

		if (t.tag != KMIP_TAG_BATCH_ITEM)
			continue;
		r = parse_item(&t, &res, err);
		if (!r && req)
			r = match_item(req, &res, k, seen, &slot, err);
		if (r) {
			skp_err_wrap(err, "batch item %u", k);
			free(seen);
			skp_kmip_resp_free(out);
			return r;
		}
		out->items[slot] = res;
		k++;
	}
	free(seen);
	out->count = n;
	return 0;
}

int skp_kmip_resp_parse(const unsigned char *buf, size_t len, struct skp_kmip_resp *out,
			struct skp_err *err)
{
	return resp_parse(buf, len, NULL, out, err);
}

int skp_kmip_resp_parse_req(const unsigned char *buf, size_t len, const struct skp_kmip_req *req,
			    struct skp_kmip_resp *out, struct skp_err *err)
{
	return resp_parse(buf, len, req, out, err);
}

void skp_kmip_resp_free(struct skp_kmip_resp *r)
{
	free(r->items);
	r->items = NULL;
	r->count = 0;
}

const struct skp_kmip_result *skp_kmip_resp_find(const struct skp_kmip_resp *r, uint32_t id)
{
	uint32_t i;

	/* Servers answer in order; check the obvious slot first. */
	if (id < r->count && r->items[id].has_id && r->items[id].id == id)
		return &r->items[id];
	for (i = 0; i < r->count; i++)
		if (r->items[i].has_id && r->items[i].id == id)
			return &r->items[i];
	/* A one-item exchange may come back without an ID (e.g. an error to an unparsable request). */
	if (r->count == 1 && !r->items[0].has_id)
		return &r->items[0];
	return NULL;
}

const char *skp_kmip_reason_name(uint32_t reason)
{
	switch (reason) {
	case 0x01: return "Item Not Found";
	case 0x02: return "Response Too Large";
	case 0x03: return "Authentication Not Successful";
	case 0x04: return "Invalid Message";
	case 0x05: return "Operation Not Supported";
	case 0x06: return "Missing Data";
	case 0x07: return "Invalid Field";
	case 0x08: return "Feature Not Supported";
	case 0x09: return "Operation Canceled By Requester";
	case 0x0A: return "Cryptographic Failure";
	case 0x0B: return "Illegal Operation";
	case 0x0C: return "Permission Denied";
	case 0x0D: return "Object Archived";
	case 0x0E: return "Index Out of Bounds";
	case 0x0F: return "Application Namespace Not Supported";
	case 0x10: return "Key Format Type Not Supported";
	case 0x11: return "Key Compression Type Not Supported";
	case 0x12: return "Encoding Option Error";		/* 1.1 */
	case 0x13: return "Key Value Not Present";		/* 1.2 */
	case 0x14: return "Attestation Required";
	case 0x15: return "Attestation Failed";
	case 0x16: return "Sensitive";				/* 1.4 */
	case 0x17: return "Not Extractable";
	case 0x18: return "Object Already Exists";
	case 0x100: return "General Failure";
	default: return "Unknown Reason";
	}
}

const char *skp_kmip_state_name(uint32_t state)
{
	static const char *const n[] = {"unknown", "Pre-Active", "Active", "Deactivated", "Compromised",
					"Destroyed", "Destroyed Compromised"};

	return state <= 6 ? n[state] : "unknown";
}

const char *skp_kmip_op_name(uint32_t op)
{
	switch (op) {
	case KMIP_OP_CREATE: return "Create";
	case KMIP_OP_LOCATE: return "Locate";
	case KMIP_OP_GET: return "Get";
	case KMIP_OP_GET_ATTRIBUTES: return "Get Attributes";
	case KMIP_OP_ACTIVATE: return "Activate";
	case KMIP_OP_REVOKE: return "Revoke";
	case KMIP_OP_DESTROY: return "Destroy";
	case KMIP_OP_QUERY: return "Query";
	case KMIP_OP_DISCOVER_VERSIONS: return "Discover Versions";
	default: return "operation";
	}
}

static int reason_errno(uint32_t reason)
{
	switch (reason) {
	case 0x01: return -ENOENT;
	case 0x02: return -EMSGSIZE;
	case 0x03: return -EACCES;
	case 0x0C: return -EACCES;
	case 0x05: case 0x08: case 0x0F: case 0x10: case 0x11: case 0x12: return -EOPNOTSUPP;
	case 0x04: case 0x06: case 0x07: case 0x0E: return -EINVAL;
	case 0x0B: return -EPERM;
	case 0x13: return -ENODATA;
	case 0x14: case 0x15: case 0x16: case 0x17: return -EACCES;	/* the key is not given out */
	case 0x18: return -EEXIST;
	default: return -EIO;
	}
}

int skp_kmip_result_check(const struct skp_kmip_result *res, uint32_t op, struct skp_err *err)
{
	if (res->status == KMIP_STATUS_SUCCESS) {
		if (res->op && op && res->op != op)
			return skp_err_set(err, -EPROTO, "KMIP: answer to %s where %s was asked",
					   skp_kmip_op_name(res->op), skp_kmip_op_name(op));
		return 0;
	}
	if (res->status == KMIP_STATUS_FAILED)
		return skp_err_setc(err, SKP_ERRC_KEY_REFUSED, reason_errno(res->reason), "%s failed: %s (reason 0x%02X)%s%s",
				    skp_kmip_op_name(op), skp_kmip_reason_name(res->reason), res->reason,
				    res->message[0] ? ": " : "", res->message);
	if (res->status == KMIP_STATUS_PENDING)
		return skp_err_set(err, -EINPROGRESS, "%s: server answered Pending (asynchronous operations unsupported)",
				   skp_kmip_op_name(op));
	if (res->status == KMIP_STATUS_UNDONE)
		return skp_err_set(err, -ECANCELED, "%s: undone by the server (another batch item failed)",
				   skp_kmip_op_name(op));
	return skp_err_set(err, -EPROTO, "%s: unknown Result Status %u", skp_kmip_op_name(op), res->status);
}

/* ---- payloads ---- */

static int payload(const struct skp_kmip_result *res, struct skp_ttlv_iter *it, struct skp_err *err)
{
	if (!res->has_payload)
		return skp_err_set(err, -EPROTO, "KMIP: %s result without payload", skp_kmip_op_name(res->op));
	skp_ttlv_children(&res->payload, it);
	return 0;
}

int skp_kmip_parse_uid(const struct skp_kmip_result *res, char *uid, size_t uid_size, struct skp_err *err)
{
	struct skp_ttlv_iter it;
	struct skp_ttlv t;
	int r;

	if ((r = payload(res, &it, err)))
		return r;
	while (skp_ttlv_next(&it, &t))
		if (t.tag == KMIP_TAG_UNIQUE_IDENTIFIER) {
			if ((r = get_uid(&t, uid, uid_size, err)))
				return r;
			if (!uid[0])
				return skp_err_set(err, -EPROTO, "KMIP: empty Unique Identifier");
			return 0;
		}
	return skp_err_set(err, -EPROTO, "KMIP: %s payload without Unique Identifier",
			   skp_kmip_op_name(res->op));
}

static int find_child(const struct skp_ttlv *st, uint32_t tag, uint8_t type, struct skp_ttlv *out,
		      struct skp_err *err)
{
	struct skp_ttlv_iter it;

	skp_ttlv_children(st, &it);
	while (skp_ttlv_next(&it, out))
		if (out->tag == tag)
			return want(out, type, err);
	return skp_err_set(err, -EPROTO, "KMIP: missing tag %06X in %06X", tag, st->tag);
}

int skp_kmip_parse_get_key(const struct skp_kmip_result *res, unsigned char **key, size_t *len,
			   struct skp_err *err)
{
	struct skp_ttlv_iter it;
	struct skp_ttlv t, sk = {0}, kb, kv, km, tk;
	uint32_t obj = 0, fmt = 0;
	int r, have_sk = 0;
	unsigned char *k;

	if ((r = payload(res, &it, err)))
		return r;
	while (skp_ttlv_next(&it, &t)) {
		if (t.tag == KMIP_TAG_OBJECT_TYPE) {
			if ((r = skp_ttlv_get_enum(&t, &obj, err)))
				return r;
		} else if (t.tag == KMIP_TAG_SYMMETRIC_KEY) {
			if ((r = want(&t, SKP_TTLV_STRUCT, err)))
				return r;
			sk = t;
			have_sk = 1;
		}
	}
	if (obj != KMIP_OBJ_SYMMETRIC_KEY || !have_sk)
		return skp_err_set(err, -EPROTO, "KMIP: Get returned object type %u, not a Symmetric Key", obj);
	if ((r = find_child(&sk, KMIP_TAG_KEY_BLOCK, SKP_TTLV_STRUCT, &kb, err)))
		return r;
	if ((r = find_child(&kb, KMIP_TAG_KEY_FORMAT_TYPE, SKP_TTLV_ENUM, &t, err)) ||
	    (r = skp_ttlv_get_enum(&t, &fmt, err)))
		return r;
	if (fmt != KMIP_KEYFMT_RAW && fmt != KMIP_KEYFMT_TRANSPARENT_SYMMETRIC)
		return skp_err_set(err, -EPROTO, "KMIP: key format type %u, expected Raw or Transparent Symmetric Key",
				   fmt);
	{
		struct skp_ttlv tmp;
		struct skp_err ignore;

		if (!find_child(&kb, KMIP_TAG_KEY_WRAPPING_DATA, SKP_TTLV_STRUCT, &tmp, &ignore))
			return skp_err_set(err, -EPROTO, "KMIP: key returned wrapped; skp needs it unwrapped over TLS");
	}
	if ((r = find_child(&kb, KMIP_TAG_KEY_VALUE, SKP_TTLV_STRUCT, &kv, err)))
		return r;
	/* Raw: Key Material is the key's bytes; Transparent: a structure holding Key. */
	if (fmt == KMIP_KEYFMT_RAW)
		r = find_child(&kv, KMIP_TAG_KEY_MATERIAL, SKP_TTLV_BYTES, &km, err);
	else if (!(r = find_child(&kv, KMIP_TAG_KEY_MATERIAL, SKP_TTLV_STRUCT, &tk, err)))
		r = find_child(&tk, KMIP_TAG_KEY, SKP_TTLV_BYTES, &km, err);
	if (r)
		return r;
	if (km.len == 0 || km.len > SKP_KMIP_KEY_MAX)
		return skp_err_set(err, -EPROTO, "KMIP: key material of %u bytes", km.len);
	k = skp_secmem_alloc(km.len);
	if (!k)
		return skp_err_set(err, -errno, "KMIP: cannot allocate locked memory for a key");
	memcpy(k, km.val, km.len);
	*key = k;
	*len = km.len;
	return 0;
}

int skp_kmip_parse_attrs(const struct skp_kmip_result *res, struct skp_key_attrs *out,
			 struct skp_err *err)
{
	struct skp_ttlv_iter it, ai;
	struct skp_ttlv t, a, name = {0}, value = {0};
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = payload(res, &it, err)))
		return r;
	while (skp_ttlv_next(&it, &t)) {
		char an[64];
		int have_name = 0, have_value = 0;

		if (t.tag == KMIP_TAG_UNIQUE_IDENTIFIER) {
			if ((r = get_uid(&t, out->uid, sizeof(out->uid), err)))
				return r;
			continue;
		}
		if (t.tag != KMIP_TAG_ATTRIBUTE)
			continue;
		if ((r = want(&t, SKP_TTLV_STRUCT, err)))
			return r;
		skp_ttlv_children(&t, &ai);
		while (skp_ttlv_next(&ai, &a)) {
			if (a.tag == KMIP_TAG_ATTRIBUTE_NAME)
				name = a, have_name = 1;
			else if (a.tag == KMIP_TAG_ATTRIBUTE_VALUE)
				value = a, have_value = 1;
		}
		if (!have_name || !have_value)
			return skp_err_set(err, -EPROTO, "KMIP: attribute without name or value");
		if (want(&name, SKP_TTLV_TEXT, err))
			return -EPROTO;
		if (name.len >= sizeof(an))
			continue;	/* not one we read */
		skp_str_escape(an, sizeof(an), name.val, name.len);
		if (!strcmp(an, "State")) {
			uint32_t v;

			if ((r = skp_ttlv_get_enum(&value, &v, err)))
				return r;
			if (v < 1 || v > 6)
				return skp_err_set(err, -EPROTO, "KMIP: State %u out of range", v);
			out->state = (int)v;
		} else if (!strcmp(an, "Cryptographic Length")) {
			int32_t v;

			if ((r = skp_ttlv_get_int(&value, &v, err)))
				return r;
			out->crypto_length = v;
		} else if (!strcmp(an, "Cryptographic Algorithm")) {
			uint32_t v;

			if ((r = skp_ttlv_get_enum(&value, &v, err)))
				return r;
			out->algorithm = (int)v;
		} else if (!strcmp(an, "Cryptographic Usage Mask")) {
			int32_t v;

			if ((r = skp_ttlv_get_int(&value, &v, err)))
				return r;
			out->usage_mask = (uint32_t)v;
		} else if (!strcmp(an, "Object Type")) {
			uint32_t v;

			if ((r = skp_ttlv_get_enum(&value, &v, err)))
				return r;
			out->object_type = (int)v;
		} else if (!strcmp(an, "Name") && !out->name[0]) {
			struct skp_ttlv nv;

			/* only ever shown */
			if ((r = want(&value, SKP_TTLV_STRUCT, err)) ||
			    (r = find_child(&value, KMIP_TAG_NAME_VALUE, SKP_TTLV_TEXT, &nv, err)))
				return r;
			skp_str_escape(out->name, sizeof(out->name), nv.val, nv.len);
		}
	}
	return 0;
}

int skp_kmip_parse_locate(const struct skp_kmip_result *res, char (*uids)[SKP_UID_MAX], size_t max,
			  size_t *n, int64_t *located, struct skp_err *err)
{
	struct skp_ttlv_iter it;
	struct skp_ttlv t;
	int r;

	*n = 0;
	if (located)
		*located = -1;
	if (!res->has_payload)
		return 0;	/* nothing found */
	skp_ttlv_children(&res->payload, &it);
	while (skp_ttlv_next(&it, &t)) {
		if (t.tag == KMIP_TAG_LOCATED_ITEMS) {
			int32_t v;

			if ((r = skp_ttlv_get_int(&t, &v, err)))
				return r;
			if (located)
				*located = v;
		} else if (t.tag == KMIP_TAG_UNIQUE_IDENTIFIER) {
			char tmp[SKP_UID_MAX];

			if ((r = get_uid(&t, tmp, sizeof(tmp), err)))
				return r;
			if (*n < max)
				memcpy(uids[(*n)++], tmp, sizeof(tmp));
		}
	}
	return 0;
}

int skp_kmip_parse_query(const struct skp_kmip_result *res, struct skp_kmip_query *q, struct skp_err *err)
{
	struct skp_ttlv_iter it;
	struct skp_ttlv t;
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = payload(res, &it, err)))
		return r;
	while (skp_ttlv_next(&it, &t)) {
		uint32_t v;

		switch (t.tag) {
		case KMIP_TAG_OPERATION:
			if ((r = skp_ttlv_get_enum(&t, &v, err)))
				return r;
			if (q->n_ops < SKP_KMIP_QUERY_MAX)
				q->ops[q->n_ops++] = v;
			break;
		case KMIP_TAG_OBJECT_TYPE:
			if ((r = skp_ttlv_get_enum(&t, &v, err)))
				return r;
			if (q->n_objects < SKP_KMIP_QUERY_MAX)
				q->objects[q->n_objects++] = v;
			break;
		case KMIP_TAG_VENDOR_IDENTIFICATION:
			if ((r = want(&t, SKP_TTLV_TEXT, err)))
				return r;
			skp_str_escape(q->vendor, sizeof(q->vendor), t.val, t.len);
			break;
		case KMIP_TAG_SERVER_INFORMATION:
			if ((r = want(&t, SKP_TTLV_STRUCT, err)))
				return r;
			q->has_server_info = 1;
			q->server_info_len = t.len;
			break;
		default:
			break;
		}
	}
	return 0;
}

int skp_kmip_parse_versions(const struct skp_kmip_result *res, struct skp_kmip_version *v, size_t max,
			    size_t *n, struct skp_err *err)
{
	struct skp_ttlv_iter it, vi;
	struct skp_ttlv t, x;
	int r;

	*n = 0;
	if (!res->has_payload)
		return 0;
	skp_ttlv_children(&res->payload, &it);
	while (skp_ttlv_next(&it, &t)) {
		struct skp_kmip_version ver = { -1, -1 };

		if (t.tag != KMIP_TAG_PROTOCOL_VERSION)
			continue;
		if ((r = want(&t, SKP_TTLV_STRUCT, err)))
			return r;
		skp_ttlv_children(&t, &vi);
		while (skp_ttlv_next(&vi, &x)) {
			int32_t val;

			if ((r = skp_ttlv_get_int(&x, &val, err)))
				return r;
			if (x.tag == KMIP_TAG_PROTOCOL_VERSION_MAJOR)
				ver.major = val;
			else if (x.tag == KMIP_TAG_PROTOCOL_VERSION_MINOR)
				ver.minor = val;
		}
		if (ver.major < 0 || ver.minor < 0)
			return skp_err_set(err, -EPROTO, "KMIP: incomplete Protocol Version");
		if (*n < max)
			v[(*n)++] = ver;
	}
	return 0;
}

int skp_kmip_pick_version(const struct skp_kmip_version *v, size_t n)
{
	int best = -1;

	for (size_t i = 0; i < n; i++)
		if (v[i].major == 1 && v[i].minor >= 0 && v[i].minor <= SKP_KMIP_MINOR_MAX && v[i].minor > best)
			best = v[i].minor;
	return best;
}
