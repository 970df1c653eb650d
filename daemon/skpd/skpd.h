/* SPDX-License-Identifier: GPL-2.0 */
/* skpd internals shared by its files: daemon state, the KEK cache, operations. */
#ifndef SKPD_H
#define SKPD_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "dm.h"
#include "err.h"
#include "header.h"
#include "proto.h"

struct skp_provider;

/* Growable text for responses. */
struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(struct sbuf *b, const char *s);
void sb_free(struct sbuf *b);

struct prov {
	struct skp_provider_conf *conf;	/* points into d->cfg */
	struct skp_provider *p;		/* NULL if it could not be set up */
	char setup_error[200];
	int alarm;
	char alarm_msg[200];
};

struct kek {
	char provider[SKP_PROVIDER_MAX];
	char uid[SKP_KEK_UID_MAX];
	unsigned char *key;		/* SKP_KEK_LEN bytes of secmem */
	int state;			/* KMIP State when last asked, 0 unknown */
	time_t state_at;		/* when (monotonic seconds), for kek_retired() */
};

struct device {
	char name[SKP_DM_NAME_MAX];
	char dev[256];
	unsigned char uuid[16];
	char label[SKP_LABEL_MAX];
	char provider[SKP_PROVIDER_MAX];
	char kek_uid[SKP_KEK_UID_MAX];
	char kek_name[SKP_KEK_NAME_MAX];
	uint64_t generation;
	uint64_t data_length;
	uint32_t sector_size;
	char problem[200];		/* remediation finding, "" if fine */
	time_t opened;
	struct rekey *rk;		/* deep rekey state (rekey.c), NULL if none */
};

struct skpd {
	char config_path[SKP_PATH_MAX];
	struct skp_config cfg;
	struct prov provs[SKP_MAX_PROVIDERS];
	size_t n_provs;
	struct kek *keks;
	size_t n_keks, cap_keks;
	struct device *devs;
	size_t n_devs, cap_devs;
	time_t started;
	time_t last_health, last_remediation;
	unsigned long requests;
};

/* log.c-like helpers in main.c */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LOG_E 3
#define LOG_W 4
#define LOG_I 6

/* providers.c */
int skpd_providers_setup(struct skpd *d, struct skp_err *err);
void skpd_providers_free(struct skpd *d);
struct prov *skpd_prov(struct skpd *d, const char *name);
void skpd_health_check(struct skpd *d);
void skpd_remediation_check(struct skpd *d);
int skpd_reload(struct skpd *d, struct sbuf *out, struct skp_err *err);

/* cache.c */
const unsigned char *kek_cache_get(struct skpd *d, const char *provider, const char *uid);
int kek_cache_put(struct skpd *d, const char *provider, const char *uid, const unsigned char *key,
		  struct skp_err *err);
void kek_cache_free(struct skpd *d);
/* Keeps the KMIP State the KMS just gave for a cached KEK (kek_retired() uses it a while). */
void kek_state_note(struct skpd *d, const char *provider, const char *uid, int state);
/* Forgets one cached KEK (wiped). */
void kek_cache_drop(struct skpd *d, const char *provider, const char *uid);
/*
 * Has the KMS taken KEK uid out of service (Deactivated: superseded by a deep rekey;
 * Compromised; Destroyed)?  1 yes (*state says which), 0 no, <0 not known (KMS unreachable).
 */
int kek_retired(struct skpd *d, const char *provider, const char *uid, int *state, struct skp_err *err);
const char *kmip_state_name(int s);
/* From the cache, or fetched from the provider and cached. */
int kek_get(struct skpd *d, const char *provider, const char *uid, const unsigned char **ret,
	    struct skp_err *err);

/* ops.c */
int op_format(struct skpd *d, const struct skp_req *q, struct sbuf *out, struct skp_err *err);
/* flags: SKP_REQ_SUPERSEDED opens read-write a header whose KEK the KMS retired. */
int op_open(struct skpd *d, const char *dev, const char *name, int discard, unsigned int flags,
	    struct sbuf *out, struct skp_err *err);
int op_close(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err);
int op_rekey(struct skpd *d, const char *name, const char *provider, struct sbuf *out,
	     struct skp_err *err);
int op_migrate(struct skpd *d, const char *from, const char *to, struct sbuf *out,
	       struct skp_err *err);
/* persist.c: key_persistence (warning and load at start; file follows the open devices) */
void skpd_persist_start(struct skpd *d);
void skpd_persist_sync(struct skpd *d);

/* boot.c */
int skpd_boot_open(struct skpd *d);
struct device *dev_find(struct skpd *d, const char *name);
/* Slot i's DEK, unwrapped into secmem (caller frees) and checked against the header MAC. */
int skpd_unwrap_slot(struct skpd *d, const struct skp_header *h, int i, unsigned char **ret,
		     struct skp_err *err);
int dev_add(struct skpd *d, const char *name, const char *dev, const struct skp_header *h,
	    struct skp_err *err);
int new_kek_wrap(struct skpd *d, struct prov *pv, const unsigned char uuid[16],
		 const unsigned char *dek, struct skp_slot *slot, struct skp_err *err);

/* rekey.c: deep rekey (docs/deep-rekey.md) */
int rekey_start(struct skpd *d, const char *name, const char *provider, uint32_t rate_mib,
		uint32_t chunk_kib, struct sbuf *out, struct skp_err *err);
int rekey_control(struct skpd *d, const char *name, unsigned int flags, uint32_t rate_mib,
		  struct sbuf *out, struct skp_err *err);
/* A header with a NEW slot: recover and map (live = 0), or adopt a live mapping. */
int rekey_open(struct skpd *d, const char *dev, const char *name, const struct skp_header *h,
	       int discard, int live, struct sbuf *out, struct skp_err *err);
int rekey_next_ms(struct skpd *d);	/* -1: no rekey runnable */
void rekey_tick(struct skpd *d);	/* one chunk per running rekey */
int rekey_on_close(struct device *v, struct skp_err *err);
void rekey_free(struct device *v);
const char *rekey_state_name(const struct device *v);
int rekey_report(const struct device *v, int json, struct sbuf *out);
void rekey_summary(const struct device *v, char *buf, size_t size);

/* testhooks.c: test switches, in the test build only (-DSKP_TEST_HOOKS, build/test-bin/skpd) */
#ifdef SKP_TEST_HOOKS
void test_stop(const char *step);
int test_keep_key(int32_t serial, const char *desc, const char *which);
#else
static inline void test_stop(const char *step) { (void)step; }
static inline int test_keep_key(int32_t serial, const char *desc, const char *which)
{
	(void)serial; (void)desc; (void)which;
	return 0;
}
#endif

/* report.c */
int rep_status(struct skpd *d, int json, struct sbuf *out, int *alarm);
int rep_list(struct skpd *d, const char *provider, int json, struct sbuf *out, struct skp_err *err);
int rep_providers(struct skpd *d, int json, struct sbuf *out);
int rep_provider_test(struct skpd *d, const char *name, int json, struct sbuf *out,
		      struct skp_err *err);
int rep_keys_count(struct skpd *d, int json, struct sbuf *out);

#endif
