// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "target.h"

/* The default crypto sector, and the unit of every sector count in the grammar. */
#define SECTOR 512U

int skp_target_type_ok(const char *type)
{
	return !strcmp(type, DM_SKP_TARGET_NAME) || !strcmp(type, SKP_TARGET_CRYPT);
}

/* ---- the table line skpd loads ---- */

/* One field of a table line: the kernel splits the line on white space. */
static int field_ok(const char *s)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* A bounded line: running out of room is remembered, never a silently cut line. */
struct line_out {
	char *buf;
	size_t size, len;
	int full;
};

static void put(struct line_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct line_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = 1;
	else
		o->len += (size_t)n;
}

/* <key> := :<size>:logon:<description>; skpd only ever hands the target logon keys. */
static void put_key(struct line_out *o, const char *desc)
{
	put(o, ":%u:" DM_SKP_KEY_TYPE_LOGON ":%s", DM_SKP_KEY_SIZE, desc);
}

int skp_target_params(const struct skp_dm_table *t, char *buf, size_t size)
{
	struct line_out o = { .buf = buf, .size = size };
	unsigned int nopt = (t->sector_size != SECTOR) + !!t->allow_discards + (t->new_key_desc ? 2 : 0);

	if (!field_ok(t->dev) || !field_ok(t->key_desc) || (t->new_key_desc && !field_ok(t->new_key_desc)))
		return -EINVAL;
	/* <cipher> <key> <iv_offset> <dev> <offset> [<#opt_params> <opt_params>...] */
	put(&o, DM_SKP_CIPHER " ");
	put_key(&o, t->key_desc);
	put(&o, " 0 %s %llu", t->dev, (unsigned long long)t->offset_sectors);
	if (nopt)
		put(&o, " %u", nopt);
	if (t->sector_size != SECTOR)
		put(&o, " " DM_SKP_OPT_SECTOR_SIZE ":%u", t->sector_size);
	if (t->allow_discards)
		put(&o, " " DM_SKP_OPT_ALLOW_DISCARDS);
	if (t->new_key_desc) {
		put(&o, " " DM_SKP_OPT_NEW_KEY ":");
		put_key(&o, t->new_key_desc);
		put(&o, " " DM_SKP_OPT_BOUNDARY ":%llu", (unsigned long long)t->boundary);
	}
	return o.full ? -ENAMETOOLONG : 0;
}

/* ---- lines the kernel writes ---- */

/* Fields of a kernel line: DMEMIT puts exactly one space between them. */
struct fields {
	const char *next;	/* the next field; NULL after the last one */
	const char *f;		/* the current field, n bytes */
	size_t n;
};

/* Steps to the next field; -EPROTO at the end of the line or on an empty field (a leading,
 * doubled or trailing space: after a trailing space next is "", not NULL). */
static int take(struct fields *fs)
{
	const char *f = fs->next;

	if (!f || !*f || *f == ' ')
		return -EPROTO;
	fs->f = f;
	fs->n = strcspn(f, " ");
	fs->next = f[fs->n] ? f + fs->n + 1 : NULL;
	return 0;
}

/* A number as the kernel prints %llu: digits only (no sign, no blank), at most UINT64_MAX. */
static int dec(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i;

	if (!n)
		return -EPROTO;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EPROTO;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EPROTO;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static int take_dec(struct fields *fs, uint64_t *ret)
{
	int r = take(fs);

	return r ? r : dec(fs->f, fs->n, ret);
}

static int is_word(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

/* <key> := :<DM_SKP_KEY_SIZE>:<logon|user>:<description>, as the kernel echoes it. */
static int key_ok(const char *s, size_t n)
{
	const char *end = s + n, *c;
	uint64_t size;

	if (!n || *s++ != ':')
		return 0;
	c = memchr(s, ':', (size_t)(end - s));
	if (!c || dec(s, (size_t)(c - s), &size) || size != DM_SKP_KEY_SIZE)
		return 0;
	s = c + 1;
	c = memchr(s, ':', (size_t)(end - s));
	if (!c || !(is_word(s, (size_t)(c - s), DM_SKP_KEY_TYPE_LOGON) ||
		    is_word(s, (size_t)(c - s), DM_SKP_KEY_TYPE_USER)))
		return 0;
	return c + 1 < end;	/* a description, which may hold colons */
}

/* <dev> as the kernel reports it: major:minor, never a path. */
static int devno(const char *s, size_t n, unsigned int *major, unsigned int *minor)
{
	const char *c = memchr(s, ':', n);
	uint64_t ma, mi;

	if (!c || dec(s, (size_t)(c - s), &ma) || dec(c + 1, n - (size_t)(c - s) - 1, &mi) ||
	    ma > UINT_MAX || mi > UINT_MAX)
		return -EPROTO;
	*major = (unsigned int)ma;
	*minor = (unsigned int)mi;
	return 0;
}

enum { OPT_SECTOR_SIZE = 1, OPT_IV_LARGE = 2, OPT_DISCARDS = 4, OPT_NEW_KEY = 8, OPT_BOUNDARY = 16 };

/* One optional parameter ("name" or "name:value"); *seen gathers them, each allowed once. */
static int opt_parse(const char *s, size_t n, struct skp_target_table *t, unsigned int *seen)
{
	const char *c = memchr(s, ':', n), *v = c ? c + 1 : NULL;
	size_t kn = c ? (size_t)(c - s) : n, vn = c ? n - kn - 1 : 0;
	unsigned int opt;
	uint64_t x;

	if (!c && is_word(s, kn, DM_SKP_OPT_IV_LARGE_SECTORS)) {
		opt = OPT_IV_LARGE;
		t->iv_large_sectors = 1;
	} else if (!c && is_word(s, kn, DM_SKP_OPT_ALLOW_DISCARDS)) {
		opt = OPT_DISCARDS;
		t->allow_discards = 1;
	} else if (c && is_word(s, kn, DM_SKP_OPT_SECTOR_SIZE)) {
		opt = OPT_SECTOR_SIZE;
		if (dec(v, vn, &x) || x < DM_SKP_SECTOR_SIZE_MIN || x > DM_SKP_SECTOR_SIZE_MAX || (x & (x - 1)))
			return -EPROTO;
		t->sector_size = (uint32_t)x;
	} else if (c && is_word(s, kn, DM_SKP_OPT_NEW_KEY)) {
		opt = OPT_NEW_KEY;
		if (!key_ok(v, vn))
			return -EPROTO;
	} else if (c && is_word(s, kn, DM_SKP_OPT_BOUNDARY)) {
		opt = OPT_BOUNDARY;
		if (dec(v, vn, &t->boundary))
			return -EPROTO;
	} else {
		return -EPROTO;
	}
	if (*seen & opt)
		return -EPROTO;
	*seen |= opt;
	return 0;
}

int skp_target_table_parse(const char *params, struct skp_target_table *ret)
{
	struct skp_target_table t = { .sector_size = SECTOR };
	struct fields fs = { .next = params };
	unsigned int seen = 0;
	uint64_t nopt;

	/* <cipher> <key> <iv_offset> <dev> <offset> */
	if (take(&fs) || !is_word(fs.f, fs.n, DM_SKP_CIPHER) || take(&fs) || !key_ok(fs.f, fs.n) ||
	    take_dec(&fs, &t.iv_offset) || take(&fs) || devno(fs.f, fs.n, &t.major, &t.minor) ||
	    take_dec(&fs, &t.offset_sectors))
		return -EPROTO;
	/* [<#opt_params> <opt_params>...]: the kernel writes no count of 0 */
	if (fs.next) {
		if (take_dec(&fs, &nopt) || !nopt || nopt > DM_SKP_MAX_OPT_PARAMS)
			return -EPROTO;
		while (nopt--)
			if (take(&fs) || opt_parse(fs.f, fs.n, &t, &seen))
				return -EPROTO;
		if (fs.next)
			return -EPROTO;
	}
	/* new_key and boundary come both or neither */
	if (!(seen & OPT_NEW_KEY) != !(seen & OPT_BOUNDARY))
		return -EPROTO;
	t.two_key = !!(seen & OPT_NEW_KEY);
	*ret = t;
	return 0;
}

int skp_target_status_parse(const char *line, struct skp_target_status *ret)
{
	struct skp_target_status s;
	uint64_t *const field[] = {
		&s.boundary, &s.length, &s.sectors_read, &s.sectors_written, &s.sectors_reencrypted,
		&s.io_errors, &s.fenced,
	};
	struct fields fs = { .next = line };
	uint64_t extra;
	size_t i;

	_Static_assert(sizeof(field) / sizeof(field[0]) == DM_SKP_STATUS_INFO_FIELDS,
		       "one struct skp_target_status member per uapi status field");
	for (i = 0; i < DM_SKP_STATUS_INFO_FIELDS; i++)
		if (take_dec(&fs, field[i]))
			return -EPROTO;
	/* Fields a later minor version appended: skipped, but held to the same grammar. */
	while (fs.next)
		if (take_dec(&fs, &extra))
			return -EPROTO;
	*ret = s;
	return 0;
}

/* ---- messages ---- */

/* "<verb> <sector> <count>" within the uapi bound; alignment and the boundary are the kernel's to check. */
static int range_msg(char *buf, size_t size, const char *verb, uint64_t sector, uint64_t count,
		     struct skp_err *err)
{
	int n;

	if (!count || count > DM_SKP_MAX_REENCRYPT_SECTORS || sector > UINT64_MAX - count)
		return skp_err_set(err, -EINVAL, "%s %llu %llu: the count must be 1..%u and the range must not wrap",
				   verb, (unsigned long long)sector, (unsigned long long)count,
				   DM_SKP_MAX_REENCRYPT_SECTORS);
	n = snprintf(buf, size, "%s %llu %llu", verb, (unsigned long long)sector, (unsigned long long)count);
	if (n < 0 || (size_t)n >= size)
		return skp_err_set(err, -ENAMETOOLONG, "%s message does not fit in %zu bytes", verb, size);
	return 0;
}

int skp_target_msg_hold(char *buf, size_t size, uint64_t sector, uint64_t count, struct skp_err *err)
{
	return range_msg(buf, size, DM_SKP_MSG_HOLD, sector, count, err);
}

int skp_target_msg_reencrypt(char *buf, size_t size, uint64_t sector, uint64_t count, struct skp_err *err)
{
	return range_msg(buf, size, DM_SKP_MSG_REENCRYPT, sector, count, err);
}
