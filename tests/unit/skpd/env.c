// SPDX-License-Identifier: GPL-2.0
/* An skpd over the fakes, in a temporary directory (env.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "env.h"
#include "fake-kms.h"
#include "io.h"
#include "proto.h"
#include "rekey.h"
#include "sbuf.h"
#include "ops.h"
#include "skpd.h"
#include "wrap.h"

static int put_file(const char *dir, const char *name, mode_t mode, const char *text)
{
	char p[PATH_MAX + 64];
	int fd, r;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = skp_pwrite_full(fd, text, strlen(text), 0);
	close(fd);
	return r;
}


/* O_DIRECT must work where the devices live: skpd's rekey opens them with it. */
static int direct_ok(const char *dir)
{
	char p[PATH_MAX + 16];
	int fd;

	snprintf(p, sizeof(p), "%s/direct", dir);
	fd = open(p, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	unlink(p);
	return fd >= 0;
}

int env_init(struct env *e, const char *const *providers, size_t n, struct skp_err *err)
{
	char exe[PATH_MAX] = "", base[PATH_MAX], conf[8192];
	const char *parent = getenv("SKP_UNIT_TMPDIR");
	ssize_t l;
	size_t o;
	int r;

	memset(e, 0, sizeof(*e));
	if (!parent) {
		l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (l < 0)
			return skp_err_set(err, -errno, "/proc/self/exe: %s", strerror(errno));
		exe[l] = '\0';
		snprintf(base, sizeof(base), "%s/unit-tmp", dirname(exe));
		mkdir(base, 0700);
		parent = base;
	}
	if ((size_t)snprintf(e->dir, sizeof(e->dir), "%s/skpd-XXXXXX", parent) >= sizeof(e->dir) / 2)
		return skp_err_set(err, -ENAMETOOLONG, "%s: path too long", parent);
	if (!mkdtemp(e->dir))
		return skp_err_set(err, -errno, "mkdtemp %s: %s", e->dir, strerror(errno));
	if (!direct_ok(e->dir))
		return skp_err_set(err, -EINVAL, "%s: no O_DIRECT on this filesystem (tmpfs?): set SKP_UNIT_TMPDIR",
				   e->dir);
	snprintf(e->conf, sizeof(e->conf), "%s/skpd.conf", e->dir);
	snprintf(e->skptab, sizeof(e->skptab), "%s/skptab", e->dir);
	/* The provider files are opened and checked by the real config code, never used. */
	r = put_file(e->dir, "ca.pem", 0644, "fake CA\n");
	if (!r)
		r = put_file(e->dir, "cert.pem", 0644, "fake certificate\n");
	if (!r)
		r = put_file(e->dir, "key.pem", 0600, "fake key\n");
	if (r)
		return skp_err_set(err, r, "%s: %s", e->dir, strerror(-r));
	o = (size_t)snprintf(conf, sizeof(conf), "[skpd]\nskptab = %s\ntarget = skp\n", e->skptab);
	for (size_t i = 0; i < n && o < sizeof(conf); i++)
		o += (size_t)snprintf(conf + o, sizeof(conf) - o,
				      "\n[provider \"%s\"]\nserver = 127.0.0.1:%zu\nserver = 127.0.0.2:%zu\n"
				      "ca = %s/ca.pem\ncert = %s/cert.pem\nkey = %s/key.pem\n%s",
				      providers[i], 5696 + i, 5696 + i, e->dir, e->dir, e->dir,
				      i == 0 ? "default = true\n" : "");
	r = put_file(e->dir, "skpd.conf", 0600, conf);
	return r ? skp_err_set(err, r, "%s: %s", e->conf, strerror(-r)) : 0;
}

int env_start(struct env *e, struct skp_err *err)
{
	struct skpd *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return skp_err_set(err, -ENOMEM, "out of memory");
	if ((size_t)snprintf(d->config_path, sizeof(d->config_path), "%s", e->conf) >= sizeof(d->config_path))
		r = skp_err_set(err, -ENAMETOOLONG, "%s: path too long", e->conf);
	else
		r = skp_config_load(d->config_path, &d->cfg, err);
	if (r == 0)
		r = skpd_providers_setup(d, err);
	if (r < 0) {
		skpd_providers_free(d);
		skp_config_free(&d->cfg);
		free(d);
		return r;
	}
	d->started = time(NULL);
	d->last_health = d->last_remediation = d->started;
	e->d = d;
	return 0;
}

void env_stop(struct env *e)
{
	struct skpd *d = e->d;

	if (!d)
		return;
	for (size_t i = 0; i < d->n_devs; i++)
		rekey_free(&d->devs[i]);
	free(d->devs);
	kek_cache_free(d);
	skpd_providers_free(d);
	skp_config_free(&d->cfg);
	free(d);
	e->d = NULL;
}

void env_cleanup(struct env *e)
{
	DIR *dir;
	struct dirent *de;

	env_stop(e);
	if (!e->dir[0] || getenv("SKP_UNIT_KEEP"))
		return;
	dir = opendir(e->dir);
	while (dir && (de = readdir(dir))) {
		char p[PATH_MAX + 300];

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(e->dir);
}

int env_dev(struct env *e, const char *name, unsigned int data_mib, char *path, size_t size)
{
	int fd, r = 0;

	snprintf(path, size, "%s/%s.img", e->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)SKP_DATA_OFFSET + ((off_t)data_mib << 20)))
		r = -errno;
	close(fd);
	return r;
}

int env_format(struct env *e, const char *dev, const char *provider, uint32_t sector_size,
	       struct skp_err *err)
{
	struct skp_req q;
	struct sbuf out = {0};
	int r;

	skp_req_init(&q, SKP_CMD_FORMAT);
	snprintf(q.dev, sizeof(q.dev), "%s", dev);
	if (provider)
		snprintf(q.provider, sizeof(q.provider), "%s", provider);
	q.sector_size = sector_size;
	r = op_format(e->d, &q, &out, err);
	sb_free(&out);
	return r;
}

int env_dek(const char *dev, int slot, unsigned char dek[SKP_DEK_LEN], struct skp_header *h)
{
	struct skp_header hh;
	struct fake_kms_key *k;
	size_t len = 0;
	int r;

	if (!h)
		h = &hh;
	r = skp_header_read_dev(dev, O_RDONLY, NULL, h, NULL);
	if (r < 0)
		return r;
	k = fake_kms_key(fake_kms(h->slot[slot].provider), h->slot[slot].kek_uid);
	if (!k)
		return -ENOENT;
	r = skp_unwrap(k->key, sizeof(k->key), h->slot[slot].wrapped, h->slot[slot].wrapped_len, dek,
		       SKP_DEK_LEN, &len, NULL);
	if (r == 0 && len != SKP_DEK_LEN)
		r = -EBADMSG;
	return r ? r : skp_header_verify(h, slot, dek, SKP_DEK_LEN, NULL);
}

int env_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = skp_pread_full(fd, buf, len, off);
	close(fd);
	return r;
}

int env_write(const char *path, uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = skp_pwrite_full(fd, buf, len, off);
	if (!r && fdatasync(fd))
		r = -errno;
	close(fd);
	return r;
}

int env_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), r;

	if (fd < 0)
		return -errno;
	r = skp_pwrite_full(fd, text, strlen(text), 0);
	close(fd);
	return r;
}

int env_hash(const char *path, unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char buf[1 << 16];
	unsigned int n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ok;
	ssize_t l = 0;

	ok = c && fd >= 0 && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (ok && (l = read(fd, buf, sizeof(buf))) > 0)
		ok = EVP_DigestUpdate(c, buf, (size_t)l);
	ok = ok && l == 0 && EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -EIO;
}
