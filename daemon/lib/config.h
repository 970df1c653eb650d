/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skpd.conf and skptab parsing.  Errors name file:line; security mistakes (a
 * private key or password file others can read, a provider without a CA) are
 * errors, cosmetic ones (unknown keys) are warnings kept in the config.
 */
#ifndef SKP_CONFIG_H
#define SKP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_MAX_PROVIDERS	32
#define SKP_MAX_SERVERS		16
#define SKP_PATH_MAX		256
#define SKP_SERVER_MAX		272	/* host:port */
#define SKP_MAX_WARNINGS	16
#define SKP_PASSWORD_MAX	256
#define SKP_MAX_SKPTAB		8192
#define SKP_MAX_CREATE_ATTRS	8	/* `attribute =` lines per provider */
#define SKP_CREATE_TEXT_MAX	128	/* a Create setting's value, incl. NUL */
#define SKP_CREATE_NAME_MAX	64	/* an `attribute =` name, incl. NUL */

/* An extra attribute put on every Create: `attribute = NAME: VALUE` (Text String). */
struct skp_create_attr {
	char name[SKP_CREATE_NAME_MAX];	/* "x-..." (Custom Attribute) or "Contact Information" */
	char value[SKP_CREATE_TEXT_MAX];
};

/*
 * A key provider: what a [provider] section of skpd.conf says, and what
 * skp_provider_new() takes (skpctl kms fills one from its options).  Start from
 * skp_provider_conf_init(); skp_provider_conf_free() wipes the password.
 */
/* [provider] type = */
enum skp_provider_type {
	SKP_PROVIDER_KMIP = 0,		/* KEKs in a KMS over KMIP (the default) */
	SKP_PROVIDER_NATIVE = 1,	/* KEKs made by this host, sealed by its TPM (native.h) */
};

struct skp_provider_conf {
	char name[64];
	int type;			/* enum skp_provider_type */
	char servers[SKP_MAX_SERVERS][SKP_SERVER_MAX];	/* "host", "host:port" or "[v6]:port" */
	size_t n_servers;
	char ca[SKP_PATH_MAX], cert[SKP_PATH_MAX];	/* PEM files */
	char key[SKP_PATH_MAX];		/* a PEM file, or a TPM key: tpm:/PATH, tpm:handle:0x81...... */
	char username[128];		/* optional KMIP credential, "" = none */
	char *password;			/* secmem, SKP_PASSWORD_MAX bytes, or NULL */
	int protocol_minor;		/* KMIP 1.x minor, -1 = negotiate ("auto", provider.h) */
	int timeout_ms;			/* per phase (connect+handshake, exchange) */
	int retries;			/* extra passes over the nodes (not in skpd.conf) */
	/* On every Create (KEKs at format and rekey, skpctl kms create), "" / 0 = none: */
	char operation_policy_name[SKP_CREATE_TEXT_MAX];
	char object_group[SKP_CREATE_TEXT_MAX];
	struct skp_create_attr attrs[SKP_MAX_CREATE_ATTRS];
	size_t n_attrs;
	int is_default;			/* skpd.conf only: */
	int line;			/* where the section starts */
	char tpm_tcti[SKP_PATH_MAX];	/* key = tpm:...: the TPM (skpd.conf's tpm_tcti; "" = default) */
};

/* key_persistence = ... */
enum skp_persist {
	SKP_PERSIST_OFF = 0,		/* off, false */
	SKP_PERSIST_AUTO = 1,		/* true: tpm when a TPM is present, else file */
	SKP_PERSIST_FILE = 2,		/* in clear in a 0600 file */
	SKP_PERSIST_TPM = 3,		/* encrypted under a key this host's TPM seals */
};

struct skp_config {
	char path[SKP_PATH_MAX];
	char socket[SKP_PATH_MAX];
	char skptab[SKP_PATH_MAX];
	char target[16];		/* device-mapper target: "skp" or "crypt" */
	int health_interval;		/* seconds */
	int remediation_interval;	/* seconds */
	int key_persistence;		/* enum skp_persist: KEKs of open devices kept in keks_dir */
	char keks_dir[SKP_PATH_MAX];
	uint32_t tpm_pcrs;		/* key_persistence = tpm: bound to these PCRs (bit n = PCR n) */
	char tpm_tcti[SKP_PATH_MAX];	/* the TPM, as a TSS2 TCTI string ("" = /dev/tpmrm0) */
	char native_dir[SKP_PATH_MAX];	/* native providers' stores: native_dir/NAME */
	struct skp_provider_conf providers[SKP_MAX_PROVIDERS];
	size_t n_providers;
	char warnings[SKP_MAX_WARNINGS][200];
	size_t n_warnings;
};

struct skptab_entry {
	char name[128];
	char source[SKP_PATH_MAX];	/* "UUID=..." or a path, as written */
	int by_uuid;
	unsigned char uuid[16];
	int nofail;
	int discard;
	int timeout;			/* seconds skpd's READY waits for it (timeout=, default 90) */
	int initramfs;			/* opened in early boot (root): left open at shutdown */
	int line;
};

/* systemd's default device timeout, which crypttab entries get too. */
#define SKPTAB_TIMEOUT_DEFAULT 90
#define SKPTAB_TIMEOUT_MAX 3600

struct skptab {
	struct skptab_entry *e;
	size_t n;
};

int skp_config_load(const char *path, struct skp_config *cfg, struct skp_err *err);
/*
 * The [skpd] section only, with no provider: for programs that need its paths (the
 * boot generator), so they neither read the providers' secrets nor fail on them.
 */
int skp_config_load_skpd(const char *path, struct skp_config *cfg, struct skp_err *err);
/* Parses text as if it were the file at path (for tests and reload checks). */
int skp_config_parse(const char *path, const char *text, struct skp_config *cfg, struct skp_err *err);
void skp_config_free(struct skp_config *cfg);
const struct skp_provider_conf *skp_config_provider(const struct skp_config *cfg, const char *name);
const struct skp_provider_conf *skp_config_default(const struct skp_config *cfg);
/* Defaults: protocol negotiated, timeout 10 s, 1 retry; no servers, no credential. */
void skp_provider_conf_init(struct skp_provider_conf *p, const char *name);
/* Wipes and frees the password; the rest needs no freeing. */
void skp_provider_conf_free(struct skp_provider_conf *p);
/*
 * Checks and stores one of the settings put on every Create: key "operation_policy_name",
 * "object_group" (a printable ASCII name, each once) or "attribute" ("NAME: VALUE", NAME
 * "x-..." or "Contact Information", each once, at most SKP_MAX_CREATE_ATTRS).  skpd.conf
 * and skpctl kms's options share it; the message names no file.  -ENOENT: another key.
 */
int skp_provider_conf_create_setting(struct skp_provider_conf *p, const char *key, const char *value,
				     struct skp_err *err);

/* A missing skptab is an empty one. */
int skptab_load(const char *path, struct skptab *tab, struct skp_err *err);
int skptab_parse(const char *path, const char *text, struct skptab *tab, struct skp_err *err);
/* As skptab_load, but a bad line is passed to bad() (its message names file:line) and
 * skipped, so one typo does not keep the other devices closed at boot. */
int skptab_load_lenient(const char *path, struct skptab *tab,
			void (*bad)(void *ctx, const struct skp_err *e), void *ctx, struct skp_err *err);
void skptab_free(struct skptab *tab);

#endif
