// SPDX-License-Identifier: GPL-2.0
/*
 * TPM-resident KMIP client keys through the tpm2 OpenSSL provider (see tpmkey.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/store.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "io.h"
#include "osslerr.h"
#include "secmem.h"
#include "tpm.h"
#include "tpmkey.h"

#define PERSISTENT_FIRST	0x81000000u
#define PERSISTENT_LAST		0x81FFFFFFu

struct skp_tpmkey {
	OSSL_LIB_CTX *lc;
	EVP_PKEY *pkey;
};

int skp_tpmkey_is(const char *spec)
{
	return !strncmp(spec, SKP_TPMKEY_PREFIX, strlen(SKP_TPMKEY_PREFIX));
}

/* "handle:0x81000101" into *h: 1; another form: 0; a bad handle: -EINVAL. */
static int parse_handle(const char *s, unsigned int *h)
{
	unsigned long v;
	char *end;

	if (strncmp(s, "handle:", 7))
		return 0;
	s += 7;
	if (strncmp(s, "0x", 2) && strncmp(s, "0X", 2))
		return -EINVAL;
	errno = 0;
	v = strtoul(s + 2, &end, 16);
	if (errno || end == s + 2 || *end || v < PERSISTENT_FIRST || v > PERSISTENT_LAST)
		return -EINVAL;
	*h = (unsigned int)v;
	return 1;
}

int skp_tpmkey_check(const char *spec, struct skp_err *err)
{
	const char *s = spec + strlen(SKP_TPMKEY_PREFIX);
	unsigned int h;
	int r, fd;

	if (!skp_tpmkey_is(spec))
		return skp_err_set(err, -EINVAL, "not a TPM key: %s", spec);
	r = parse_handle(s, &h);
	if (r < 0)
		return skp_err_set(err, -EINVAL, "bad TPM key '%s': a persistent handle is tpm:handle:0x81000000 "
				   "to 0x81FFFFFF", spec);
	if (r)
		return 0;
	if (s[0] != '/')
		return skp_err_set(err, -EINVAL, "bad TPM key '%s': expected tpm:/PATH (a TSS2 key file, "
				   "skpctl tpm-key create) or tpm:handle:0x81......", spec);
	if (strlen(s) >= 256)
		return skp_err_set(err, -EINVAL, "bad TPM key '%s': path too long", spec);
	/* The file plus access to the TPM is the host's identity: root's alone, as a PEM key. */
	fd = skp_open_file(s, SKP_FILE_SECRET, err);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

/*
 * tpm2-openssl reads its TCTI from TPM2OPENSSL_TCTI only: the `tcti` parameter of an
 * OpenSSL config section never reaches it (1.1.1 asks for it into a NULL pointer).  The
 * variable is set while the provider starts, under this lock (every TPM key of the process
 * loads here), and left set: a later change replaces it in place.
 */
static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * The tpm2 provider, wrapped.  Left as it is, it would not do in one library context
 * with the default provider, and TLS needs both (the KMS's certificates and signatures
 * are checked by the default provider):
 * - OpenSSL 3.0 picks a signature implementation before it looks at the key: for a TPM
 *   key it may take the default provider's and export the key to it; the tpm2 provider
 *   exports the public half (and says it succeeded), so the signature fails for want of
 *   the private key.  The wrapper refuses an export that asks for the private key, and
 *   OpenSSL then uses the key's own provider's signature.
 * - digests, ciphers and random numbers are left out: the TPM is slow at them and the
 *   default provider must do them (as it does in the rest of skp).
 * It is registered under the name "tpm2" in each context (the module, dlopened once,
 * starts a new instance, with its own TPM connection, for each).
 */
#define WRAP_MAX_KM	8
#define WRAP_MAX_FN	64

typedef int (provider_init_fn)(const OSSL_CORE_HANDLE *, const OSSL_DISPATCH *, const OSSL_DISPATCH **,
			       void **);

static struct {
	int ok;
	char why[640];
	provider_init_fn *init;
	OSSL_FUNC_provider_query_operation_fn *query;
	OSSL_FUNC_provider_unquery_operation_fn *unquery;
	OSSL_DISPATCH out[WRAP_MAX_FN];		/* the provider's functions, query_operation ours */
	OSSL_ALGORITHM km[WRAP_MAX_KM + 1];	/* its key managers, export wrapped */
	OSSL_DISPATCH km_fn[WRAP_MAX_KM][WRAP_MAX_FN];
	OSSL_FUNC_keymgmt_export_fn *export[WRAP_MAX_KM];
	pthread_mutex_t lock;
	int out_done, km_done;
} wrap = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int export_public(int i, void *kd, int sel, OSSL_CALLBACK *cb, void *arg)
{
	if (sel & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)
		return 0;	/* it never leaves the TPM: use the tpm2 provider's own operations */
	return wrap.export[i](kd, sel, cb, arg);
}

#define EXPORT_WRAP(i) \
	static int export_##i(void *kd, int sel, OSSL_CALLBACK *cb, void *arg) \
	{ return export_public(i, kd, sel, cb, arg); }
EXPORT_WRAP(0) EXPORT_WRAP(1) EXPORT_WRAP(2) EXPORT_WRAP(3)
EXPORT_WRAP(4) EXPORT_WRAP(5) EXPORT_WRAP(6) EXPORT_WRAP(7)
static OSSL_FUNC_keymgmt_export_fn *const export_wraps[WRAP_MAX_KM] = {
	export_0, export_1, export_2, export_3, export_4, export_5, export_6, export_7
};

/* The key managers with export wrapped, built on the first query (the same every time). */
static const OSSL_ALGORITHM *wrap_keymgmt(const OSSL_ALGORITHM *a)
{
	size_t i, j;

	pthread_mutex_lock(&wrap.lock);
	for (i = 0; !wrap.km_done && a && a[i].algorithm_names; i++) {
		if (i == WRAP_MAX_KM)
			break;
		wrap.km[i] = a[i];
		for (j = 0; a[i].implementation[j].function_id && j < WRAP_MAX_FN - 1; j++) {
			const OSSL_DISPATCH *d = &a[i].implementation[j];

			wrap.km_fn[i][j] = *d;
			if (d->function_id == OSSL_FUNC_KEYMGMT_EXPORT) {
				wrap.export[i] = OSSL_FUNC_keymgmt_export(d);
				wrap.km_fn[i][j].function = (void (*)(void))export_wraps[i];
			}
		}
		wrap.km_fn[i][j] = (OSSL_DISPATCH){ 0, NULL };
		wrap.km[i].implementation = wrap.km_fn[i];
	}
	wrap.km_done = 1;
	pthread_mutex_unlock(&wrap.lock);
	return wrap.km;
}

static const OSSL_ALGORITHM *wrap_query(void *provctx, int op, int *no_cache)
{
	switch (op) {
	case OSSL_OP_DIGEST:
	case OSSL_OP_CIPHER:
	case OSSL_OP_RAND:
		*no_cache = 0;
		return NULL;
	case OSSL_OP_KEYMGMT: {
		/* its list is allocated per query: ours (static) replaces it */
		const OSSL_ALGORITHM *a = wrap.query(provctx, op, no_cache), *r = wrap_keymgmt(a);

		if (a && wrap.unquery)
			wrap.unquery(provctx, op, a);
		*no_cache = 0;
		return r;
	}
	default:
		return wrap.query(provctx, op, no_cache);
	}
}

static void wrap_unquery(void *provctx, int op, const OSSL_ALGORITHM *a)
{
	if (op != OSSL_OP_KEYMGMT && wrap.unquery)
		wrap.unquery(provctx, op, a);
}

static int wrap_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
		     void **provctx)
{
	const OSSL_DISPATCH *o;
	size_t i;

	if (!wrap.init(handle, in, &o, provctx))
		return 0;
	pthread_mutex_lock(&wrap.lock);
	/* every instance answers the module's one static table: copied once */
	for (i = 0; !wrap.out_done && o[i].function_id && i < WRAP_MAX_FN - 1; i++) {
		wrap.out[i] = o[i];
		if (o[i].function_id == OSSL_FUNC_PROVIDER_QUERY_OPERATION) {
			wrap.query = OSSL_FUNC_provider_query_operation(&o[i]);
			wrap.out[i].function = (void (*)(void))wrap_query;
		} else if (o[i].function_id == OSSL_FUNC_PROVIDER_UNQUERY_OPERATION) {
			wrap.unquery = OSSL_FUNC_provider_unquery_operation(&o[i]);
			wrap.out[i].function = (void (*)(void))wrap_unquery;
		}
	}
	if (!wrap.out_done)
		wrap.out[i] = (OSSL_DISPATCH){ 0, NULL };
	wrap.out_done = 1;
	pthread_mutex_unlock(&wrap.lock);
	*out = wrap.out;
	return 1;
}

/* dlopens the module (under wrap.lock; once loaded it stays: live contexts run its code). */
static void wrap_load(void)
{
	const char *dir = getenv("OPENSSL_MODULES");
	char path[256];
	void *h;

	if (!dir)
		dir = OPENSSL_info(OPENSSL_INFO_MODULES_DIR);
	snprintf(path, sizeof(path), "%s/tpm2.so", dir ? dir : "");
	if (access(path, R_OK) < 0) {
		snprintf(wrap.why, sizeof(wrap.why), "the tpm2 OpenSSL provider is not installed (%s: %s; Debian "
			 "package tpm2-openssl)", path, strerror(errno));
		return;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	wrap.init = h ? (provider_init_fn *)dlsym(h, "OSSL_provider_init") : NULL;
	if (!wrap.init) {
		snprintf(wrap.why, sizeof(wrap.why), "cannot load the tpm2 OpenSSL provider %s: %.100s", path, dlerror());
		return;
	}
	wrap.ok = 1;
}

/* A library context with the default provider and the tpm2 provider on tcti. */
static int lc_new(const char *tcti, OSSL_LIB_CTX **out, struct skp_err *err)
{
	OSSL_PROVIDER *tp;
	OSSL_LIB_CTX *lc;
	char e[200];
	int r;

	if (!tcti || !*tcti)
		tcti = SKP_TPM_DEFAULT_TCTI;
	/* Tried again while it fails: a reload after tpm2-openssl was installed finds it. */
	pthread_mutex_lock(&wrap.lock);
	if (!wrap.ok)
		wrap_load();
	r = wrap.ok ? 0 : skp_err_set(err, -ENOPKG, "TPM key: %s", wrap.why);
	pthread_mutex_unlock(&wrap.lock);
	if (r < 0)
		return r;
	/* Say "no TPM" ourselves rather than let the TSS log its complaint (as tpm.c). */
	if (!strncmp(tcti, "device:", 7) && access(tcti + 7, R_OK | W_OK) < 0)
		return skp_err_set(err, -ENODEV, "TPM key: no TPM: %s: %s", tcti + 7, strerror(errno));
	lc = OSSL_LIB_CTX_new();
	if (!lc)
		return skp_err_set(err, -ENOMEM, "TPM key: out of memory");
	ERR_clear_error();
	if (!OSSL_PROVIDER_load(lc, "default")) {
		skp_ossl_errstr(e, sizeof(e));
		OSSL_LIB_CTX_free(lc);
		return skp_err_set(err, -ENOPKG, "TPM key: cannot load OpenSSL's default provider: %s", e);
	}
	if (!OSSL_PROVIDER_add_builtin(lc, "tpm2", wrap_init)) {
		OSSL_LIB_CTX_free(lc);
		return skp_err_set(err, -ENOMEM, "TPM key: out of memory");
	}
	pthread_mutex_lock(&env_lock);
	setenv("TSS2_LOG", "all+NONE", 0);	/* the library never prints (an admin's own is kept) */
	setenv("TPM2OPENSSL_TCTI", tcti, 1);
	tp = OSSL_PROVIDER_load(lc, "tpm2");
	pthread_mutex_unlock(&env_lock);
	if (!tp) {
		skp_ossl_errstr(e, sizeof(e));
		OSSL_LIB_CTX_free(lc);
		return skp_err_set(err, -ENODEV, "TPM key: the tpm2 provider cannot use the TPM at %s: %s", tcti, e);
	}
	*out = lc;
	return 0;
}

static int from_tpm2(const EVP_PKEY *k)
{
	const OSSL_PROVIDER *p = EVP_PKEY_get0_provider(k);

	return p && !strcmp(OSSL_PROVIDER_get0_name(p), "tpm2");
}

static int load_handle(struct skp_tpmkey *k, const char *spec, unsigned int h, struct skp_err *err)
{
	OSSL_STORE_CTX *st;
	OSSL_STORE_INFO *info;
	char uri[32], e[200];

	snprintf(uri, sizeof(uri), "handle:0x%08x", h);
	st = OSSL_STORE_open_ex(uri, k->lc, "provider=tpm2", NULL, NULL, NULL, NULL, NULL);
	while (st && !k->pkey && !OSSL_STORE_eof(st) && (info = OSSL_STORE_load(st))) {
		if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
			k->pkey = OSSL_STORE_INFO_get1_PKEY(info);
		OSSL_STORE_INFO_free(info);
	}
	if (st)
		OSSL_STORE_close(st);
	if (k->pkey && from_tpm2(k->pkey)) {
		ERR_clear_error();
		return 0;
	}
	skp_ossl_errstr(e, sizeof(e));
	return skp_err_set(err, -ENOENT, "TPM key %s: no usable key at persistent handle 0x%08x: %s", spec, h, e);
}

static int load_file(struct skp_tpmkey *k, const char *spec, const char *path, struct skp_err *err)
{
	OSSL_DECODER_CTX *dc;
	char *text = NULL, e[200];
	size_t size;
	BIO *bio;
	int r;

	/* Read once through skp_read_file, so its owner and mode checks cover what is parsed. */
	r = skp_read_file(path, SKP_FILE_SECRET, 1 << 16, &text, &size, err);
	if (r < 0)
		return skp_err_wrap(err, "TPM key");
	bio = BIO_new_mem_buf(text, (int)(size - 1));
	dc = OSSL_DECODER_CTX_new_for_pkey(&k->pkey, "PEM", NULL, NULL, OSSL_KEYMGMT_SELECT_KEYPAIR, k->lc, NULL);
	r = bio && dc && OSSL_DECODER_from_bio(dc, bio) == 1 ? 0 : -EINVAL;
	OSSL_DECODER_CTX_free(dc);
	BIO_free(bio);
	skp_secmem_free(text, size);
	if (r == 0 && from_tpm2(k->pkey)) {
		ERR_clear_error();
		return 0;
	}
	if (r == 0) {
		/* A PEM private key where a TPM key was meant: refused, it would be on disk. */
		return skp_err_set(err, -EINVAL, "TPM key %s: the file holds a private key in clear, not a "
				   "TPM key (TSS2 PRIVATE KEY)", spec);
	}
	skp_ossl_errstr(e, sizeof(e));
	return skp_err_set(err, -EINVAL, "TPM key %s: cannot load it with this TPM (not a TSS2 PRIVATE KEY, "
			   "or another TPM's): %s", spec, e);
}

int skp_tpmkey_load(const char *spec, const char *tcti, struct skp_tpmkey **out, struct skp_err *err)
{
	struct skp_tpmkey *k;
	unsigned int h = 0;
	int r;

	r = skp_tpmkey_check(spec, err);
	if (r < 0)
		return r;
	k = calloc(1, sizeof(*k));
	if (!k)
		return skp_err_set(err, -ENOMEM, "TPM key: out of memory");
	r = lc_new(tcti, &k->lc, err);
	if (r == 0) {
		const char *s = spec + strlen(SKP_TPMKEY_PREFIX);

		r = parse_handle(s, &h) > 0 ? load_handle(k, spec, h, err) : load_file(k, spec, s, err);
	}
	if (r < 0) {
		skp_tpmkey_free(k);
		return r;
	}
	*out = k;
	return 0;
}

EVP_PKEY *skp_tpmkey_pkey(const struct skp_tpmkey *k)
{
	return k->pkey;
}

OSSL_LIB_CTX *skp_tpmkey_libctx(const struct skp_tpmkey *k)
{
	return k->lc;
}

void skp_tpmkey_free(struct skp_tpmkey *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);		/* flushes the key from the TPM */
	OSSL_LIB_CTX_free(k->lc);	/* unloads the provider: its TPM connection closes */
	free(k);
}

/* Writes all of buf to a new file (never over an existing one). */
static int write_new(const char *path, const void *buf, size_t len, mode_t mode, const char *what,
		     struct skp_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t done = 0;

	if (fd < 0)
		return skp_err_set(err, -errno, "cannot create %s %s: %s", what, path, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			close(fd);
			unlink(path);
			return skp_err_set(err, -e, "cannot write %s %s: %s", what, path, strerror(e));
		}
		done += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = errno;

		unlink(path);
		return skp_err_set(err, -e, "cannot write %s %s: %s", what, path, strerror(e));
	}
	return 0;
}

/* The PEM text of a BIO into a new file. */
static int bio_to_file(BIO *bio, const char *path, mode_t mode, const char *what, struct skp_err *err)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);

	if (n <= 0)
		return skp_err_set(err, -EIO, "cannot encode %s", what);
	return write_new(path, data, (size_t)n, mode, what, err);
}

int skp_tpmkey_create(const char *path, const char *tcti, enum skp_tpmkey_type type, struct skp_tpmkey **out,
		      struct skp_err *err)
{
	struct skp_tpmkey *k;
	OSSL_ENCODER_CTX *ec = NULL;
	EVP_PKEY_CTX *pc = NULL;
	BIO *bio = NULL;
	char e[200];
	int r;

	if (path[0] != '/')
		return skp_err_set(err, -EINVAL, "the key file must be an absolute path: %s", path);
	if (access(path, F_OK) == 0)
		return skp_err_set(err, -EEXIST, "%s exists: refusing to replace a key", path);
	k = calloc(1, sizeof(*k));
	if (!k)
		return skp_err_set(err, -ENOMEM, "TPM key: out of memory");
	r = lc_new(tcti, &k->lc, err);
	if (r < 0)
		goto out;
	r = -EIO;
	ERR_clear_error();
	pc = EVP_PKEY_CTX_new_from_name(k->lc, type == SKP_TPMKEY_RSA ? "RSA" : "EC", "provider=tpm2");
	if (!pc || EVP_PKEY_keygen_init(pc) <= 0 ||
	    (type == SKP_TPMKEY_RSA ? EVP_PKEY_CTX_set_rsa_keygen_bits(pc, 2048) :
	     EVP_PKEY_CTX_set_group_name(pc, "P-256")) <= 0 ||
	    EVP_PKEY_generate(pc, &k->pkey) <= 0) {
		skp_ossl_errstr(e, sizeof(e));
		r = skp_err_set(err, -EIO, "TPM key: the TPM cannot generate a %s key: %s",
				type == SKP_TPMKEY_RSA ? "RSA-2048" : "EC P-256", e);
		goto out;
	}
	/* The TSS2 form: the private part as the TPM wrapped it, nothing usable elsewhere. */
	ec = OSSL_ENCODER_CTX_new_for_pkey(k->pkey, OSSL_KEYMGMT_SELECT_KEYPAIR, "PEM", "PrivateKeyInfo",
					   "provider=tpm2");
	bio = BIO_new(BIO_s_mem());
	if (!ec || !bio || OSSL_ENCODER_to_bio(ec, bio) != 1) {
		skp_ossl_errstr(e, sizeof(e));
		r = skp_err_set(err, -EIO, "TPM key: cannot encode the key as a TSS2 key file: %s", e);
		goto out;
	}
	r = bio_to_file(bio, path, 0600, "key file", err);
out:
	BIO_free(bio);
	OSSL_ENCODER_CTX_free(ec);
	EVP_PKEY_CTX_free(pc);
	if (r < 0) {
		skp_tpmkey_free(k);
		return r;
	}
	*out = k;
	return 0;
}

/* "CN=host1,O=Example" into name: 0, or -EINVAL. */
static int parse_subject(const char *subject, X509_NAME *name, struct skp_err *err)
{
	char *copy = strdup(subject), *part, *save = NULL;
	int r = 0, n = 0;

	if (!copy)
		return skp_err_set(err, -ENOMEM, "out of memory");
	for (part = strtok_r(copy, ",", &save); part && !r; part = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(part, '=');

		while (*part == ' ')
			part++;
		if (!eq || eq == part || !eq[1]) {
			r = -EINVAL;
			break;
		}
		*eq = 0;
		if (X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0) != 1)
			r = -EINVAL;
		n++;
	}
	free(copy);
	ERR_clear_error();
	if (r || !n)
		return skp_err_set(err, -EINVAL, "bad subject '%s': expected NAME=VALUE[,NAME=VALUE...], "
				   "e.g. CN=host1,O=Example", subject);
	return 0;
}

int skp_tpmkey_csr(const struct skp_tpmkey *k, const char *subject, const char *csr_path, struct skp_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext;
	EVP_MD_CTX *md = NULL;
	X509_REQ *req;
	BIO *bio = NULL;
	char e[200];
	int r;

	if (access(csr_path, F_OK) == 0)
		return skp_err_set(err, -EEXIST, "%s exists: refusing to replace it", csr_path);
	req = X509_REQ_new_ex(k->lc, NULL);
	if (!req)
		return skp_err_set(err, -ENOMEM, "out of memory");
	r = parse_subject(subject, X509_REQ_get_subject_name(req), err);
	if (r < 0)
		goto out;
	r = -EIO;
	exts = sk_X509_EXTENSION_new_null();
	if (!exts || X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_pubkey(req, k->pkey) != 1)
		goto fail;
	/* What the KMS checks of a client certificate: TLS client authentication. */
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "clientAuth");
	if (!ext || !sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		goto fail;
	}
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,digitalSignature");
	if (!ext || !sk_X509_EXTENSION_push(exts, ext)) {
		X509_EXTENSION_free(ext);
		goto fail;
	}
	if (X509_REQ_add_extensions(req, exts) != 1)
		goto fail;
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit_ex(md, NULL, "SHA256", k->lc, SKP_TPMKEY_PROPQ, k->pkey, NULL) != 1 ||
	    X509_REQ_sign_ctx(req, md) <= 0)
		goto fail;
	bio = BIO_new(BIO_s_mem());
	if (!bio || PEM_write_bio_X509_REQ(bio, req) != 1)
		goto fail;
	r = bio_to_file(bio, csr_path, 0644, "certificate request", err);
	goto out;
fail:
	skp_ossl_errstr(e, sizeof(e));
	r = skp_err_set(err, -EIO, "cannot make the certificate request: %s", e);
out:
	BIO_free(bio);
	EVP_MD_CTX_free(md);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return r;
}
