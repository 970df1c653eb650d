// SPDX-License-Identifier: GPL-2.0
/*
 * key_persistence (vSphere's Key Persistence): the KEKs of open devices are kept in
 * KEKS_DIR (directory 0700, files 0600, root) so the host can open its skptab devices at
 * boot with every KMS node down.  It changes the threat model: whoever takes the host
 * opens its devices without the KMS.  skpd says so at every start.  Modes:
 *   tpm   KEKS_DIR/keks.sealed: the set encrypted under a key this host's TPM seals,
 *         optionally bound to PCRs (lib/sealed.c, lib/tpm.c): a copy of the disk is
 *         useless without this TPM.  No usable TPM: nothing is persisted or loaded.
 *   file  KEKS_DIR/keks in clear (whoever copies the disk gets every KEK).
 *   true  tpm when a TPM is present, else file; off: any file left is removed.
 *
 * The set (the plaintext of both): a first line "skp-keks 1", then "provider uid
 * hex-key" per KEK.  Read and built in locked memory; written to a temporary file,
 * fsynced and renamed, so a crash leaves the old or the new set.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "io.h"
#include "log.h"
#include "persist.h"
#include "sealed.h"
#include "secmem.h"
#include "skpd.h"
#include "tpm.h"
#include "wrap.h"

#define PERSIST_MAGIC	"skp-keks 1\n"
#define LINE_MAX_LEN	(SKP_PROVIDER_MAX + SKP_KEK_UID_MAX + 2 * SKP_KEK_LEN + 4)
#define FILE_MAX	(2u << 20)

static unsigned long persisted_hash;	/* of the provider/uid set last written: skip no-op writes */
static int persisted_valid;
static int mode;			/* enum skp_persist as resolved at start; OFF: nothing */
static struct skp_tpm *tpm;		/* mode TPM: open for skpd's life */
/* The KEKs the file held when loaded or last written. */
struct kek_id {
	char provider[SKP_PROVIDER_MAX];
	char uid[SKP_KEK_UID_MAX];
};
static struct kek_id *in_file;
static size_t n_in_file;

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

static int in_file_has(const char *prov, const char *uid)
{
	for (size_t i = 0; i < n_in_file; i++)
		if (!strcmp(in_file[i].provider, prov) && !strcmp(in_file[i].uid, uid))
			return 1;
	return 0;
}

/* Adds a KEK to in_file; out of memory, says an update-initramfs reminder may come needlessly. */
static void remember(const char *prov, const char *uid)
{
	void *m;

	if (in_file_has(prov, uid))
		return;
	m = realloc(in_file, (n_in_file + 1) * sizeof(*in_file));
	if (!m) {
		log_msg(LOG_W, "key_persistence: out of memory (an update-initramfs reminder may come needlessly)");
		return;
	}
	in_file = m;
	snprintf(in_file[n_in_file].provider, sizeof(in_file->provider), "%s", prov);
	snprintf(in_file[n_in_file++].uid, sizeof(in_file->uid), "%s", uid);
}

static void forget_all(void)
{
	free(in_file);
	in_file = NULL;
	n_in_file = 0;
}

/*
 * The initramfs holds a copy of the sealed file from its last update-initramfs (hook):
 * a device it opens (root) whose KEK enters the file now is missing from that copy, and
 * with the KMS down at boot it would stay locked until the copy is made again.
 */
static void warn_initramfs_copy(struct skpd *d)
{
	for (size_t i = 0; i < d->n_devs; i++)
		if (boot_is_initramfs(d, d->devs[i].name) && !in_file_has(d->devs[i].provider, d->devs[i].kek_uid))
			log_msg(LOG_W, "key_persistence: %s is opened in early boot and its KEK %s is new to %s: "
				"run update-initramfs -u (or dracut -f), or the initramfs cannot open it while the KMS is down",
				d->devs[i].name, d->devs[i].kek_uid, d->cfg.keks_dir);
}

/* The set in text (locked memory, NUL-terminated) into the KEK cache. */
static void load_text(struct skpd *d, const char *path, char *text)
{
	unsigned char *key = skp_secmem_alloc(SKP_KEK_LEN);
	size_t loaded = 0, bad = 0;
	char *line, *next = text;
	int lineno = 0;

	if (!key) {
		log_msg(LOG_E, "key_persistence: out of (locked) memory");
		return;
	}
	while ((line = strsep(&next, "\n")) != NULL) {
		char *prov, *uid, *hex, *save = NULL;
		struct skp_err e = {0};

		lineno++;
		if (lineno == 1) {
			if (strncmp(line, PERSIST_MAGIC, sizeof(PERSIST_MAGIC) - 2) || line[sizeof(PERSIST_MAGIC) - 2]) {
				log_msg(LOG_E, "key_persistence: %s:1: not an skp KEK file: not loaded", path);
				break;
			}
			continue;
		}
		if (!*line && !next)
			break;	/* the final newline */
		prov = strtok_r(line, " ", &save);
		uid = strtok_r(NULL, " ", &save);
		hex = strtok_r(NULL, " ", &save);
		if (!prov || !uid || !hex || strtok_r(NULL, " ", &save) || strlen(prov) >= SKP_PROVIDER_MAX ||
		    strlen(uid) >= SKP_KEK_UID_MAX || strlen(hex) > 2 * SKP_KEK_LEN || unhex(hex, key, SKP_KEK_LEN) < 0) {
			log_msg(LOG_E, "key_persistence: %s:%d: malformed line skipped", path, lineno);
			bad++;
			continue;
		}
		if (kek_cache_put(d, prov, uid, key, &e) < 0) {
			log_msg(LOG_E, "key_persistence: %s:%d: %s", path, lineno, e.msg);
		} else {
			loaded++;
			remember(prov, uid);
		}
	}
	log_msg(LOG_W, "key_persistence: %zu KEK(s) loaded from %s%s", loaded, path, bad ? " (some lines skipped)" : "");
	skp_secmem_free(key, SKP_KEK_LEN);
}

/*
 * A persisted file read whole (root's, 0600, regular), into locked memory when it is the
 * clear-text set.  NULL when absent (*absent set) or refused (logged).
 */
static unsigned char *read_file(const char *path, int secret, size_t *len, int *absent)
{
	unsigned char *buf;
	struct stat st;
	size_t got = 0;
	int fd;

	*absent = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			*absent = 1;
		else
			log_msg(LOG_E, "key_persistence: %s: %m", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077)) {
		log_msg(LOG_E, "key_persistence: %s must be a regular file of root with mode 0600: not loaded", path);
		close(fd);
		return NULL;
	}
	if ((size_t)st.st_size > FILE_MAX) {
		log_msg(LOG_E, "key_persistence: %s is larger than %u bytes: not loaded", path, FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = secret ? skp_secmem_alloc((size_t)st.st_size + 1) : malloc((size_t)st.st_size + 1);
	if (!buf) {
		log_msg(LOG_E, "key_persistence: out of (locked) memory");
		close(fd);
		return NULL;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n <= 0) {
			log_msg(LOG_E, "key_persistence: %s: %s: not loaded", path, n < 0 ? strerror(errno) : "short read");
			close(fd);
			if (secret)
				skp_secmem_free(buf, (size_t)st.st_size + 1);
			else
				free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return buf;
}

static void load_clear(struct skpd *d, const char *path)
{
	unsigned char *buf;
	size_t len = 0;
	int absent;

	buf = read_file(path, 1, &len, &absent);
	if (!buf)
		return;
	load_text(d, path, (char *)buf);
	skp_secmem_free(buf, len + 1);
}

static void load_sealed(struct skpd *d, const char *path)
{
	char rejected[SKP_PATH_MAX + 32], *text = NULL;
	struct skp_err err = {0};
	unsigned char *img;
	size_t len = 0, tl = 0;
	int absent;

	img = read_file(path, 0, &len, &absent);
	if (!img)
		return;
	if (skp_sealed_open(tpm, img, len, &text, &tl, &err) < 0) {
		/*
		 * All or nothing: no KEK of it is loaded.  Kept aside rather than overwritten by
		 * the next write, for an admin who can make it good again (PCRs back).
		 */
		file_path(d, rejected, sizeof(rejected), ".sealed.rejected");
		log_msg(LOG_E, "key_persistence: %s cannot be opened on this host: %s; no KEK loaded from it "
			"(devices open through the KMS); kept as %s", path, err.msg, rejected);
		if (rename(path, rejected) < 0)
			log_msg(LOG_E, "key_persistence: cannot rename %s: %m", path);
		free(img);
		return;
	}
	free(img);
	load_text(d, path, text);
	skp_secmem_free(text, tl + 1);
}

void skpd_persist_start(struct skpd *d)
{
	char path[SKP_PATH_MAX + 16], sealed[SKP_PATH_MAX + 16], pcrs[80];
	struct skp_err err = {0};
	int want = d->cfg.key_persistence;

	file_path(d, path, sizeof(path), "");
	file_path(d, sealed, sizeof(sealed), ".sealed");
	skpd_persist_stop();
	if (want == SKP_PERSIST_OFF) {
		/* Turned off: keys must not stay on disk. */
		if (unlink(path) == 0)
			log_msg(LOG_W, "key_persistence is off: removed the persisted KEKs in %s", path);
		if (unlink(sealed) == 0)
			log_msg(LOG_W, "key_persistence is off: removed the sealed KEKs in %s", sealed);
		return;
	}
	if (want == SKP_PERSIST_TPM || want == SKP_PERSIST_AUTO) {
		if (skp_tpm_open(d->cfg.tpm_tcti, &tpm, &err) == 0) {
			mode = SKP_PERSIST_TPM;
		} else if (want == SKP_PERSIST_TPM) {
			log_msg(LOG_E, "key_persistence = tpm but no usable TPM (%s): no KEK is persisted or "
				"loaded; devices open through the KMS only", err.msg);
			return;
		} else {
			log_msg(LOG_W, "key_persistence = true and no usable TPM (%s): the KEKs are kept in "
				"clear (key_persistence = file)", err.msg);
		}
	}
	if (mode != SKP_PERSIST_TPM)
		mode = SKP_PERSIST_FILE;
	if (dir_ok(d->cfg.keks_dir) < 0) {
		mode = SKP_PERSIST_OFF;
		return;
	}
	if (mode == SKP_PERSIST_FILE) {
		log_msg(LOG_W, "key_persistence is ON (file): the KEKs of open devices are stored in clear on "
			"this host in %s; whoever takes this host or a copy of its disk can open its encrypted "
			"devices without the KMS, and revoking a KEK in the KMS no longer stops this host from "
			"opening its device (docs/threat-model.md)", path);
		load_clear(d, path);
		return;
	}
	skp_tpm_format_pcrs(d->cfg.tpm_pcrs, pcrs, sizeof(pcrs));
	log_msg(LOG_W, "key_persistence is ON (tpm%s): the KEKs of open devices are stored in %s, encrypted "
		"under a key sealed by this host's TPM (PCRs: %s); a copy of the disk is useless without "
		"this TPM, but whoever takes the whole host can open its encrypted devices without the "
		"KMS, and revoking a KEK in the KMS no longer stops this host (docs/threat-model.md)",
		want == SKP_PERSIST_AUTO ? ", as key_persistence = true and a TPM is present" : "",
		sealed, pcrs);
	load_sealed(d, sealed);
	/* From file to tpm: the clear set is loaded once, and removed once sealed (sync). */
	if (access(path, F_OK) == 0) {
		log_msg(LOG_W, "key_persistence: %s holds KEKs in clear from key_persistence = file: "
			"loaded, to be removed once the set is sealed", path);
		load_clear(d, path);
	}
}

void skpd_persist_stop(void)
{
	skp_tpm_close(tpm);
	tpm = NULL;
	mode = SKP_PERSIST_OFF;
	persisted_valid = 0;
	forget_all();
}

/* Rewrites the file when the set of open devices' KEKs changed; cheap otherwise. */
void skpd_persist_sync(struct skpd *d)
{
	char path[SKP_PATH_MAX + 16], tmp[SKP_PATH_MAX + 16];
	unsigned long h = 5381;
	size_t n = 0, cap, len = 0, img_len = 0, wlen;
	unsigned char *img = NULL;
	const void *wbuf;
	char *out = NULL;
	int fd = -1;

	/* Turned off by a reload: no more writes (the files go at the next start). */
	if (mode == SKP_PERSIST_OFF || d->cfg.key_persistence == SKP_PERSIST_OFF)
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
	file_path(d, path, sizeof(path), mode == SKP_PERSIST_TPM ? ".sealed" : "");
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
	wbuf = out;
	wlen = len;
	if (mode == SKP_PERSIST_TPM) {
		struct skp_err err = {0};

		/* What reaches the disk: the sealed image, never the clear set. */
		if (skp_sealed_seal(tpm, d->cfg.tpm_pcrs, out, len, &img, &img_len, &err) < 0) {
			log_msg(LOG_E, "key_persistence: cannot seal the KEKs with the TPM: %s; %s not updated",
				err.msg, path);
			skp_secmem_free(out, cap);
			return;
		}
		wbuf = img;
		wlen = img_len;
	}
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && (write(fd, wbuf, wlen) != (ssize_t)wlen || fsync(fd) < 0)) {
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
		if (mode == SKP_PERSIST_TPM)
			warn_initramfs_copy(d);
		forget_all();
		for (size_t i = 0; i < d->n_devs; i++)
			if (kek_cache_get(d, d->devs[i].provider, d->devs[i].kek_uid))
				remember(d->devs[i].provider, d->devs[i].kek_uid);
		if (mode == SKP_PERSIST_TPM) {
			/* Sealed now: no clear copy left behind by key_persistence = file. */
			file_path(d, tmp, sizeof(tmp), "");
			if (unlink(tmp) == 0)
				log_msg(LOG_W, "key_persistence: removed the clear-text KEKs in %s", tmp);
		}
	}
	free(img);
	skp_secmem_free(out, cap);
}
