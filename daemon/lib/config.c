// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "header.h"
#include "io.h"
#include "secmem.h"
#include "target.h"
#include "tpm.h"
#include "tpmkey.h"

#define MAX_FILE (1 << 20)

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Comments start at '#' (values never contain one). */
static void strip_comment(char *s)
{
	char *h = strchr(s, '#');

	if (h)
		*h = '\0';
}

static int parse_int(const char *v, long min, long max, int *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -EINVAL;
	*ret = (int)n;
	return 0;
}

static int parse_bool(const char *v, int *ret)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*ret = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*ret = 0;
	else
		return -EINVAL;
	return 0;
}

static void warn(struct skp_config *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct skp_config *cfg, const char *fmt, ...)
{
	va_list ap;

	if (cfg->n_warnings >= SKP_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(cfg->warnings[cfg->n_warnings++], sizeof(cfg->warnings[0]), fmt, ap);
	va_end(ap);
}

static int set_path(char *dst, const char *v)
{
	if (v[0] != '/' || strlen(v) >= SKP_PATH_MAX)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

/* Printable ASCII, no space at either end: what every KMS takes in a Text String, and
 * what shows unambiguously in logs, errors and skpctl output. */
static int text_ok(const char *v, size_t size)
{
	size_t n = strlen(v);

	if (!n || n >= size || v[0] == ' ' || v[n - 1] == ' ')
		return 0;
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return 0;
	return 1;
}

/* What skp puts on a KEK itself: a second value would contradict or duplicate it. */
static const char *const own_attrs[] = { "Name", "Object Type", "Cryptographic Algorithm",
	"Cryptographic Length", "Cryptographic Usage Mask" };

static int create_attr(struct skp_provider_conf *p, const char *v, struct skp_err *err)
{
	char buf[SKP_CREATE_NAME_MAX + SKP_CREATE_TEXT_MAX + 8], *colon, *name, *value;
	struct skp_create_attr *a;

	if (strlen(v) >= sizeof(buf))
		return skp_err_set(err, -EINVAL, "attribute too long (name < %d, value < %d characters)",
				   SKP_CREATE_NAME_MAX, SKP_CREATE_TEXT_MAX);
	strcpy(buf, v);
	colon = strchr(buf, ':');
	if (colon)
		*colon = '\0';
	name = trim(buf);
	value = colon ? trim(colon + 1) : "";
	if (!colon || !*name || !*value)
		return skp_err_set(err, -EINVAL, "attribute must be 'NAME: VALUE', e.g. 'x-site: fra1'");
	if (!strncmp(name, "x-", 2)) {
		if (!name[2] || strlen(name) >= SKP_CREATE_NAME_MAX ||
		    strspn(name + 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ._-")
		    != strlen(name + 2))
			return skp_err_set(err, -EINVAL, "bad attribute name '%.64s': x- then 1..%d of "
					   "[A-Za-z0-9 ._-]", name, SKP_CREATE_NAME_MAX - 3);
	} else if (!strcmp(name, "Operation Policy Name") || !strcmp(name, "Object Group")) {
		return skp_err_set(err, -EINVAL, "attribute '%s': use %s", name,
				   !strcmp(name, "Object Group") ? "object_group" : "operation_policy_name");
	} else if (!strncmp(name, "y-", 2)) {
		return skp_err_set(err, -EINVAL, "attribute '%.64s': y- names are the server's own; "
				   "a client's start with x-", name);
	} else if (strcmp(name, "Contact Information")) {
		for (size_t i = 0; i < sizeof(own_attrs) / sizeof(own_attrs[0]); i++)
			if (!strcmp(name, own_attrs[i]))
				return skp_err_set(err, -EINVAL, "attribute '%s' is set by skp", name);
		return skp_err_set(err, -EINVAL, "attribute '%.64s' not supported: x-NAME (custom) or "
				   "Contact Information", name);
	}
	if (!text_ok(value, SKP_CREATE_TEXT_MAX))
		return skp_err_set(err, -EINVAL, "value of attribute '%s' must be 1..%d printable ASCII "
				   "characters", name, SKP_CREATE_TEXT_MAX - 1);
	for (size_t i = 0; i < p->n_attrs; i++)
		if (!strcmp(p->attrs[i].name, name))
			return skp_err_set(err, -EEXIST, "attribute '%s' given twice", name);
	if (p->n_attrs >= SKP_MAX_CREATE_ATTRS)
		return skp_err_set(err, -E2BIG, "more than %d attributes", SKP_MAX_CREATE_ATTRS);
	a = &p->attrs[p->n_attrs++];
	strcpy(a->name, name);
	strcpy(a->value, value);
	return 0;
}

int skp_provider_conf_create_setting(struct skp_provider_conf *p, const char *key, const char *value,
				     struct skp_err *err)
{
	char *dst;

	if (!strcmp(key, "attribute"))
		return create_attr(p, value, err);
	if (!strcmp(key, "operation_policy_name"))
		dst = p->operation_policy_name;
	else if (!strcmp(key, "object_group"))
		dst = p->object_group;
	else
		return skp_err_set(err, -ENOENT, "'%.64s' is not a Create setting", key);
	/* One each: KMIP allows several Object Groups, but one group is one grant to ask for. */
	if (dst[0])
		return skp_err_set(err, -EEXIST, "%s given twice", key);
	if (!text_ok(value, SKP_CREATE_TEXT_MAX))
		return skp_err_set(err, -EINVAL, "%s must be 1..%d printable ASCII characters", key,
				   SKP_CREATE_TEXT_MAX - 1);
	strcpy(dst, value);
	return 0;
}

static int provider_key(struct skp_config *cfg, struct skp_provider_conf *p, const char *file,
			int line, const char *k, const char *v, struct skp_err *err)
{
	if (!strcmp(k, "server")) {
		const char *colon = strrchr(v, ':');
		int port;

		if (p->n_servers >= SKP_MAX_SERVERS)
			return skp_err_set(err, -E2BIG, "%s:%d: more than %d servers", file, line, SKP_MAX_SERVERS);
		if (!v[0] || strlen(v) + 6 >= SKP_SERVER_MAX || strpbrk(v, " \t/"))
			return skp_err_set(err, -EINVAL, "%s:%d: bad server '%s'", file, line, v);
		if (colon) {
			if (parse_int(colon + 1, 1, 65535, &port) < 0 || colon == v)
				return skp_err_set(err, -EINVAL, "%s:%d: bad port in server '%s'", file, line, v);
			snprintf(p->servers[p->n_servers++], SKP_SERVER_MAX, "%s", v);
		} else {
			snprintf(p->servers[p->n_servers++], SKP_SERVER_MAX, "%s:5696", v);
		}
	} else if (!strcmp(k, "ca") || !strcmp(k, "cert") || !strcmp(k, "key")) {
		char *dst = k[0] == 'c' ? (k[1] == 'a' ? p->ca : p->cert) : p->key;
		int fd;

		if (dst == p->key && skp_tpmkey_is(v)) {
			/* in the TPM (tpmkey.h): the form, and a key file's owner and mode */
			if (strlen(v) >= sizeof(p->key) || skp_tpmkey_check(v, err) < 0)
				return skp_err_wrap(err, "%s:%d: key", file, line);
			strcpy(p->key, v);
			return 0;
		}
		if (set_path(dst, v) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: %s must be an absolute path%s", file, line, k,
					   dst == p->key ? " (or tpm:/PATH, tpm:handle:0x... for a key in the TPM)" : "");
		/* checked here for the line number; skp_tls_ctx_new checks again what it reads */
		fd = skp_open_file(v, k[0] == 'k' ? SKP_FILE_SECRET : SKP_FILE_TRUSTED, err);
		if (fd < 0)
			return skp_err_wrap(err, "%s:%d: %s", file, line, k);
		close(fd);
	} else if (!strcmp(k, "type")) {
		if (!strcmp(v, "kmip"))
			p->type = SKP_PROVIDER_KMIP;
		else if (!strcmp(v, "native"))
			p->type = SKP_PROVIDER_NATIVE;
		else
			return skp_err_set(err, -EINVAL, "%s:%d: type must be kmip or native", file, line);
	} else if (!strcmp(k, "default")) {
		if (parse_bool(v, &p->is_default) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: default must be true or false", file, line);
	} else if (!strcmp(k, "username")) {
		if (!v[0] || strlen(v) >= sizeof(p->username))
			return skp_err_set(err, -EINVAL, "%s:%d: bad username", file, line);
		strcpy(p->username, v);
	} else if (!strcmp(k, "password_file")) {
		char *text = NULL;
		size_t n, size;
		int r;

		if (v[0] != '/')
			return skp_err_set(err, -EINVAL, "%s:%d: password_file must be an absolute path", file, line);
		r = skp_read_file(v, SKP_FILE_SECRET, 4096, &text, &size, err);
		if (r < 0)
			return skp_err_wrap(err, "%s:%d", file, line);
		n = strcspn(text, "\r\n");
		if (n == 0 || n >= SKP_PASSWORD_MAX) {
			skp_secmem_free(text, size);
			return skp_err_set(err, -EINVAL, "%s:%d: password file is empty or too long", file, line);
		}
		if (!p->password)
			p->password = skp_secmem_alloc(SKP_PASSWORD_MAX);
		if (!p->password) {
			skp_secmem_free(text, size);
			return skp_err_set(err, -ENOMEM, "%s:%d: no secure memory", file, line);
		}
		memset(p->password, 0, SKP_PASSWORD_MAX);
		memcpy(p->password, text, n);
		skp_secmem_free(text, size);
	} else if (!strcmp(k, "protocol")) {
		if (!strcmp(v, "auto"))
			p->protocol_minor = -1;
		else if (strlen(v) == 3 && v[0] == '1' && v[1] == '.' && v[2] >= '0' && v[2] <= '4')
			p->protocol_minor = v[2] - '0';
		else
			return skp_err_set(err, -EINVAL, "%s:%d: protocol must be 1.0 .. 1.4 or auto", file, line);
	} else if (!strcmp(k, "timeout")) {
		int s;

		if (parse_int(v, 1, 300, &s) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: timeout must be 1..300 seconds", file, line);
		p->timeout_ms = s * 1000;
	} else if (!strcmp(k, "operation_policy_name") || !strcmp(k, "object_group") ||
		   !strcmp(k, "attribute")) {
		if (skp_provider_conf_create_setting(p, k, v, err) < 0)
			return skp_err_wrap(err, "%s:%d", file, line);
	} else {
		warn(cfg, "%s:%d: unknown provider setting '%s' ignored", file, line, k);
	}
	return 0;
}

static int global_key(struct skp_config *cfg, const char *file, int line, const char *k,
		      const char *v, struct skp_err *err)
{
	if (!strcmp(k, "socket")) {
		if (set_path(cfg->socket, v) < 0 || strlen(v) >= 100)
			return skp_err_set(err, -EINVAL, "%s:%d: socket must be an absolute path under 100 bytes", file, line);
	} else if (!strcmp(k, "skptab")) {
		if (set_path(cfg->skptab, v) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: skptab must be an absolute path", file, line);
	} else if (!strcmp(k, "health_interval")) {
		if (parse_int(v, 1, 86400, &cfg->health_interval) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: health_interval must be 1..86400 seconds", file, line);
	} else if (!strcmp(k, "remediation_interval")) {
		if (parse_int(v, 1, 86400, &cfg->remediation_interval) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: remediation_interval must be 1..86400 seconds", file, line);
	} else if (!strcmp(k, "target")) {
		if (!skp_target_type_ok(v))
			return skp_err_set(err, -EINVAL, "%s:%d: target must be %s or %s", file, line,
					   DM_SKP_TARGET_NAME, SKP_TARGET_CRYPT);
		strcpy(cfg->target, v);
	} else if (!strcmp(k, "key_persistence")) {
		int b;

		/* Persisting KEKs changes the threat model: skpd warns at every start (persist.c). */
		if (!strcmp(v, "tpm"))
			cfg->key_persistence = SKP_PERSIST_TPM;
		else if (!strcmp(v, "file"))
			cfg->key_persistence = SKP_PERSIST_FILE;
		else if (!strcmp(v, "off"))
			cfg->key_persistence = SKP_PERSIST_OFF;
		else if (parse_bool(v, &b) == 0)
			cfg->key_persistence = b ? SKP_PERSIST_AUTO : SKP_PERSIST_OFF;
		else
			return skp_err_set(err, -EINVAL, "%s:%d: key_persistence must be tpm, file or off "
					   "(or true: tpm when a TPM is present, else file)", file, line);
	} else if (!strcmp(k, "tpm_pcrs")) {
		if (skp_tpm_parse_pcrs(v, &cfg->tpm_pcrs) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: tpm_pcrs must be PCR numbers 0..23 separated "
					   "by commas (e.g. 7), or none", file, line);
	} else if (!strcmp(k, "tpm_tcti")) {
		if (strlen(v) >= sizeof(cfg->tpm_tcti))
			return skp_err_set(err, -EINVAL, "%s:%d: tpm_tcti is too long", file, line);
		strcpy(cfg->tpm_tcti, v);
	} else if (!strcmp(k, "native_dir")) {
		if (set_path(cfg->native_dir, v) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: native_dir must be an absolute path", file, line);
	} else if (!strcmp(k, "key_persistence_dir")) {
		if (set_path(cfg->keks_dir, v) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: key_persistence_dir must be an absolute path", file, line);
	} else {
		warn(cfg, "%s:%d: unknown setting '%s' ignored", file, line, k);
	}
	return 0;
}

static int finish_provider(const char *file, struct skp_provider_conf *p, struct skp_err *err)
{
	/* A native provider talks to no KMS: KMIP settings there are a mistake, not noise. */
	if (p->type == SKP_PROVIDER_NATIVE) {
		if (p->n_servers || p->ca[0] || p->cert[0] || p->key[0] || p->username[0] || p->password)
			return skp_err_set(err, -EINVAL, "%s:%d: provider \"%s\" is type = native: it takes no "
					   "server, ca, cert, key, username or password_file", file, p->line, p->name);
		return 0;
	}
	if (!p->n_servers)
		return skp_err_set(err, -EINVAL, "%s:%d: provider \"%s\" has no server", file, p->line, p->name);
	if (!p->ca[0])
		return skp_err_set(err, -EPERM, "%s:%d: provider \"%s\" has no ca: refusing to talk to an "
				   "unauthenticated KMS", file, p->line, p->name);
	if (!p->cert[0] || !p->key[0])
		return skp_err_set(err, -EINVAL, "%s:%d: provider \"%s\" needs cert and key (KMIP client "
				   "certificate)", file, p->line, p->name);
	return 0;
}

/* skpd_only: the [skpd] section alone; provider sections are skipped unread. */
static int parse(const char *path, const char *text, int skpd_only, struct skp_config *cfg,
		 struct skp_err *err)
{
	struct skp_provider_conf *cur = NULL;
	char *copy = strdup(text), *line;
	int lineno = 0, in_skpd = 0, skip = 0, r = 0, ndefault = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (!copy)
		return skp_err_set(err, -ENOMEM, "out of memory");
	snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	strcpy(cfg->socket, "/run/skp/skpd.sock");
	strcpy(cfg->skptab, "/etc/skp/skptab");
	strcpy(cfg->keks_dir, "/var/lib/skp");
	strcpy(cfg->native_dir, "/var/lib/skp/native");
	strcpy(cfg->target, DM_SKP_TARGET_NAME);
	cfg->health_interval = 60;
	cfg->remediation_interval = 300;

	/* strsep keeps empty lines so numbering stays right. */
	for (char *p = copy; (line = strsep(&p, "\n")) != NULL;) {
		char *s, *eq, *k, *v;

		lineno++;
		strip_comment(line);
		s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (!end || trim(end + 1)[0]) {
				r = skp_err_set(err, -EINVAL, "%s:%d: malformed section header", path, lineno);
				goto out;
			}
			*end = '\0';
			s = trim(s + 1);
			skip = 0;
			if (!strcmp(s, "skpd")) {
				in_skpd = 1;
				cur = NULL;
			} else if (skpd_only && !strncmp(s, "provider", 8) && (s[8] == ' ' || s[8] == '\t')) {
				skip = 1;
				in_skpd = 0;
				cur = NULL;
			} else if (!strncmp(s, "provider", 8) && (s[8] == ' ' || s[8] == '\t')) {
				char *n = trim(s + 8), *q;

				if (n[0] != '"' || !(q = strchr(n + 1, '"')) || q[1]) {
					r = skp_err_set(err, -EINVAL, "%s:%d: provider name must be quoted", path, lineno);
					goto out;
				}
				*q = '\0';
				n++;
				if (!skp_name_valid(n, sizeof(cur->name))) {
					r = skp_err_set(err, -EINVAL, "%s:%d: provider name '%s' is not a valid name "
							"([A-Za-z0-9._-], at most 63)", path, lineno, n);
					goto out;
				}
				if (skp_config_provider(cfg, n)) {
					r = skp_err_set(err, -EEXIST, "%s:%d: provider \"%s\" defined twice", path, lineno, n);
					goto out;
				}
				if (cfg->n_providers >= SKP_MAX_PROVIDERS) {
					r = skp_err_set(err, -E2BIG, "%s:%d: more than %d providers", path, lineno,
							SKP_MAX_PROVIDERS);
					goto out;
				}
				cur = &cfg->providers[cfg->n_providers++];
				skp_provider_conf_init(cur, n);
				cur->line = lineno;
				in_skpd = 0;
			} else {
				r = skp_err_set(err, -EINVAL, "%s:%d: unknown section [%s]", path, lineno, s);
				goto out;
			}
			continue;
		}
		if (skip)
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			r = skp_err_set(err, -EINVAL, "%s:%d: expected 'key = value'", path, lineno);
			goto out;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if (!*k || !*v) {
			r = skp_err_set(err, -EINVAL, "%s:%d: empty key or value", path, lineno);
			goto out;
		}
		if (cur)
			r = provider_key(cfg, cur, path, lineno, k, v, err);
		else if (in_skpd)
			r = global_key(cfg, path, lineno, k, v, err);
		else
			r = skp_err_set(err, -EINVAL, "%s:%d: setting outside of any section", path, lineno);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < cfg->n_providers; i++) {
		strcpy(cfg->providers[i].tpm_tcti, cfg->tpm_tcti);	/* for a key in the TPM */
		r = finish_provider(path, &cfg->providers[i], err);
		if (r < 0)
			goto out;
		ndefault += cfg->providers[i].is_default;
	}
	if (cfg->n_providers == 1 && ndefault == 0) {
		cfg->providers[0].is_default = 1;
		warn(cfg, "%s: the only provider \"%s\" is the default", path, cfg->providers[0].name);
	} else if (cfg->n_providers && ndefault != 1) {
		r = skp_err_set(err, -EINVAL, "%s: %d providers marked default = true; exactly one must be",
				path, ndefault);
		goto out;
	}
out:
	free(copy);
	if (r < 0)
		skp_config_free(cfg);
	return r;
}

int skp_config_parse(const char *path, const char *text, struct skp_config *cfg, struct skp_err *err)
{
	return parse(path, text, 0, cfg, err);
}

static int load(const char *path, int skpd_only, struct skp_config *cfg, struct skp_err *err)
{
	char *text;
	size_t size;
	int r;

	memset(cfg, 0, sizeof(*cfg));
	r = skp_read_file(path, SKP_FILE_TRUSTED, MAX_FILE, &text, &size, err);
	if (r < 0)
		return r;
	r = parse(path, text, skpd_only, cfg, err);
	free(text);
	return r;
}

int skp_config_load(const char *path, struct skp_config *cfg, struct skp_err *err)
{
	return load(path, 0, cfg, err);
}

int skp_config_load_skpd(const char *path, struct skp_config *cfg, struct skp_err *err)
{
	return load(path, 1, cfg, err);
}

void skp_config_free(struct skp_config *cfg)
{
	for (size_t i = 0; i < SKP_MAX_PROVIDERS; i++)
		skp_provider_conf_free(&cfg->providers[i]);
}

void skp_provider_conf_init(struct skp_provider_conf *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->protocol_minor = -1;
	p->timeout_ms = 10000;
	p->retries = 1;
}

void skp_provider_conf_free(struct skp_provider_conf *p)
{
	skp_secmem_free(p->password, SKP_PASSWORD_MAX);
	p->password = NULL;
}

const struct skp_provider_conf *skp_config_provider(const struct skp_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_providers; i++)
		if (!strcmp(cfg->providers[i].name, name))
			return &cfg->providers[i];
	return NULL;
}

const struct skp_provider_conf *skp_config_default(const struct skp_config *cfg)
{
	for (size_t i = 0; i < cfg->n_providers; i++)
		if (cfg->providers[i].is_default)
			return &cfg->providers[i];
	return NULL;
}

/* One skptab line into tab (appended only if it is valid). */
static int skptab_line(const char *path, int lineno, char *line, struct skptab *tab, size_t *cap,
		       struct skp_err *err)
{
	char *f[4], *s, *save = NULL;
	struct skptab_entry *e;
	int n = 0;

	strip_comment(line);
	for (s = strtok_r(line, " \t\r", &save); s; s = strtok_r(NULL, " \t\r", &save)) {
		if (n == 3)
			return skp_err_set(err, -EINVAL, "%s:%d: too many fields (name, device, options)", path, lineno);
		f[n++] = s;
	}
	if (n == 0)
		return 0;
	if (n < 2)
		return skp_err_set(err, -EINVAL, "%s:%d: expected 'NAME UUID=...|/dev/PATH [OPTIONS]'", path, lineno);
	if (tab->n >= SKP_MAX_SKPTAB)
		return skp_err_set(err, -E2BIG, "%s:%d: more than %d devices", path, lineno, SKP_MAX_SKPTAB);
	if (tab->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct skptab_entry *ne = realloc(tab->e, ncap * sizeof(*ne));

		if (!ne)
			return skp_err_set(err, -ENOMEM, "out of memory");
		tab->e = ne;
		*cap = ncap;
	}
	e = &tab->e[tab->n];
	memset(e, 0, sizeof(*e));
	e->line = lineno;
	e->timeout = SKPTAB_TIMEOUT_DEFAULT;
	if (!skp_name_valid(f[0], sizeof(e->name)))
		return skp_err_set(err, -EINVAL, "%s:%d: bad mapping name '%.64s'", path, lineno, f[0]);
	for (size_t i = 0; i < tab->n; i++)
		if (!strcmp(tab->e[i].name, f[0]))
			return skp_err_set(err, -EEXIST, "%s:%d: mapping %s already on line %d", path, lineno,
					   f[0], tab->e[i].line);
	strcpy(e->name, f[0]);
	if (!strncmp(f[1], "UUID=", 5)) {
		if (skp_uuid_parse(f[1] + 5, e->uuid) < 0)
			return skp_err_set(err, -EINVAL, "%s:%d: bad UUID '%.64s'", path, lineno, f[1] + 5);
		e->by_uuid = 1;
	} else if (f[1][0] != '/' || strlen(f[1]) >= sizeof(e->source)) {
		return skp_err_set(err, -EINVAL, "%s:%d: device must be UUID=... or an absolute path", path, lineno);
	}
	snprintf(e->source, sizeof(e->source), "%s", f[1]);
	if (n == 3 && strcmp(f[2], "-") && strcmp(f[2], "defaults")) {
		char *o, *osave = NULL;

		for (o = strtok_r(f[2], ",", &osave); o; o = strtok_r(NULL, ",", &osave)) {
			if (!strcmp(o, "nofail"))
				e->nofail = 1;
			else if (!strcmp(o, "discard"))
				e->discard = 1;
			else if (!strcmp(o, "initramfs"))
				e->initramfs = 1;
			else if (!strncmp(o, "timeout=", 8)) {
				char *end;
				long v;

				errno = 0;
				v = strtol(o + 8, &end, 10);
				if (errno || end == o + 8 || *end || v < 1 || v > SKPTAB_TIMEOUT_MAX)
					return skp_err_set(err, -EINVAL, "%s:%d: timeout must be 1..%d seconds, not '%.32s'",
							   path, lineno, SKPTAB_TIMEOUT_MAX, o + 8);
				e->timeout = (int)v;
			} else
				return skp_err_set(err, -EINVAL, "%s:%d: unknown option '%.32s' (nofail, discard, "
						   "initramfs, timeout=SECONDS)", path, lineno, o);
		}
	}
	tab->n++;
	return 0;
}

static int skptab_parse_cb(const char *path, const char *text, struct skptab *tab,
			   void (*bad)(void *ctx, const struct skp_err *e), void *ctx, struct skp_err *err)
{
	char *copy = strdup(text), *line;
	int lineno = 0, r = 0;
	size_t cap = 0;

	memset(tab, 0, sizeof(*tab));
	if (!copy)
		return skp_err_set(err, -ENOMEM, "out of memory");
	for (char *p = copy; (line = strsep(&p, "\n")) != NULL;) {
		struct skp_err le = {0};

		lineno++;
		r = skptab_line(path, lineno, line, tab, &cap, &le);
		if (r < 0 && bad && r != -ENOMEM) {
			bad(ctx, &le);
			r = 0;
			continue;
		}
		if (r < 0) {
			if (err)
				*err = le;
			break;
		}
	}
	free(copy);
	if (r < 0)
		skptab_free(tab);
	return r;
}

int skptab_parse(const char *path, const char *text, struct skptab *tab, struct skp_err *err)
{
	return skptab_parse_cb(path, text, tab, NULL, NULL, err);
}

int skptab_load_lenient(const char *path, struct skptab *tab,
			void (*bad)(void *ctx, const struct skp_err *e), void *ctx, struct skp_err *err)
{
	char *text;
	size_t size;
	int r;

	memset(tab, 0, sizeof(*tab));
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	r = skp_read_file(path, SKP_FILE_TRUSTED, MAX_FILE, &text, &size, err);
	if (r < 0)
		return r;
	r = skptab_parse_cb(path, text, tab, bad, ctx, err);
	free(text);
	return r;
}

int skptab_load(const char *path, struct skptab *tab, struct skp_err *err)
{
	char *text;
	size_t size;
	int r;

	memset(tab, 0, sizeof(*tab));
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	r = skp_read_file(path, SKP_FILE_TRUSTED, MAX_FILE, &text, &size, err);
	if (r < 0)
		return r;
	r = skptab_parse(path, text, tab, err);
	free(text);
	return r;
}

void skptab_free(struct skptab *tab)
{
	free(tab->e);
	tab->e = NULL;
	tab->n = 0;
}
