// SPDX-License-Identifier: GPL-2.0
/*
 * key_persistence (vSphere's Key Persistence): the KEKs of open devices are kept in
 * KEKS_DIR/keks (directory 0700, file 0600, root) so the host can open its skptab
 * devices at boot with every KMS node down.  It changes the threat model: whoever takes
 * the host (or its disk) opens its devices without the KMS.  skpd says so at every start.
 * Off: the cache starts empty and any file left by an earlier "on" is removed.
 *
 * File: a first line "skp-keks 1", then "provider uid hex-key" per KEK.  Read and built
 * in locked memory; written to a temporary file, fsynced and renamed, so a crash leaves
 * the old or the new set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "persist.h"
#include "secmem.h"
#include "skpd.h"
#include "wrap.h"

#define PERSIST_MAGIC	"skp-keks 1\n"
#define LINE_MAX_LEN	(SKP_PROVIDER_MAX + SKP_KEK_UID_MAX + 2 * SKP_KEK_LEN + 4)

static unsigned long persisted_hash;	/* of the provider/uid set last written: skip no-op writes */
static int persisted_valid;

static void file_path(struct skpd *d, char *out, size_t size, const char *suffix)
{
	snprintf(out, size, "%s/keks%s", d->cfg.keks_dir, suffix);
}

static int dir_ok(const char *dir)
{
	struct skp_err err = {0};

	if (skp_private_dir(dir, &err) < 0) {
		log_msg(LOG_E, "key_persistence: %s", err.msg);
		return -1;
	}
	return 0;
}

static int unhex(const char *s, unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return s[2 * len] == '\0' ? 0 : -1;
}

void skpd_persist_start(struct skpd *d)
{
	char path[SKP_PATH_MAX + 16];
	unsigned char *key = NULL;
	char *buf = NULL;
	struct stat st;
	size_t loaded = 0, bad = 0;
	FILE *f = NULL;
	int lineno = 0, fd;

	file_path(d, path, sizeof(path), "");
	if (!d->cfg.key_persistence) {
		/* Turned off: keys must not stay on disk. */
		if (unlink(path) == 0)
			log_msg(LOG_W, "key_persistence is off: removed the persisted KEKs in %s", path);
		return;
	}
	log_msg(LOG_W, "key_persistence is ON: the KEKs of open devices are stored on this host in %s; "
		"whoever takes this host or its disk can open its encrypted devices without the KMS, and "
		"revoking a KEK in the KMS no longer stops this host from opening its device "
		"(docs/threat-model.md)", path);
	if (dir_ok(d->cfg.keks_dir) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			log_msg(LOG_E, "key_persistence: %s: %m", path);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		log_msg(LOG_E, "key_persistence: %s must be a regular file of root with mode 0600: not loaded", path);
		close(fd);
		return;
	}
	buf = skp_secmem_alloc(LINE_MAX_LEN + 2);
	key = skp_secmem_alloc(SKP_KEK_LEN);
	f = fdopen(fd, "re");
	if (!buf || !key || !f) {
		log_msg(LOG_E, "key_persistence: out of (locked) memory");
		if (f)
			fclose(f);
		else
			close(fd);
		goto out;
	}
	setvbuf(f, NULL, _IONBF, 0);	/* no stdio copy of key bytes outside secmem */
	while (fgets(buf, LINE_MAX_LEN + 2, f)) {
		char *prov, *uid, *hex, *save = NULL;
		struct skp_err e = {0};

		lineno++;
		if (lineno == 1) {
			if (strcmp(buf, PERSIST_MAGIC)) {
				log_msg(LOG_E, "key_persistence: %s:1: not an skp KEK file: not loaded", path);
				break;
			}
			continue;
		}
		prov = strtok_r(buf, " \n", &save);
		uid = strtok_r(NULL, " \n", &save);
		hex = strtok_r(NULL, " \n", &save);
		if (!prov || !uid || !hex || strtok_r(NULL, " \n", &save) || strlen(prov) >= SKP_PROVIDER_MAX ||
		    strlen(uid) >= SKP_KEK_UID_MAX || unhex(hex, key, SKP_KEK_LEN) < 0) {
			log_msg(LOG_E, "key_persistence: %s:%d: malformed line skipped", path, lineno);
			bad++;
			continue;
		}
		if (kek_cache_put(d, prov, uid, key, &e) < 0)
			log_msg(LOG_E, "key_persistence: %s:%d: %s", path, lineno, e.msg);
		else
			loaded++;
	}
	skp_wipe(buf, LINE_MAX_LEN + 2);
	fclose(f);
	log_msg(LOG_W, "key_persistence: %zu KEK(s) loaded from %s%s", loaded, path, bad ? " (some lines skipped)" : "");
out:
	skp_secmem_free(buf, LINE_MAX_LEN + 2);
	skp_secmem_free(key, SKP_KEK_LEN);
}

/* Rewrites the file when the set of open devices' KEKs changed; cheap otherwise. */
void skpd_persist_sync(struct skpd *d)
{
	char path[SKP_PATH_MAX + 16], tmp[SKP_PATH_MAX + 16];
	unsigned long h = 5381;
	size_t n = 0, cap, len = 0;
	char *out = NULL;
	int fd = -1;

	if (!d->cfg.key_persistence)
		return;
	/* The set: provider and uid of each open device whose KEK is cached. */
	for (size_t i = 0; i < d->n_devs; i++) {
		const char *s;

		if (!kek_cache_get(d, d->devs[i].provider, d->devs[i].kek_uid))
			continue;
		for (s = d->devs[i].provider; *s; s++)
			h = h * 33 + (unsigned char)*s;
		h = h * 33 + '/';
		for (s = d->devs[i].kek_uid; *s; s++)
			h = h * 33 + (unsigned char)*s;
		h = h * 33 + '\n';
		n++;
	}
	h ^= n;
	if (persisted_valid && h == persisted_hash)
		return;
	file_path(d, path, sizeof(path), "");
	file_path(d, tmp, sizeof(tmp), ".tmp");
	if (dir_ok(d->cfg.keks_dir) < 0)
		return;
	cap = sizeof(PERSIST_MAGIC) + n * LINE_MAX_LEN + 1;
	out = skp_secmem_alloc(cap);
	if (!out) {
		log_msg(LOG_E, "key_persistence: no locked memory to write %s", path);
		return;
	}
	len = (size_t)snprintf(out, cap, "%s", PERSIST_MAGIC);
	for (size_t i = 0; i < d->n_devs; i++) {
		const unsigned char *k = kek_cache_get(d, d->devs[i].provider, d->devs[i].kek_uid);
		size_t j;

		if (!k)
			continue;
		/* Devices sharing a KEK (copies) write it once. */
		for (j = 0; j < i; j++)
			if (!strcmp(d->devs[j].provider, d->devs[i].provider) &&
			    !strcmp(d->devs[j].kek_uid, d->devs[i].kek_uid))
				break;
		if (j < i)
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s %s ", d->devs[i].provider, d->devs[i].kek_uid);
		for (j = 0; j < SKP_KEK_LEN; j++)
			len += (size_t)snprintf(out + len, cap - len, "%02x", k[j]);
		len += (size_t)snprintf(out + len, cap - len, "\n");
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && (write(fd, out, len) != (ssize_t)len || fsync(fd) < 0)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		log_msg(LOG_E, "key_persistence: cannot write %s: %m", path);
		unlink(tmp);
	} else {
		persisted_hash = h;
		persisted_valid = 1;
		log_msg(LOG_I, "key_persistence: %zu KEK(s) of open devices written to %s", n, path);
	}
	skp_secmem_free(out, cap);
}
