// SPDX-License-Identifier: GPL-2.0
/*
 * Response records (docs/protocol.md): skpd encodes state as fixed-layout records,
 * skpctl decodes them.  The decoder trusts nothing: every length, text field,
 * enumeration, reserved word and count is checked before a field is used.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "proto.h"

#define TEXT(t, f)	{offsetof(struct t, f), sizeof(((struct t *)0)->f)}
#define WORD(t, f, m)	{offsetof(struct t, f), m}
#define MAX_TEXT 8
#define MAX_WORD 4

/* What a record type holds beyond its header: text fields, and 32-bit words with a range. */
struct rec_desc {
	const char *name;
	size_t size;
	struct { size_t off, size; } text[MAX_TEXT];
	struct { size_t off; uint32_t max; } word[MAX_WORD];	/* booleans, enums; reserved: max 0 */
};

static const struct rec_desc descs[SKP_REC_MAX + 1] = {
	[SKP_REC_STATUS] = {"status", sizeof(struct skp_rec_status),
		{TEXT(skp_rec_status, config), TEXT(skp_rec_status, target)},
		{WORD(skp_rec_status, alarm, 1), WORD(skp_rec_status, target_loaded, 1),
		 WORD(skp_rec_status, reserved, 0)}},
	[SKP_REC_PROVIDER] = {"provider", sizeof(struct skp_rec_provider),
		{TEXT(skp_rec_provider, name), TEXT(skp_rec_provider, alarm_msg)},
		{WORD(skp_rec_provider, is_default, 1), WORD(skp_rec_provider, alarm, 1)}},
	[SKP_REC_NODE] = {"node", sizeof(struct skp_rec_node),
		{TEXT(skp_rec_node, server), TEXT(skp_rec_node, error)},
		{WORD(skp_rec_node, state, SKP_NODE_STATE_MAX)}},
	[SKP_REC_PROBLEM] = {"problem", sizeof(struct skp_rec_problem),
		{TEXT(skp_rec_problem, mapping), TEXT(skp_rec_problem, problem)}, {{0, 0}}},
	[SKP_REC_REKEY] = {"rekey", sizeof(struct skp_rec_rekey),
		{TEXT(skp_rec_rekey, mapping), TEXT(skp_rec_rekey, p.error)},
		{WORD(skp_rec_rekey, p.state, SKP_REKEY_STATE_MAX), WORD(skp_rec_rekey, p.reserved, 0)}},
	[SKP_REC_DEVICE] = {"device", sizeof(struct skp_rec_device),
		{TEXT(skp_rec_device, mapping), TEXT(skp_rec_device, dev), TEXT(skp_rec_device, label),
		 TEXT(skp_rec_device, provider), TEXT(skp_rec_device, kek_uid), TEXT(skp_rec_device, kek_name),
		 TEXT(skp_rec_device, problem), TEXT(skp_rec_device, rekey.error)},
		{WORD(skp_rec_device, flags, SKP_DEV_FLAGS_KNOWN), WORD(skp_rec_device, rekey.state, SKP_REKEY_STATE_MAX),
		 WORD(skp_rec_device, rekey.reserved, 0)}},
	[SKP_REC_KEYS] = {"keys", sizeof(struct skp_rec_keys), {TEXT(skp_rec_keys, provider)}, {{0, 0}}},
	[SKP_REC_PENDING] = {"pending", sizeof(struct skp_rec_pending),
		{TEXT(skp_rec_pending, mapping), TEXT(skp_rec_pending, provider), TEXT(skp_rec_pending, reason)},
		{WORD(skp_rec_pending, wait, SKP_PENDING_WAIT_MAX), WORD(skp_rec_pending, nofail, 1)}},
};

void skp_rec_init(void *rec, enum skp_rec_type type)
{
	struct skp_rec_hdr *h = rec;

	memset(rec, 0, descs[type].size);
	h->type = (uint16_t)type;
	h->len = (uint32_t)descs[type].size;
}

void skp_rec_str(char *field, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(field, s, n);
	memset(field + n, 0, size - n);
}

const char *skp_rekey_state_name(unsigned int state)
{
	static const char *const n[] = {"none", "running", "paused", "done", "failed"};

	return state <= SKP_REKEY_STATE_MAX ? n[state] : "unknown";
}

static const char *rec_name(unsigned int type)
{
	return type >= 1 && type <= SKP_REC_MAX ? descs[type].name : "unknown";
}

/* The fields of a record of a known type and size, already copied out of the body. */
static int rec_fields_ok(const union skp_rec *r, struct skp_err *err)
{
	const struct rec_desc *d = &descs[r->h.type];
	const unsigned char *b = (const unsigned char *)r;

	for (int i = 0; i < MAX_TEXT && d->text[i].size; i++) {
		const char *f = (const char *)b + d->text[i].off;
		size_t n = strnlen(f, d->text[i].size);

		if (n == d->text[i].size)
			return skp_err_set(err, -EBADMSG, "%s record: a text field without its NUL", d->name);
		for (size_t j = n; j < d->text[i].size; j++)
			if (f[j])
				return skp_err_set(err, -EBADMSG, "%s record: junk after a text field", d->name);
	}
	for (int i = 0; i < MAX_WORD && d->word[i].off; i++) {
		uint32_t w;

		memcpy(&w, b + d->word[i].off, sizeof(w));
		if (w > d->word[i].max)
			return skp_err_set(err, -EBADMSG, "%s record: field value %u out of range", d->name, w);
	}
	return 0;
}

void skp_rec_iter_init(struct skp_rec_iter *it, const void *body, size_t len)
{
	it->p = body;
	it->len = len;
	it->off = 0;
}

int skp_rec_next(struct skp_rec_iter *it, union skp_rec *out, struct skp_err *err)
{
	size_t left = it->len - it->off;
	struct skp_rec_hdr h;

	if (!left)
		return 0;
	if (left < sizeof(h))
		return skp_err_set(err, -EBADMSG, "truncated record at byte %zu", it->off);
	memcpy(&h, it->p + it->off, sizeof(h));
	if (h.type < 1 || h.type > SKP_REC_MAX)
		return skp_err_set(err, -EBADMSG, "unknown record type %u at byte %zu", h.type, it->off);
	if (h.reserved)
		return skp_err_set(err, -EBADMSG, "%s record: reserved header bytes not zero", rec_name(h.type));
	if (h.len != descs[h.type].size)
		return skp_err_set(err, -EBADMSG, "%s record of %u bytes (expected %zu)", rec_name(h.type), h.len,
				   descs[h.type].size);
	if (h.len > left)
		return skp_err_set(err, -EBADMSG, "%s record of %u bytes past the end of the body (%zu left)",
				   rec_name(h.type), h.len, left);
	memset(out, 0, sizeof(*out));
	memcpy(out, it->p + it->off, h.len);
	if (rec_fields_ok(out, err) < 0)
		return -EBADMSG;
	it->off += h.len;
	return 1;
}

/* The next record, which must be of type. */
static int want(struct skp_rec_iter *it, unsigned int type, union skp_rec *r, struct skp_err *err)
{
	int n = skp_rec_next(it, r, err);

	if (n < 0)
		return n;
	if (n == 0)
		return skp_err_set(err, -EBADMSG, "the answer ends where a %s record is due", rec_name(type));
	if (r->h.type != type)
		return skp_err_set(err, -EBADMSG, "a %s record where a %s record is due", rec_name(r->h.type),
				   rec_name(type));
	return 0;
}

static int want_n(struct skp_rec_iter *it, unsigned int type, uint32_t n, struct skp_err *err)
{
	union skp_rec r;

	/* A count larger than the records that follow ends in want()'s error: no loop outruns the body. */
	for (uint32_t i = 0; i < n; i++)
		if (want(it, type, &r, err) < 0)
			return -EBADMSG;
	return 0;
}

/* A provider and its nodes. */
static int want_provider(struct skp_rec_iter *it, struct skp_err *err)
{
	union skp_rec r;

	if (want(it, SKP_REC_PROVIDER, &r, err) < 0)
		return -EBADMSG;
	return want_n(it, SKP_REC_NODE, r.provider.n_nodes, err);
}

static int want_status(struct skp_rec_iter *it, struct skp_err *err)
{
	union skp_rec r;
	uint32_t np, nb, nr, ng;

	if (want(it, SKP_REC_STATUS, &r, err) < 0)
		return -EBADMSG;
	np = r.status.n_providers;
	nb = r.status.n_problems;
	nr = r.status.n_rekeys;
	ng = r.status.n_pending;
	for (uint32_t i = 0; i < np; i++)
		if (want_provider(it, err) < 0)
			return -EBADMSG;
	if (want_n(it, SKP_REC_PROBLEM, nb, err) < 0 || want_n(it, SKP_REC_REKEY, nr, err) < 0 ||
	    want_n(it, SKP_REC_PENDING, ng, err) < 0)
		return -EBADMSG;
	return 0;
}

/* Records of type until the body ends (SKP_REC_PROVIDER: each with its nodes). */
static int want_all(struct skp_rec_iter *it, unsigned int type, struct skp_err *err)
{
	while (it->off < it->len) {
		if (type == SKP_REC_PROVIDER ? want_provider(it, err) < 0 : want_n(it, type, 1, err) < 0)
			return -EBADMSG;
	}
	return 0;
}

int skp_resp_records_check(uint16_t cmd, const void *body, size_t len, struct skp_err *err)
{
	struct skp_rec_iter it;
	int r;

	skp_rec_iter_init(&it, body, len);
	switch (cmd) {
	case SKP_CMD_STATUS:
		r = want_status(&it, err);
		break;
	case SKP_CMD_PROVIDER_LIST:
		r = want_all(&it, SKP_REC_PROVIDER, err);
		break;
	case SKP_CMD_PROVIDER_TEST:
		r = want_provider(&it, err);
		break;
	case SKP_CMD_LIST:
		r = want_all(&it, SKP_REC_DEVICE, err);
		break;
	case SKP_CMD_KEYS_COUNT:
		r = want_all(&it, SKP_REC_KEYS, err);
		break;
	case SKP_CMD_REKEY:
		r = want_n(&it, SKP_REC_REKEY, 1, err);
		break;
	default:
		return skp_err_set(err, -EBADMSG, "%s answers with text, not records", skp_cmd_name(cmd));
	}
	if (r < 0)
		return r;
	if (it.off != it.len)
		return skp_err_set(err, -EBADMSG, "records past the end of the %s answer", skp_cmd_name(cmd));
	return 0;
}
