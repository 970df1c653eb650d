// SPDX-License-Identifier: GPL-2.0
/* The native key provider's store and its backups: see native.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "bytes.h"
#include "config.h"
#include "header.h"
#include "native.h"
#include "sealed.h"
#include "secmem.h"
#include "tpm.h"
#include "wrap.h"

#define STORE_FILE	"keys.sealed"
#define STORE_MAGIC	"skp-native 1 "
/* "kek " uid " " state " " name " " hex "\n" */
#define LINE_MAX_LEN	(4 + SKP_KEK_UID_MAX + 3 + SKP_KEK_NAME_MAX + 1 + 2 * SKP_KEK_LEN + 1)

struct nkek {
	char uid[SKP_KEK_UID_MAX];
	char name[SKP_KEK_NAME_MAX];
	int state;
	unsigned char *key;		/* SKP_KEK_LEN of secmem */
};

struct kset {
	struct nkek *k;
	size_t n, cap;
};

struct skp_native {
	char dir[SKP_PATH_MAX];
	char name[SKP_PROVIDER_MAX];
	char tcti[SKP_PATH_MAX];
	struct kset set;
};

static void set_free(struct kset *s)
{
	for (size_t i = 0; i < s->n; i++)
		skp_secmem_free(s->k[i].key, SKP_KEK_LEN);
	free(s->k);
	memset(s, 0, sizeof(*s));
}

static struct nkek *set_find(struct kset *s, const char *uid)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->k[i].uid, uid))
			return &s->k[i];
	return NULL;
}

static int set_add(struct kset *s, const char *uid, const char *name, int state, const unsigned char *key,
		   struct skp_err *err)
{
	struct nkek *k;

	if (s->n >= SKP_NATIVE_MAX_KEKS)
		return skp_err_set(err, -E2BIG, "more than %d KEKs in one native provider", SKP_NATIVE_MAX_KEKS);
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		struct nkek *nk = realloc(s->k, ncap * sizeof(*nk));

		if (!nk)
			return skp_err_set(err, -ENOMEM, "out of memory");
		s->k = nk;
		s->cap = ncap;
	}
	k = &s->k[s->n];
	memset(k, 0, sizeof(*k));
	k->key = skp_secmem_alloc(SKP_KEK_LEN);
	if (!k->key)
		return skp_err_set(err, -ENOMEM, "out of locked memory");
	memcpy(k->key, key, SKP_KEK_LEN);
	snprintf(k->uid, sizeof(k->uid), "%s", uid);
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->state = state;
	s->n++;
	return 0;
}

static int uid_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SKP_KEK_UID_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-')
			return 0;
	return 1;
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= SKP_KEK_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return 0;
	return 1;
}

static int unhex(const char *h, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int v = 0;

		for (int j = 0; j < 2; j++) {
			char c = h[2 * i + j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else
				return -1;
		}
		out[i] = (unsigned char)v;
	}
	return h[2 * n] ? -1 : 0;
}

/*
 * The store's text into s (empty on entry); its provider name to name.  Strict: any line
 * that is not exactly a KEK line fails the whole text.  what: "store" or "backup".
 */
static int set_parse(char *text, size_t len, const char *what, char *name, size_t name_size, struct kset *s,
		     struct skp_err *err)
{
	unsigned char key[SKP_KEK_LEN];
	char *line = text, *nl;
	int ln = 1, r = 0;

	if (strlen(text) != len)
		return skp_err_set(err, -EBADMSG, "native %s: a NUL byte in it", what);
	if (strncmp(text, STORE_MAGIC, strlen(STORE_MAGIC)))
		return skp_err_set(err, -EBADMSG, "native %s: not an skp native key store (version 1)", what);
	nl = strchr(line, '\n');
	if (!nl)
		return skp_err_set(err, -EBADMSG, "native %s: truncated", what);
	*nl = '\0';
	if (strlen(line + strlen(STORE_MAGIC)) >= name_size || !line[strlen(STORE_MAGIC)])
		return skp_err_set(err, -EBADMSG, "native %s: bad provider name", what);
	snprintf(name, name_size, "%s", line + strlen(STORE_MAGIC));
	for (line = nl + 1; *line; line = nl + 1) {
		char *f[6], *save = NULL;
		int nf = 0;

		ln++;
		nl = strchr(line, '\n');
		if (!nl) {
			r = skp_err_set(err, -EBADMSG, "native %s: line %d unterminated", what, ln);
			break;
		}
		*nl = '\0';
		for (char *t = strtok_r(line, " ", &save); t && nf < 6; t = strtok_r(NULL, " ", &save))
			f[nf++] = t;
		if (nf != 5 || strcmp(f[0], "kek") || !uid_ok(f[1]) || strlen(f[2]) != 1 || f[2][0] < '1' ||
		    f[2][0] > '6' || !name_ok(f[3]) || strlen(f[4]) != 2 * SKP_KEK_LEN ||
		    unhex(f[4], key, SKP_KEK_LEN) < 0) {
			r = skp_err_set(err, -EBADMSG, "native %s: line %d is not a KEK", what, ln);
			break;
		}
		if (set_find(s, f[1])) {
			r = skp_err_set(err, -EBADMSG, "native %s: KEK %s twice", what, f[1]);
			break;
		}
		r = set_add(s, f[1], f[3], f[2][0] - '0', key, err);
		if (r < 0)
			break;
	}
	skp_wipe(key, sizeof(key));
	if (r < 0)
		set_free(s);
	return r;
}

/* The text of s (secmem, *cap bytes: free with skp_secmem_free(*text, *cap)). */
static int set_format(const struct kset *s, const char *name, char **text, size_t *len, size_t *cap,
		      struct skp_err *err)
{
	size_t c = strlen(STORE_MAGIC) + SKP_PROVIDER_MAX + 2 + s->n * LINE_MAX_LEN + 1, l;
	char *t = skp_secmem_alloc(c);

	if (!t)
		return skp_err_set(err, -ENOMEM, "out of locked memory");
	l = (size_t)snprintf(t, c, "%s%s\n", STORE_MAGIC, name);
	for (size_t i = 0; i < s->n; i++) {
		l += (size_t)snprintf(t + l, c - l, "kek %s %d %s ", s->k[i].uid, s->k[i].state, s->k[i].name);
		for (size_t j = 0; j < SKP_KEK_LEN; j++)
			l += (size_t)snprintf(t + l, c - l, "%02x", s->k[i].key[j]);
		l += (size_t)snprintf(t + l, c - l, "\n");
	}
	if (l > SKP_SEALED_DATA_MAX) {
		skp_secmem_free(t, c);
		return skp_err_set(err, -E2BIG, "native store: too many KEKs for one sealed file");
	}
	*text = t;
	*len = l;
	*cap = c;
	return 0;
}

struct skp_native *skp_native_new(const char *dir, const char *name, const char *tcti, struct skp_err *err)
{
	struct skp_native *n;

	if (strlen(dir) >= sizeof(n->dir) - sizeof(STORE_FILE) - 8 || strlen(name) >= sizeof(n->name) ||
	    strlen(tcti ? tcti : "") >= sizeof(n->tcti)) {
		skp_err_set(err, -ENAMETOOLONG, "native provider: directory, name or tpm_tcti too long");
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		skp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(n->dir, sizeof(n->dir), "%s", dir);
	snprintf(n->name, sizeof(n->name), "%s", name);
	snprintf(n->tcti, sizeof(n->tcti), "%s", tcti ? tcti : "");
	return n;
}

void skp_native_free(struct skp_native *n)
{
	if (!n)
		return;
	set_free(&n->set);
	free(n);
}

const char *skp_native_dir(const struct skp_native *n)
{
	return n->dir;
}

size_t skp_native_count(const struct skp_native *n)
{
	return n->set.n;
}

static void path_of(const struct skp_native *n, const char *file, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", n->dir, file);
}

static int open_tpm(const struct skp_native *n, struct skp_tpm **t, struct skp_err *err)
{
	int r = skp_tpm_open(n->tcti, t, err);

	if (r < 0)
		return skp_err_wrap(err, "native provider \"%s\" needs a TPM, and none is usable", n->name);
	return 0;
}

/* The store file into s (empty if there is none). */
static int read_store(struct skp_native *n, struct kset *s, struct skp_err *err)
{
	char path[SKP_PATH_MAX + 16], name[SKP_PROVIDER_MAX], *text = NULL;
	unsigned char *img = NULL;
	struct skp_tpm *t = NULL;
	size_t len = 0, tl = 0, max = SKP_SEALED_DATA_MAX + 4096;
	struct stat st;
	ssize_t got;
	int fd, r;

	memset(s, 0, sizeof(*s));
	path_of(n, STORE_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		/* No KEK yet, but the first format will need the TPM: find out now. */
		r = open_tpm(n, &t, err);
		skp_tpm_close(t);
		return r;
	}
	if (fd < 0)
		return skp_err_set(err, -errno, "native provider \"%s\": %s: %s", n->name, path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size > max) {
		close(fd);
		return skp_err_set(err, -EBADMSG, "native provider \"%s\": %s is not a store file", n->name, path);
	}
	img = malloc((size_t)st.st_size);
	if (!img) {
		close(fd);
		return skp_err_set(err, -ENOMEM, "out of memory");
	}
	while (len < (size_t)st.st_size && (got = read(fd, img + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)got;
	close(fd);
	if (len != (size_t)st.st_size) {
		free(img);
		return skp_err_set(err, -EIO, "native provider \"%s\": cannot read %s", n->name, path);
	}
	r = open_tpm(n, &t, err);
	if (!r)
		r = skp_sealed_open(t, img, len, &text, &tl, err);
	skp_tpm_close(t);
	free(img);
	if (r < 0)
		return skp_err_wrap(err, "native provider \"%s\": %s", n->name, path);
	r = set_parse(text, tl, "store", name, sizeof(name), s, err);
	skp_secmem_free(text, tl + 1);
	if (!r && strcmp(name, n->name)) {
		set_free(s);
		r = skp_err_set(err, -EBADMSG, "is the store of provider \"%s\"", name);
	}
	return r < 0 ? skp_err_wrap(err, "native provider \"%s\": %s", n->name, path) : 0;
}

static int mkdirs(const char *dir)
{
	char p[SKP_PATH_MAX];

	snprintf(p, sizeof(p), "%s", dir);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The store's lock (a file of its own: the store is replaced by rename). */
static int lock_store(const struct skp_native *n, struct skp_err *err)
{
	char path[SKP_PATH_MAX + 16];
	int fd, r = mkdirs(n->dir);

	if (r < 0)
		return skp_err_set(err, r, "native provider \"%s\": cannot make %s: %s", n->name, n->dir, strerror(-r));
	path_of(n, ".lock", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return skp_err_set(err, -errno, "native provider \"%s\": %s: %s", n->name, path, strerror(errno));
	if (flock(fd, LOCK_EX) < 0) {
		r = -errno;
		close(fd);
		return skp_err_set(err, r, "native provider \"%s\": lock %s: %s", n->name, path, strerror(-r));
	}
	return fd;
}

/* s sealed by the TPM, written whole and renamed into place (synced). */
static int write_store(struct skp_native *n, const struct kset *s, struct skp_err *err)
{
	char path[SKP_PATH_MAX + 16], tmp[SKP_PATH_MAX + 16], *text = NULL;
	unsigned char *img = NULL;
	struct skp_tpm *t = NULL;
	size_t len = 0, cap = 0, img_len = 0;
	int fd, r;

	r = set_format(s, n->name, &text, &len, &cap, err);
	if (r < 0)
		return r;
	r = open_tpm(n, &t, err);
	if (!r)
		r = skp_sealed_seal(t, 0, text, len, &img, &img_len, err);
	skp_tpm_close(t);
	skp_secmem_free(text, cap);
	if (r < 0)
		return r;
	path_of(n, STORE_FILE, path, sizeof(path));
	path_of(n, STORE_FILE ".tmp", tmp, sizeof(tmp));
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && (write(fd, img, img_len) != (ssize_t)img_len || fsync(fd) < 0)) {
		int e = errno ? errno : EIO;

		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		free(img);
		return skp_err_set(err, r, "native provider \"%s\": cannot write %s: %s", n->name, path, strerror(-r));
	}
	free(img);
	/* The rename itself must survive a crash: a KEK just made wraps a DEK on disk. */
	fd = open(n->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		r = fsync(fd) < 0 ? -errno : 0;
		close(fd);
		if (r < 0)
			return skp_err_set(err, r, "native provider \"%s\": fsync %s: %s", n->name, n->dir,
					   strerror(-r));
	}
	return 0;
}

int skp_native_load(struct skp_native *n, struct skp_err *err)
{
	struct kset s;
	int r = read_store(n, &s, err);

	if (r < 0)
		return r;
	set_free(&n->set);
	n->set = s;
	return 0;
}

/* A change: under the lock, on the store read afresh, written back before memory takes it. */
static int change(struct skp_native *n, int (*fn)(struct kset *s, void *ctx, struct skp_err *err), void *ctx,
		  struct skp_err *err)
{
	struct kset s;
	int lk = lock_store(n, err), r;

	if (lk < 0)
		return lk;
	r = read_store(n, &s, err);
	if (r < 0)
		goto out;
	r = fn(&s, ctx, err);
	if (r >= 0)
		r = write_store(n, &s, err);
	if (r < 0) {
		set_free(&s);
		goto out;
	}
	set_free(&n->set);
	n->set = s;
out:
	close(lk);
	return r;
}

struct create_ctx {
	const char *name;
	char uid[37];
};

static int do_create(struct kset *s, void *ctx, struct skp_err *err)
{
	struct create_ctx *c = ctx;
	unsigned char *key = skp_secmem_alloc(SKP_KEK_LEN), u[16];
	int r;

	if (!key)
		return skp_err_set(err, -ENOMEM, "out of locked memory");
	/* A random UUID (v4) as uid, as many KMSes name their objects. */
	do {
		if (RAND_bytes(u, sizeof(u)) != 1) {
			skp_secmem_free(key, SKP_KEK_LEN);
			return skp_err_set(err, -EIO, "no random bytes");
		}
		u[6] = (u[6] & 0x0f) | 0x40;
		u[8] = (u[8] & 0x3f) | 0x80;
		skp_uuid_format(u, c->uid);
	} while (set_find(s, c->uid));
	r = RAND_priv_bytes(key, SKP_KEK_LEN) == 1 ? 0 : skp_err_set(err, -EIO, "no random key");
	if (!r)
		r = set_add(s, c->uid, c->name, 2, key, err);
	skp_secmem_free(key, SKP_KEK_LEN);
	return r;
}

int skp_native_create(struct skp_native *n, const char *name, char *uid, size_t uid_size, struct skp_err *err)
{
	struct create_ctx c = {.name = name};
	int r;

	if (!name_ok(name))
		return skp_err_set(err, -EINVAL, "native provider \"%s\": bad KEK name", n->name);
	r = change(n, do_create, &c, err);
	if (r < 0)
		return r;
	snprintf(uid, uid_size, "%s", c.uid);
	return 0;
}

int skp_native_get(struct skp_native *n, const char *uid, unsigned char **key, int *state, struct skp_err *err)
{
	struct nkek *k = set_find(&n->set, uid);
	int r;

	*key = NULL;
	if (!k) {
		/* Restored (skpctl provider restore) since it was read? */
		r = skp_native_load(n, err);
		if (r < 0)
			return r;
		k = set_find(&n->set, uid);
	}
	if (!k)
		return skp_err_setc(err, SKP_ERRC_KEY_REFUSED, -ENOENT, "native provider \"%s\" holds no KEK %s "
				    "(a device of another host? restore that host's backup: skpctl provider restore)",
				    n->name, uid);
	*key = skp_secmem_alloc(SKP_KEK_LEN);
	if (!*key)
		return skp_err_set(err, -ENOMEM, "out of locked memory");
	memcpy(*key, k->key, SKP_KEK_LEN);
	if (state)
		*state = k->state;
	return 0;
}

static int do_revoke(struct kset *s, void *ctx, struct skp_err *err)
{
	struct nkek *k = set_find(s, ctx);

	if (!k)
		return skp_err_setc(err, SKP_ERRC_KEY_REFUSED, -ENOENT, "no KEK %s in the store", (const char *)ctx);
	if (k->state < 3)
		k->state = 3;
	return 0;
}

int skp_native_revoke(struct skp_native *n, const char *uid, struct skp_err *err)
{
	int r = change(n, do_revoke, (void *)uid, err);

	return r < 0 ? skp_err_wrap(err, "native provider \"%s\"", n->name) : 0;
}

/* ---- backups ---- */

#define BK_MAGIC	"SKPNATB\1"
#define BK_MAGIC_LEN	8
#define BK_SALT		16
#define BK_CHECK	16
#define BK_NONCE	SKP_GCM_NONCE_LEN
#define BK_TAG		SKP_GCM_TAG_LEN
#define BK_AAD		(BK_MAGIC_LEN + 4 + BK_SALT + BK_CHECK + BK_NONCE + 4)
#define BK_KDF_SCRYPT	1
#define BK_CHECK_TEXT	"skp native backup"
/* What a file may ask of scrypt: a crafted one must not take all memory or hours. */
#define BK_LOGN_MIN	10
#define BK_LOGN_MAX	20
#define BK_MEM_MAX	(1ull << 30)

/* 64 bytes (secmem) from pass: the AES key, then the check key. */
static int derive(const char *pass, size_t pass_len, const unsigned char *salt, int log_n, int r, int p,
		  unsigned char *out, struct skp_err *err)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint64_t nn = 1ull << log_n, maxmem = BK_MEM_MAX + (16u << 20);
	uint32_t rr = (uint32_t)r, pp = (uint32_t)p;
	OSSL_PARAM prm[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass, pass_len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, BK_SALT),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &nn),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &rr),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &pp),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
		OSSL_PARAM_construct_end(),
	};
	int ok = c && EVP_KDF_derive(c, out, 64, prm) == 1;

	EVP_KDF_CTX_free(c);
	EVP_KDF_free(kdf);
	return ok ? 0 : skp_err_set(err, -ENOMEM, "backup: scrypt failed (out of memory?)");
}

static int check_value(const unsigned char *ck, unsigned char *out)
{
	unsigned char mac[32];
	unsigned int ml = 0;

	if (!HMAC(EVP_sha256(), ck, 32, (const unsigned char *)BK_CHECK_TEXT, strlen(BK_CHECK_TEXT), mac, &ml))
		return -1;
	memcpy(out, mac, BK_CHECK);
	return 0;
}

int skp_native_backup_encode(const char *plain, size_t len, const char *pass, size_t pass_len, int log_n,
			     unsigned char **out, size_t *out_len, struct skp_err *err)
{
	unsigned char *k = NULL, *o = NULL;
	size_t total = BK_AAD + len + BK_TAG;
	int r;

	if (pass_len < SKP_NATIVE_PASS_MIN || pass_len > SKP_NATIVE_PASS_MAX)
		return skp_err_set(err, -EINVAL, "backup: the passphrase must have %d to %d bytes", SKP_NATIVE_PASS_MIN,
				   SKP_NATIVE_PASS_MAX);
	if (log_n < BK_LOGN_MIN || log_n > BK_LOGN_MAX || len > SKP_SEALED_DATA_MAX)
		return skp_err_set(err, -EINVAL, "backup: bad scrypt cost or too much data");
	k = skp_secmem_alloc(64);
	o = malloc(total);
	if (!k || !o) {
		r = skp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(o, BK_MAGIC, BK_MAGIC_LEN);
	o[8] = BK_KDF_SCRYPT;
	o[9] = (unsigned char)log_n;
	o[10] = 8;
	o[11] = 1;
	if (RAND_bytes(o + 12, BK_SALT) != 1 || RAND_bytes(o + 12 + BK_SALT + BK_CHECK, BK_NONCE) != 1) {
		r = skp_err_set(err, -EIO, "no random bytes");
		goto out;
	}
	skp_put_be32(o + BK_AAD - 4, (uint32_t)len);
	r = derive(pass, pass_len, o + 12, log_n, 8, 1, k, err);
	if (r < 0)
		goto out;
	if (check_value(k + 32, o + 12 + BK_SALT) < 0 ||
	    !skp_aes256_gcm(1, k, o + 12 + BK_SALT + BK_CHECK, o, BK_AAD, (const unsigned char *)plain, len, o + BK_AAD,
			   o + BK_AAD + len)) {
		r = skp_err_set(err, -EIO, "backup: encryption failed");
		goto out;
	}
	*out = o;
	*out_len = total;
	o = NULL;
out:
	skp_secmem_free(k, 64);
	free(o);
	return r;
}

int skp_native_backup_decode(const unsigned char *in, size_t len, const char *pass, size_t pass_len,
			     char **plain, size_t *plain_len, struct skp_err *err)
{
	unsigned char *k = NULL, check[BK_CHECK], tag[BK_TAG];
	char *p = NULL;
	size_t ct_len;
	int r, log_n, rr, pp;

	if (len < BK_AAD || memcmp(in, BK_MAGIC, BK_MAGIC_LEN)) {
		if (len >= 7 && !memcmp(in, BK_MAGIC, 7))
			return skp_err_set(err, -EBADMSG, "backup: format version %d, this skp reads version 1",
					   len > 7 ? in[7] : 0);
		return skp_err_set(err, -EBADMSG, "not an skp native provider backup (or truncated)");
	}
	log_n = in[9];
	rr = in[10];
	pp = in[11];
	if (in[8] != BK_KDF_SCRYPT || log_n < BK_LOGN_MIN || log_n > BK_LOGN_MAX || rr < 1 || rr > 32 || pp < 1 ||
	    pp > 16 || 128ull * (uint64_t)rr * (1ull << log_n) > BK_MEM_MAX)
		return skp_err_set(err, -EBADMSG, "backup: unknown or out-of-bounds key derivation (damaged file?)");
	ct_len = skp_get_be32(in + BK_AAD - 4);
	if (ct_len > SKP_SEALED_DATA_MAX || len - BK_AAD != ct_len + BK_TAG)
		return skp_err_set(err, -EBADMSG, "backup truncated or of a wrong length (%zu bytes, %zu expected)",
				   len, ct_len <= SKP_SEALED_DATA_MAX ? BK_AAD + ct_len + BK_TAG : 0);
	if (pass_len < 1 || pass_len > SKP_NATIVE_PASS_MAX)
		return skp_err_set(err, -EKEYREJECTED, "backup: wrong passphrase");
	k = skp_secmem_alloc(64);
	p = skp_secmem_alloc(ct_len + 1);
	if (!k || !p) {
		r = skp_err_set(err, -ENOMEM, "out of locked memory");
		goto out;
	}
	r = derive(pass, pass_len, in + 12, log_n, rr, pp, k, err);
	if (r < 0)
		goto out;
	if (check_value(k + 32, check) < 0 || CRYPTO_memcmp(check, in + 12 + BK_SALT, BK_CHECK)) {
		r = skp_err_set(err, -EKEYREJECTED, "backup: wrong passphrase (or the file's header is damaged)");
		goto out;
	}
	memcpy(tag, in + BK_AAD + ct_len, BK_TAG);
	if (!skp_aes256_gcm(0, k, in + 12 + BK_SALT + BK_CHECK, in, BK_AAD, in + BK_AAD, ct_len, (unsigned char *)p, tag)) {
		skp_wipe(p, ct_len);
		r = skp_err_set(err, -EBADMSG, "backup does not authenticate: the file is changed or damaged");
		goto out;
	}
	p[ct_len] = '\0';
	*plain = p;
	*plain_len = ct_len;
	p = NULL;
out:
	skp_secmem_free(k, 64);
	skp_secmem_free(p, ct_len + 1);
	return r;
}

int skp_native_backup(struct skp_native *n, const char *pass, size_t pass_len, unsigned char **out,
		      size_t *out_len, struct skp_err *err)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	int r = skp_native_load(n, err);

	if (r < 0)
		return r;
	r = set_format(&n->set, n->name, &text, &len, &cap, err);
	if (r < 0)
		return r;
	r = skp_native_backup_encode(text, len, pass, pass_len, SKP_NATIVE_SCRYPT_LOGN, out, out_len, err);
	skp_secmem_free(text, cap);
	return r;
}

struct restore_ctx {
	struct kset from;
	size_t added, present;
};

static int do_restore(struct kset *s, void *ctx, struct skp_err *err)
{
	struct restore_ctx *c = ctx;

	c->added = c->present = 0;
	/* Checked whole before anything is added: all or nothing. */
	for (size_t i = 0; i < c->from.n; i++) {
		struct nkek *k = set_find(s, c->from.k[i].uid);

		if (k && CRYPTO_memcmp(k->key, c->from.k[i].key, SKP_KEK_LEN))
			return skp_err_set(err, -EEXIST, "KEK %s is in the store with other key bytes: restore "
					   "refused, nothing changed", k->uid);
	}
	for (size_t i = 0; i < c->from.n; i++) {
		const struct nkek *b = &c->from.k[i];
		struct nkek *k = set_find(s, b->uid);
		int r;

		if (k) {
			if (b->state > k->state)
				k->state = b->state;	/* a retirement is not undone */
			c->present++;
			continue;
		}
		r = set_add(s, b->uid, b->name, b->state, b->key, err);
		if (r < 0)
			return r;
		c->added++;
	}
	return 0;
}

int skp_native_restore(struct skp_native *n, const unsigned char *in, size_t len, const char *pass,
		       size_t pass_len, size_t *added, size_t *present, struct skp_err *err)
{
	struct restore_ctx c;
	char name[SKP_PROVIDER_MAX], *text = NULL;
	size_t tl = 0;
	int r;

	memset(&c, 0, sizeof(c));
	r = skp_native_backup_decode(in, len, pass, pass_len, &text, &tl, err);
	if (r < 0)
		return r;
	r = set_parse(text, tl, "backup", name, sizeof(name), &c.from, err);
	skp_secmem_free(text, tl + 1);
	if (r < 0)
		return r;
	if (strcmp(name, n->name)) {
		set_free(&c.from);
		/* Headers name their provider: its KEKs must come back under the same name. */
		return skp_err_set(err, -EINVAL, "the backup is of provider \"%s\", not \"%s\" (devices name their "
				   "provider: configure a native provider \"%s\" and restore into it)", name, n->name,
				   name);
	}
	r = change(n, do_restore, &c, err);
	set_free(&c.from);
	if (r < 0)
		return skp_err_wrap(err, "restore into native provider \"%s\"", n->name);
	*added = c.added;
	*present = c.present;
	return 0;
}
