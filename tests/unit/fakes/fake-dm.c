// SPDX-License-Identifier: GPL-2.0
/* Fake device-mapper with a fake dm-skp target (fake-dm.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <linux/dm-skp.h>

#include "fake-dm.h"
#include "fake-keyring.h"
#include "io.h"
#include "secmem.h"

#define FAKE_DM_MAPS 32

struct fake_dm_faults fake_dm_faults;
struct fake_dm_stats fake_dm_stats;
uint32_t fake_dm_skp_version[3] = {DM_SKP_VERSION_MAJOR, DM_SKP_VERSION_MINOR, DM_SKP_VERSION_PATCH};

static struct fake_dm_map maps[FAKE_DM_MAPS];
static uint32_t next_minor;

/* A counted fault fires when its counter runs down to zero. */
static int fires(unsigned int *n)
{
	return *n && --*n == 0;
}

/*
 * The kernel's errno reaches skpd as libdevmapper's text, which lib/dm.c maps to -ENODEV,
 * -EEXIST, -EBUSY or -EIO: the fake answers with the same codes.
 */
static int dm_fail(struct skp_err *err, int kerr, const char *what, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int dm_fail(struct skp_err *err, int kerr, const char *what, const char *name, const char *fmt, ...)
{
	int code = kerr == -ENXIO || kerr == -ENODEV ? -ENODEV : kerr == -EEXIST ? -EEXIST :
		   kerr == -EBUSY ? -EBUSY : -EIO;
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return skp_err_set(err, code, "device-mapper %s of %s failed: %s (fake: %s)", what, name,
			   strerror(-kerr), why);
}

struct fake_dm_map *fake_dm_find(const char *name)
{
	for (int i = 0; i < FAKE_DM_MAPS; i++)
		if (maps[i].used && !strcmp(maps[i].name, name))
			return &maps[i];
	return NULL;
}

size_t fake_dm_count(void)
{
	size_t n = 0;

	for (int i = 0; i < FAKE_DM_MAPS; i++)
		n += maps[i].used;
	return n;
}

static void map_free(struct fake_dm_map *m)
{
	skp_wipe(m, sizeof(*m));
	memset(m, 0, sizeof(*m));
}

void fake_dm_forget(const char *name)
{
	struct fake_dm_map *m = fake_dm_find(name);

	if (m)
		map_free(m);
}

int fake_xts(const unsigned char key[FAKE_DM_KEY_LEN], uint32_t sector_size, uint64_t sector, int enc,
	     const unsigned char *in, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char iv[16] = {0};
	int n = 0, ok;

	/* plain64: the little-endian 512-byte sector number (iv_offset 0, no iv_large_sectors) */
	for (int i = 0; i < 8; i++)
		iv[i] = (unsigned char)(sector >> (8 * i));
	ok = c && EVP_CipherInit_ex(c, EVP_aes_256_xts(), NULL, key, iv, enc) &&
	     EVP_CipherUpdate(c, out, &n, in, (int)sector_size) && n == (int)sector_size;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

/* One field of a table line, as lib/dm.c requires. */
static int field_ok(const char *s)
{
	if (!s[0])
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* A key as the target's constructor takes it: from the keyring, 64 bytes, XTS halves differing. */
static int take_key(const char *desc, unsigned char *out, const char *what, const char *name,
		    struct skp_err *err)
{
	size_t len = 0;
	const unsigned char *k = fake_keyring_find(desc, &len);

	if (!k)
		return dm_fail(err, -ENOKEY, what, name, "key %s not found in the keyring", desc);
	if (len != FAKE_DM_KEY_LEN)
		return dm_fail(err, -EINVAL, what, name, "key %s has %zu bytes, not 64", desc, len);
	if (!memcmp(k, k + 32, 32))
		return dm_fail(err, -EINVAL, what, name, "key %s has equal XTS halves", desc);
	memcpy(out, k, FAKE_DM_KEY_LEN);
	return 0;
}

/* The constructor: checks the table as the kernel does and takes its keys. */
static int load(const struct skp_dm_table *in, struct fake_dm_table *t, const char *what, const char *name,
		struct skp_err *err)
{
	uint32_t ss = in->sector_size;
	uint64_t spb = ss / 512;
	struct stat st;
	int r;

	memset(t, 0, sizeof(*t));
	if (!field_ok(in->dev) || !field_ok(in->key_desc) || (in->new_key_desc && !field_ok(in->new_key_desc)))
		return skp_err_set(err, -EINVAL, "device-mapper table: a key description has a space or a control character");
	if (stat(in->dev, &st) < 0)
		return skp_err_set(err, -errno, "%s: %s", in->dev, strerror(errno));
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return skp_err_set(err, -ENOTBLK, "%s is not a block device (nor a file, for the fake)", in->dev);
	if (strcmp(in->target, "skp") && strcmp(in->target, "crypt"))
		return dm_fail(err, -EINVAL, what, name, "unknown target type %s", in->target);
	if (ss < 512 || ss > 4096 || (ss & (ss - 1)))
		return dm_fail(err, -EINVAL, what, name, "sector_size %u", ss);
	if (in->len_sectors % spb || in->offset_sectors % spb || !in->len_sectors)
		return dm_fail(err, -EINVAL, what, name, "length or offset not a multiple of the sector size");
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < (in->offset_sectors + in->len_sectors) * 512)
		return dm_fail(err, -EINVAL, what, name, "%s is smaller than the mapping", in->dev);
	if (in->new_key_desc && strcmp(in->target, "skp"))
		return dm_fail(err, -EINVAL, what, name, "new_key is an skp option");
	if (in->new_key_desc && (in->boundary > in->len_sectors || in->boundary % spb))
		return dm_fail(err, -EINVAL, what, name, "boundary %llu", (unsigned long long)in->boundary);
	r = take_key(in->key_desc, t->key, what, name, err);
	if (r == 0 && in->new_key_desc)
		r = take_key(in->new_key_desc, t->new_key, what, name, err);
	if (r == 0 && in->new_key_desc && !memcmp(t->key, t->new_key, FAKE_DM_KEY_LEN))
		r = dm_fail(err, -EINVAL, what, name, "new_key equals key");
	if (r < 0) {
		skp_wipe(t, sizeof(*t));
		return r;
	}
	snprintf(t->target, sizeof(t->target), "%s", in->target);
	snprintf(t->dev, sizeof(t->dev), "%s", in->dev);
	snprintf(t->key_desc, sizeof(t->key_desc), "%s", in->key_desc);
	t->offset = in->offset_sectors;
	t->len = in->len_sectors;
	t->sector_size = ss;
	t->allow_discards = in->allow_discards;
	t->read_only = in->read_only;
	if (in->new_key_desc) {
		snprintf(t->new_key_desc, sizeof(t->new_key_desc), "%s", in->new_key_desc);
		t->two_keys = 1;
		t->boundary = in->boundary;
	}
	return 0;
}

int skp_dm_create(const char *name, const char *dm_uuid, const struct skp_dm_table *t,
		  struct skp_err *err)
{
	struct fake_dm_map *m = NULL;
	int r;

	fake_dm_stats.create++;
	if (fake_dm_find(name))
		return dm_fail(err, -EEXIST, "create", name, "mapping exists");
	for (int i = 0; i < FAKE_DM_MAPS; i++) {
		if (maps[i].used && dm_uuid && !strcmp(maps[i].uuid, dm_uuid))
			return dm_fail(err, -EBUSY, "create", name, "uuid %s in use", dm_uuid);
		if (!maps[i].used && !m)
			m = &maps[i];
	}
	if (!m)
		return dm_fail(err, -ENOMEM, "create", name, "more than %d mappings", FAKE_DM_MAPS);
	if (fires(&fake_dm_faults.create_n))
		return dm_fail(err, -EIO, "create", name, "injected table load failure");
	r = load(t, &m->t, "create", name, err);
	if (r < 0)
		return r;
	m->used = 1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->uuid, sizeof(m->uuid), "%s", dm_uuid ? dm_uuid : "");
	m->minor = next_minor++;
	return 0;
}

int skp_dm_reload(const char *name, const struct skp_dm_table *t, struct skp_err *err)
{
	struct fake_dm_map *m = fake_dm_find(name);
	int r;

	fake_dm_stats.reload++;
	if (!m)
		return dm_fail(err, -ENXIO, "reload", name, "no such mapping");
	if (fires(&fake_dm_faults.reload_n))
		return dm_fail(err, -EIO, "reload", name, "injected table load failure");
	r = load(t, &m->next, "reload", name, err);
	if (r == 0)
		m->has_next = 1;
	return r;
}

int skp_dm_remove(const char *name, struct skp_err *err)
{
	struct fake_dm_map *m = fake_dm_find(name);

	fake_dm_stats.remove++;
	if (!m)
		return dm_fail(err, -ENXIO, "remove", name, "no such mapping");
	if (m->open_count)
		return dm_fail(err, -EBUSY, "remove", name, "open count %u", m->open_count);
	map_free(m);
	return 0;
}

/* A hold is dropped: by release (not lost) or by a suspend or expiry (lost: the holder's
 * samples may be stale, so the unheld reencrypt is refused). */
static void drop_hold(struct fake_dm_map *m, int lost)
{
	if (!m->held)
		return;
	m->held = 0;
	m->hold_lost = lost;
	m->lock_start = m->lock_end = 0;
}

int skp_dm_suspend(const char *name, int suspend, struct skp_err *err)
{
	struct fake_dm_map *m = fake_dm_find(name);

	if (!m)
		return dm_fail(err, -ENXIO, suspend ? "suspend" : "resume", name, "no such mapping");
	if (suspend) {
		fake_dm_stats.suspend++;
		drop_hold(m, 1);
		m->suspended = 1;
		return 0;
	}
	fake_dm_stats.resume++;
	if (m->has_next) {
		/* The new table's target replaces the old: its fence and hold go with it. */
		skp_wipe(&m->t, sizeof(m->t));
		m->t = m->next;
		skp_wipe(&m->next, sizeof(m->next));
		m->has_next = 0;
		m->held = m->hold_lost = 0;
		m->lock_start = m->lock_end = 0;
		m->fence_start = m->fence_end = 0;
	}
	m->suspended = 0;
	return 0;
}

int skp_dm_info(const char *name, struct skp_dm_info *ret, struct skp_err *err)
{
	struct fake_dm_map *m = fake_dm_find(name);

	(void)err;
	memset(ret, 0, sizeof(*ret));
	if (!m)
		return 0;
	ret->exists = 1;
	ret->suspended = m->suspended;
	ret->open_count = m->open_count;
	ret->major = 253;
	ret->minor = m->minor;
	snprintf(ret->uuid, sizeof(ret->uuid), "%s", m->uuid);
	return 0;
}

/* The constructor line as the kernel reproduces it: device as major:minor, current boundary. */
static void table_line(const struct fake_dm_map *m, char *buf, size_t size)
{
	const struct fake_dm_table *t = &m->t;
	unsigned int ma = 0, mi = 0, n;
	struct stat st;
	size_t l;

	if (stat(t->dev, &st) == 0 && S_ISBLK(st.st_mode)) {
		ma = major(st.st_rdev);
		mi = minor(st.st_rdev);
	}
	snprintf(buf, size, "%s :64:logon:%s 0 %u:%u %llu", DM_SKP_CIPHER, t->key_desc, ma, mi,
		 (unsigned long long)t->offset);
	n = (t->sector_size != 512) + !!t->allow_discards + (t->two_keys ? 2 : 0);
	if (!n)
		return;
	l = strlen(buf);
	snprintf(buf + l, size - l, " %u", n);
	if (t->sector_size != 512) {
		l = strlen(buf);
		snprintf(buf + l, size - l, " " DM_SKP_OPT_SECTOR_SIZE ":%u", t->sector_size);
	}
	if (t->allow_discards) {
		l = strlen(buf);
		snprintf(buf + l, size - l, " " DM_SKP_OPT_ALLOW_DISCARDS);
	}
	if (t->two_keys) {
		l = strlen(buf);
		snprintf(buf + l, size - l, " " DM_SKP_OPT_NEW_KEY "::64:logon:%s " DM_SKP_OPT_BOUNDARY ":%llu",
			 t->new_key_desc, (unsigned long long)t->boundary);
	}
}

int skp_dm_status(const char *name, int table, char *type, size_t type_size,
		  char *params, size_t params_size, struct skp_err *err)
{
	struct fake_dm_map *m = fake_dm_find(name);

	if (!m)
		return dm_fail(err, -ENXIO, table ? "table" : "status", name, "no such mapping");
	snprintf(type, type_size, "%s", m->t.target);
	if (table)
		table_line(m, params, params_size);
	else if (!strcmp(m->t.target, "crypt"))
		snprintf(params, params_size, "%s", "");	/* dm-crypt has no INFO fields */
	else
		snprintf(params, params_size, "%llu %llu %llu %llu %llu %llu %llu",
			 (unsigned long long)(m->t.two_keys ? m->t.boundary : 0), (unsigned long long)m->t.len,
			 (unsigned long long)m->n_read, (unsigned long long)m->n_written,
			 (unsigned long long)m->n_reencrypted, (unsigned long long)m->n_errors,
			 (unsigned long long)(m->fence_end - m->fence_start));
	return 0;
}

/* Checks hold and reencrypt share (kernel/skp-reencrypt.c skp_check_range, skp_check_live). */
static int check_range(const struct fake_dm_map *m, uint64_t sector, uint64_t count, const char **why)
{
	uint64_t spb = m->t.sector_size / 512;

	if (!m->t.two_keys)
		return *why = "the table has no new_key", -EINVAL;
	if (!count || count > DM_SKP_MAX_REENCRYPT_SECTORS)
		return *why = "count out of range", -EINVAL;
	if (sector % spb || count % spb)
		return *why = "sector or count not a multiple of sector_size", -EINVAL;
	if (sector > m->t.len || count > m->t.len - sector)
		return *why = "range past the end of the target", -EINVAL;
	if (m->suspended)
		return *why = "the device is suspended", -EINVAL;
	return 0;
}

static int lock_range(struct fake_dm_map *m, uint64_t sector, uint64_t count, const char **why)
{
	if (m->fence_start != m->fence_end)
		return *why = "fenced after a failed reencrypt; repair it and reload the table", -EIO;
	if (sector != m->t.boundary)
		return *why = "sector is not the boundary", -EINVAL;
	m->lock_start = sector;
	m->lock_end = sector + count;
	return 0;
}

/* Old key to new key, in place on the backing file; a fault may stop it part-way. */
static int recrypt(struct fake_dm_map *m, uint64_t sector, uint64_t count, enum fake_dm_fail how)
{
	const struct fake_dm_table *t = &m->t;
	uint32_t ss = t->sector_size;
	size_t len = count * 512, wlen = len;
	uint64_t off = (t->offset + sector) * 512, half = count / 2 / (ss / 512) * (ss / 512);
	unsigned char *buf = malloc(len), *plain = malloc(ss);
	int fd = open(t->dev, O_RDWR | O_CLOEXEC), r = 0;

	if (!buf || !plain || fd < 0)
		r = -EIO;
	if (!r && how == FAKE_DM_FAIL_BEFORE_WRITE)
		r = -EIO;
	if (!r)
		r = skp_pread_full(fd, buf, len, off);
	for (size_t o = 0; !r && o < len; o += ss) {
		r = fake_xts(t->key, ss, sector + o / 512, 0, buf + o, plain);
		if (!r)
			r = fake_xts(t->new_key, ss, sector + o / 512, 1, plain, buf + o);
	}
	if (how == FAKE_DM_FAIL_HALF_WRITTEN)
		wlen = half * 512;
	else if (how == FAKE_DM_FAIL_TORN)
		wlen = half * 512 + 512;
	if (!r && wlen)
		r = skp_pwrite_full(fd, buf, wlen, off);
	if (!r && fdatasync(fd))	/* the kernel writes with FUA */
		r = -errno;
	if (!r && how)
		r = -EIO;
	if (buf)
		skp_wipe(buf, len);
	if (plain)
		skp_wipe(plain, ss);
	free(buf);
	free(plain);
	if (fd >= 0)
		close(fd);
	return r;
}

static int msg_reencrypt(struct fake_dm_map *m, uint64_t sector, uint64_t count, const char **why)
{
	enum fake_dm_fail how = 0;
	int r = check_range(m, sector, count, why);

	if (r)
		return r;
	if (m->held) {
		if (sector != m->lock_start || sector + count != m->lock_end)
			return *why = "not the held range", -EINVAL;
		m->held = 0;
	} else if (m->hold_lost) {
		return *why = "the hold on this range was lost (expiry or suspend); hold it again", -ETIMEDOUT;
	} else if ((r = lock_range(m, sector, count, why))) {
		return r;
	}
	if (fires(&fake_dm_faults.reencrypt_n))
		how = fake_dm_faults.reencrypt_how;
	r = recrypt(m, sector, count, how);
	/* A failure may leave the chunk part old, part new: fenced until the next table load. */
	if (r) {
		m->fence_start = m->lock_start;
		m->fence_end = m->lock_end;
		m->n_errors++;
		*why = how ? "injected failure, range fenced" : "I/O error, range fenced";
	} else {
		m->t.boundary = sector + count;
		m->n_reencrypted += count;
	}
	m->lock_start = m->lock_end = 0;
	return r;
}

int skp_dm_message(const char *name, const char *msg, char *resp, size_t resp_size,
		   struct skp_err *err)
{
	struct fake_dm_map *m = fake_dm_find(name);
	unsigned long long a, b;
	const char *why = "unknown message";
	int end = 0, r = -EINVAL;

	fake_dm_stats.message++;
	if (resp && resp_size)
		resp[0] = '\0';
	if (!m)
		return dm_fail(err, -ENXIO, "message", name, "no such mapping");
	if (sscanf(msg, "hold %llu %llu%n", &a, &b, &end) == 2 && !msg[end]) {
		fake_dm_stats.hold++;
		r = check_range(m, a, b, &why);
		if (!r && m->held)
			why = "a range is already held", r = -EBUSY;
		if (!r)
			r = lock_range(m, a, b, &why);
		if (!r) {
			m->held = 1;
			m->hold_lost = 0;
		}
	} else if (sscanf(msg, "reencrypt %llu %llu%n", &a, &b, &end) == 2 && !msg[end]) {
		fake_dm_stats.reencrypt++;
		r = msg_reencrypt(m, a, b, &why);
	} else if (!strcmp(msg, "release")) {
		fake_dm_stats.release++;
		drop_hold(m, 0);
		r = 0;
	} else if (!strcmp(msg, "driver")) {
		if (resp && resp_size)
			snprintf(resp, resp_size, "fake-xts fake-xts");
		r = 0;
	}
	return r ? dm_fail(err, r, "message", name, "%s: %s", msg, why) : 0;
}

/* No udev here: the fake makes its mappings at once. */
int skp_dm_udev_sync(void)
{
	return 0;
}

int skp_dm_target_version(const char *target, uint32_t version[3], struct skp_err *err)
{
	if (!strcmp(target, "skp")) {
		memcpy(version, fake_dm_skp_version, sizeof(fake_dm_skp_version));
		return 0;
	}
	if (!strcmp(target, "crypt")) {
		version[0] = 1;
		version[1] = 24;
		version[2] = 0;
		return 0;
	}
	return skp_err_set(err, -ENOENT, "device-mapper target %s is not loaded", target);
}

/* User I/O: what the kernel would fail fails (-EIO), what it would make wait is refused. */
static int user_io(const char *name, uint64_t sector, void *buf, size_t len, int write)
{
	struct fake_dm_map *m = fake_dm_find(name);
	const struct fake_dm_table *t;
	uint64_t n = len / 512, end = sector + n;
	unsigned char *one;
	int fd, r = 0;

	if (!m)
		return -ENXIO;
	t = &m->t;
	if (m->suspended || (m->held && sector < m->lock_end && end > m->lock_start))
		return -EBUSY;
	if (write && t->read_only)
		return -EROFS;
	if (len % t->sector_size || sector % (t->sector_size / 512) || end > t->len ||
	    (sector < m->fence_end && end > m->fence_start)) {
		m->n_errors++;
		return -EIO;
	}
	one = malloc(t->sector_size);
	fd = open(t->dev, (write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (!one || fd < 0)
		r = -EIO;
	for (size_t o = 0; !r && o < len; o += t->sector_size) {
		uint64_t s = sector + o / 512, off = (t->offset + s) * 512;
		const unsigned char *key = t->two_keys && s < t->boundary ? t->new_key : t->key;

		if (write) {
			r = fake_xts(key, t->sector_size, s, 1, (unsigned char *)buf + o, one);
			if (!r)
				r = skp_pwrite_full(fd, one, t->sector_size, off);
		} else {
			r = skp_pread_full(fd, one, t->sector_size, off);
			if (!r)
				r = fake_xts(key, t->sector_size, s, 0, one, (unsigned char *)buf + o);
		}
	}
	if (!r && write && fdatasync(fd))
		r = -errno;
	if (fd >= 0)
		close(fd);
	free(one);
	if (r)
		m->n_errors++;
	else if (write)
		m->n_written += n;
	else
		m->n_read += n;
	return r;
}

int fake_dm_write(const char *name, uint64_t sector, const void *buf, size_t len)
{
	return user_io(name, sector, (void *)buf, len, 1);
}

int fake_dm_read(const char *name, uint64_t sector, void *buf, size_t len)
{
	return user_io(name, sector, buf, len, 0);
}
