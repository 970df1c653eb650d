// SPDX-License-Identifier: GPL-2.0
/*
 * provider backup / restore: a native provider's KEKs under a passphrase (lib/native.h),
 * done on its store directly (the TPM unseals it), with or without skpd running: skpd
 * finds restored KEKs in the store when it misses them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "config.h"
#include "io.h"
#include "native.h"
#include "secmem.h"
#include "skpctl.h"

#define BACKUP_MAX	((1u << 20) + 4096)

static int fail(const struct skp_err *err)
{
	fprintf(stderr, "skpctl: %s\n", err->msg);
	return skpctl_exit_code((unsigned int)err->cls);
}

/* The native provider NAME of skpd.conf (--config), its store not read yet. */
static struct skp_native *open_provider(const struct cli *c, const char *name, struct skp_err *err)
{
	const char *path = c->conf ? c->conf : "/etc/skp/skpd.conf";
	struct skp_config *cfg = calloc(1, sizeof(*cfg));
	const struct skp_provider_conf *p;
	struct skp_native *n = NULL;
	char dir[SKP_PATH_MAX];

	if (!cfg) {
		skp_err_set(err, -ENOMEM, "out of memory");
		return NULL;
	}
	if (skp_config_load(path, cfg, err) < 0) {
		free(cfg);
		return NULL;
	}
	p = skp_config_provider(cfg, name);
	if (!p)
		skp_err_set(err, -ENOENT, "provider \"%s\" is not configured in %s", name, path);
	else if (p->type != SKP_PROVIDER_NATIVE)
		skp_err_set(err, -EINVAL, "provider \"%s\" is not type = native: its KEKs are in its KMS, backed "
			    "up there", name);
	else if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", cfg->native_dir, name) >= sizeof(dir) - 32)
		skp_err_set(err, -ENAMETOOLONG, "native_dir too long");
	else
		n = skp_native_new(dir, name, cfg->tpm_tcti, err);
	skp_config_free(cfg);
	free(cfg);
	return n;
}

/* One line from the terminal, not echoed: *len bytes into pass (secmem, SKP_NATIVE_PASS_MAX + 2). */
static int prompt(FILE *tty, const char *what, char *pass, size_t *len)
{
	struct termios old, noecho;
	int fd = fileno(tty), r = 0;

	fprintf(stderr, "%s", what);
	fflush(stderr);
	if (tcgetattr(fd, &old) < 0)
		return -ENOTTY;
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	if (tcsetattr(fd, TCSAFLUSH, &noecho) < 0)
		return -ENOTTY;
	if (!fgets(pass, SKP_NATIVE_PASS_MAX + 2, tty))
		r = -ECANCELED;
	tcsetattr(fd, TCSAFLUSH, &old);
	if (r < 0)
		return r;
	*len = strcspn(pass, "\n");
	pass[*len] = '\0';
	return 0;
}

/*
 * The passphrase: the first line of --passphrase-file, else asked on the terminal (twice
 * for a backup: a typo there locks the keys away).  *pass: secmem, SKP_NATIVE_PASS_MAX + 2.
 */
static int passphrase(const struct cli *c, int twice, char **pass, size_t *len)
{
	char *p = skp_secmem_alloc(SKP_NATIVE_PASS_MAX + 2), *again = NULL;
	struct skp_err err = {0};
	FILE *tty = NULL;
	int r = 0;

	if (!p) {
		fprintf(stderr, "skpctl: out of locked memory\n");
		return -ENOMEM;
	}
	if (c->passfile) {
		char *text = NULL;
		size_t size = 0;

		r = skp_read_file(c->passfile, SKP_FILE_SECRET, SKP_NATIVE_PASS_MAX + 2, &text, &size, &err);
		if (r < 0) {
			fprintf(stderr, "skpctl: --passphrase-file: %s\n", err.msg);
			goto out;
		}
		*len = strcspn(text, "\r\n");
		if (*len > SKP_NATIVE_PASS_MAX) {
			fprintf(stderr, "skpctl: --passphrase-file: the passphrase is longer than %d bytes\n",
				SKP_NATIVE_PASS_MAX);
			r = -EINVAL;
		} else {
			memcpy(p, text, *len);
			p[*len] = '\0';
		}
		skp_secmem_free(text, size);
		goto out;
	}
	tty = fopen("/dev/tty", "r+");
	if (!tty) {
		fprintf(stderr, "skpctl: no terminal to ask the passphrase on: use --passphrase-file\n");
		r = -ENOTTY;
		goto out;
	}
	r = prompt(tty, "Passphrase: ", p, len);
	if (!r && twice) {
		size_t l2 = 0;

		again = skp_secmem_alloc(SKP_NATIVE_PASS_MAX + 2);
		r = again ? prompt(tty, "Passphrase again: ", again, &l2) : -ENOMEM;
		if (!r && (l2 != *len || memcmp(again, p, l2))) {
			fprintf(stderr, "skpctl: the passphrases differ\n");
			r = -EINVAL;
		}
	}
	if (r == -ENOTTY)
		fprintf(stderr, "skpctl: cannot turn off echo on the terminal: use --passphrase-file\n");
out:
	if (tty)
		fclose(tty);
	skp_secmem_free(again, SKP_NATIVE_PASS_MAX + 2);
	if (r < 0) {
		skp_secmem_free(p, SKP_NATIVE_PASS_MAX + 2);
		return r;
	}
	if (twice && *len < SKP_NATIVE_PASS_MIN) {
		fprintf(stderr, "skpctl: the passphrase must have at least %d characters\n", SKP_NATIVE_PASS_MIN);
		skp_secmem_free(p, SKP_NATIVE_PASS_MAX + 2);
		return -EINVAL;
	}
	*pass = p;
	return 0;
}

int skpctl_cmd_provider_backup(const struct cli *c)
{
	const char *name = c->args[0], *file = c->args[1];
	struct skp_err err = {0};
	struct skp_native *n;
	unsigned char *img = NULL;
	size_t img_len = 0, len = 0;
	char *pass = NULL;
	int fd, rc = SKPCTL_EXIT_OK;

	n = open_provider(c, name, &err);
	if (!n)
		return fail(&err);
	if (passphrase(c, 1, &pass, &len) < 0) {
		skp_native_free(n);
		return SKPCTL_EXIT_FAIL;
	}
	if (skp_native_backup(n, pass, len, &img, &img_len, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	/* Never over another file: an older backup may be the only copy of some KEK. */
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, img, img_len) != (ssize_t)img_len || fsync(fd) < 0) {
		fprintf(stderr, "skpctl: %s: %s\n", file, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(file);
		}
		rc = SKPCTL_EXIT_FAIL;
		goto out;
	}
	close(fd);
	printf("backed up %zu KEK(s) of native provider \"%s\" to %s (keep it and its passphrase apart "
	       "from this host)\n", skp_native_count(n), name, file);
out:
	free(img);
	skp_secmem_free(pass, SKP_NATIVE_PASS_MAX + 2);
	skp_native_free(n);
	return rc;
}

/* The backup file, binary (skp_read_file reads text). */
static int read_backup(const char *file, char **img, size_t *len, struct skp_err *err)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	ssize_t got;
	char *b;

	if (fd < 0)
		return skp_err_set(err, -errno, "%s: %s", file, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > BACKUP_MAX) {
		close(fd);
		return skp_err_set(err, -EINVAL, "%s: not a backup file (not a regular file, or too large)", file);
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return skp_err_set(err, -ENOMEM, "out of memory");
	}
	*len = 0;
	while (*len < (size_t)st.st_size && (got = read(fd, b + *len, (size_t)st.st_size - *len)) > 0)
		*len += (size_t)got;
	close(fd);
	*img = b;
	return 0;
}

int skpctl_cmd_provider_restore(const struct cli *c)
{
	const char *name = c->args[0], *file = c->args[1];
	struct skp_err err = {0};
	struct skp_native *n;
	char *img = NULL, *pass = NULL;
	size_t img_len = 0, len = 0, added = 0, present = 0;
	int rc = SKPCTL_EXIT_OK;

	n = open_provider(c, name, &err);
	if (!n)
		return fail(&err);
	if (read_backup(file, &img, &img_len, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	if (passphrase(c, 0, &pass, &len) < 0) {
		rc = SKPCTL_EXIT_FAIL;
		goto out;
	}
	if (skp_native_restore(n, (unsigned char *)img, img_len, pass, len, &added, &present, &err) < 0) {
		rc = fail(&err);
		goto out;
	}
	printf("restored %zu KEK(s) into native provider \"%s\" (%zu already there), sealed by this host's "
	       "TPM\n", added, name, present);
out:
	free(img);
	skp_secmem_free(pass, SKP_NATIVE_PASS_MAX + 2);
	skp_native_free(n);
	return rc;
}
