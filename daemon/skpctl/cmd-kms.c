// SPDX-License-Identifier: GPL-2.0
/*
 * skpctl kms COMMAND: talk to a KMIP key server directly, without skpd (test a KMS before
 * configuring it).  Connection options: cli.h OPTS_KMS; commands: main.c's "kms" rows.
 * `get` prints the key length and a fingerprint, never the key.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "provider.h"
#include "secmem.h"
#include "cli.h"
#include "cmds.h"
#include "confirm.h"
#include "skpctl.h"

#define MAX_SERVERS SKP_PROVIDER_MAX_NODES

static int fail(const struct skp_err *e)
{
	fprintf(stderr, "skpctl kms: %s\n", e->msg[0] ? e->msg : strerror(-e->code));
	return skpctl_exit_code((unsigned int)e->cls);
}

static void fingerprint(const unsigned char *key, size_t len, char out[17])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_cleanse(md, sizeof(md));
}

static void print_health(struct skp_provider *p)
{
	size_t i;

	for (i = 0; i < skp_provider_nodes(p); i++) {
		const struct skp_node_health *h = skp_provider_node(p, i);
		char kmip[16] = "-";

		if (h->kmip_minor >= 0)
			snprintf(kmip, sizeof(kmip), "1.%d", h->kmip_minor);
		printf("node %s healthy=%d ok=%lu fail=%lu failover=%lu latency_ms=%u kmip=%s last_error=%s\n",
		       h->addr, h->healthy, h->n_ok, h->n_fail, h->n_failover, h->latency_ms, kmip,
		       h->last_error[0] ? h->last_error : "-");
	}
	printf("failovers %lu\n", skp_provider_failovers(p));
}

/* The first line of file into a fresh secmem buffer of SKP_PASSWORD_MAX bytes. */
static int read_password(const char *file, char **ret, struct skp_err *err)
{
	FILE *f = fopen(file, "re");
	char *buf;
	size_t n;

	if (!f)
		return skp_err_set(err, -errno, "cannot open %s: %s", file, strerror(errno));
	buf = skp_secmem_alloc(SKP_PASSWORD_MAX);
	if (!buf) {
		fclose(f);
		return skp_err_set(err, -ENOMEM, "no secure memory for the password");
	}
	n = fread(buf, 1, SKP_PASSWORD_MAX - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*ret = buf;
	return 0;
}

/* Copies an option value into a fixed conf field; too long is a usage error. */
static int set_opt(char *dst, size_t size, const char *v, const char *opt)
{
	if (!v || snprintf(dst, size, "%s", v) < (int)size)
		return 0;
	fprintf(stderr, "skpctl kms: --%s too long\n", opt);
	return -1;
}

static int get_batch(struct skp_provider *p, const char *file, struct skp_err *err)
{
	char **uids = NULL, line[SKP_UID_MAX + 2];
	unsigned char **keys = NULL;
	struct skp_err *errs = NULL;
	size_t n = 0, cap = 0, i, ok = 0;
	struct timespec t0, t1;
	FILE *f = fopen(file, "re");
	int r = 0;

	if (!f)
		return skp_err_set(err, -errno, "cannot open %s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0])
			continue;
		if (n == cap) {
			char **nu = realloc(uids, (cap = cap ? cap * 2 : 64) * sizeof(*uids));

			if (!nu) {
				r = skp_err_set(err, -ENOMEM, "out of memory");
				goto out;
			}
			uids = nu;
		}
		if (!(uids[n++] = strdup(line))) {
			r = skp_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	keys = calloc(n ? n : 1, sizeof(*keys));
	errs = calloc(n ? n : 1, sizeof(*errs));
	if (!keys || !errs) {
		r = skp_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = skp_provider_get_keks(p, (const char *const *)uids, n, keys, errs, err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (i = 0; i < n; i++)
		if (keys[i])
			ok++;
	printf("fetched %zu of %zu keys in %.3f s\n", ok, n,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < n; i++)
		if (!keys[i])
			printf("error %s: %s\n", uids[i], errs[i].msg);
out:
	if (f)
		fclose(f);
	for (i = 0; keys && i < n; i++)
		skp_secmem_free(keys[i], SKP_KEK_LEN);
	for (i = 0; i < n; i++)
		free(uids[i]);
	free(uids);
	free(keys);
	free(errs);
	return r;
}

/* destroy and revoke cannot be undone: what the key wraps may be lost with it. */
static int confirm_kms(const char *cmd, const char *uid)
{
	char what[512];
	int r;

	snprintf(what, sizeof(what), "This will %s key %s in the KMS. Every device whose header is wrapped by "
		 "it can then no longer be opened after its cached copies go.", cmd, uid);
	r = skpctl_confirm(what);
	if (r == -ENOTTY)
		fprintf(stderr, "skpctl kms %s: not on a terminal: add --batch to %s without asking\n", cmd, cmd);
	else if (r < 0)
		fprintf(stderr, "skpctl kms %s: not confirmed; nothing done\n", cmd);
	return r;
}

static int create_usage(const char *opt, const struct skp_err *e)
{
	fprintf(stderr, "skpctl kms: --%s: %s\n", opt, e->msg);
	return SKPCTL_EXIT_USAGE;
}

int skpctl_cmd_kms(const struct cli *c)
{
	struct skp_provider_conf conf;
	struct skp_provider *p = NULL;
	struct skp_err err = { 0 };
	const char *cmd = c->cmd->name + 4, *arg = c->nargs ? c->args[0] : NULL;
	int health = cli_has(c, OPT_HEALTH), r = 0, rc;
	unsigned long reason = KMIP_REVOKE_CESSATION;

	if (!c->n_servers || !c->ca || !c->cert || !c->key) {
		fprintf(stderr, "skpctl kms: need --server, --ca, --cert and --key (see skpctl kms %s --help)\n", cmd);
		return SKPCTL_EXIT_USAGE;
	}
	if (!strcmp(cmd, "revoke") && c->nargs == 2) {
		char *end;

		reason = strtoul(c->args[1], &end, 0);
		if (*end || !reason || reason > 0xffff) {
			fprintf(stderr, "skpctl kms: bad revocation reason '%s'\n", c->args[1]);
			return SKPCTL_EXIT_USAGE;
		}
	}
	if ((!strcmp(cmd, "destroy") || !strcmp(cmd, "revoke")) && confirm_kms(cmd, arg) < 0)
		return SKPCTL_EXIT_FAIL;
	skp_provider_conf_init(&conf, "skpctl");
	for (size_t i = 0; i < c->n_servers; i++)
		if (set_opt(conf.servers[conf.n_servers++], SKP_SERVER_MAX, c->servers[i], "server") < 0)
			return SKPCTL_EXIT_USAGE;
	if (set_opt(conf.ca, sizeof(conf.ca), c->ca, "ca") || set_opt(conf.cert, sizeof(conf.cert), c->cert, "cert") ||
	    set_opt(conf.key, sizeof(conf.key), c->key, "key") ||
	    set_opt(conf.username, sizeof(conf.username), c->username, "username"))
		return SKPCTL_EXIT_USAGE;
	if (cli_has(c, OPT_PROTOCOL))
		conf.protocol_minor = c->protocol_minor;
	if (c->timeout_ms)
		conf.timeout_ms = c->timeout_ms;
	if (c->retries >= 0)
		conf.retries = c->retries;
	/* Checked as skpd.conf's provider settings are, so both create the same keys. */
	if (c->policy && skp_provider_conf_create_setting(&conf, "operation_policy_name", c->policy, &err))
		return create_usage("operation-policy-name", &err);
	if (c->group && skp_provider_conf_create_setting(&conf, "object_group", c->group, &err))
		return create_usage("object-group", &err);
	for (size_t i = 0; i < c->n_attrs; i++)
		if (skp_provider_conf_create_setting(&conf, "attribute", c->attrs[i], &err))
			return create_usage("attribute", &err);
	if (c->tcti && set_opt(conf.tpm_tcti, sizeof(conf.tpm_tcti), c->tcti, "tpm-tcti"))
		return SKPCTL_EXIT_USAGE;
	if (c->pwfile && read_password(c->pwfile, &conf.password, &err))
		return fail(&err);
	p = skp_provider_new(&conf, &err);
	skp_provider_conf_free(&conf);	/* the provider keeps its own copy of the password */
	if (!p)
		return fail(&err);

	if (!strcmp(cmd, "versions")) {
		struct skp_kmip_version v[16];
		size_t n = 0, i;

		r = skp_provider_versions(p, v, 16, &n, &err);
		for (i = 0; !r && i < n; i++)
			printf("%d.%d\n", v[i].major, v[i].minor);
	} else if (!strcmp(cmd, "query")) {
		struct skp_kmip_query q;
		size_t i;

		r = skp_provider_query(p, &q, &err);
		if (!r) {
			printf("vendor: %s\noperations:", q.vendor[0] ? q.vendor : "-");
			for (i = 0; i < q.n_ops; i++)
				printf(" %s", skp_kmip_op_name(q.ops[i]) == skp_kmip_op_name(0) ?
				       "other" : skp_kmip_op_name(q.ops[i]));
			printf("\noperation codes:");
			for (i = 0; i < q.n_ops; i++)
				printf(" 0x%02X", q.ops[i]);
			printf("\nobject types:");
			for (i = 0; i < q.n_objects; i++)
				printf(" %u", q.objects[i]);
			printf("\nserver information: %s\n", q.has_server_info ? "present" : "none");
		}
	} else if (!strcmp(cmd, "create") || !strcmp(cmd, "create-kek")) {
		char uid[SKP_UID_MAX];

		r = !strcmp(cmd, "create") ? skp_provider_create(p, arg, uid, sizeof(uid), &err) :
					     skp_provider_create_kek(p, arg, uid, sizeof(uid), &err);
		if (!r)
			printf("%s\n", uid);
	} else if (!strcmp(cmd, "activate")) {
		r = skp_provider_activate(p, arg, &err);
	} else if (!strcmp(cmd, "destroy")) {
		r = skp_provider_destroy(p, arg, &err);
	} else if (!strcmp(cmd, "revoke")) {
		r = skp_provider_revoke(p, arg, (uint32_t)reason, "revoked by skpctl", &err);
	} else if (!strcmp(cmd, "get")) {
		unsigned char *key = NULL;
		size_t len = 0;
		char fp[17];

		r = skp_provider_get_key(p, arg, &key, &len, &err);
		if (!r) {
			fingerprint(key, len, fp);
			printf("length %zu bytes (%zu bits)\nsha256 %s\n", len, len * 8, fp);
			skp_secmem_free(key, len);
		}
	} else if (!strcmp(cmd, "attrs")) {
		struct skp_key_attrs a;

		r = skp_provider_get_attrs(p, arg, &a, &err);
		if (!r)
			printf("uid %s\nstate %s (%d)\nname %s\nalgorithm %s (%d)\nlength %d\nusage_mask 0x%x\n",
			       a.uid, skp_kmip_state_name(a.state), a.state, a.name[0] ? a.name : "-",
			       a.algorithm == KMIP_ALG_AES ? "AES" : "other", a.algorithm, a.crypto_length,
			       a.usage_mask);
	} else if (!strcmp(cmd, "locate")) {
		static char uids[1000][SKP_UID_MAX];
		size_t n = 0, i;

		r = skp_provider_locate(p, arg, uids, 1000, &n, &err);
		for (i = 0; !r && i < n; i++)
			printf("%s\n", uids[i]);
	} else if (!strcmp(cmd, "check")) {
		int h = skp_provider_check(p);

		printf("healthy %d of %zu\n", h, skp_provider_nodes(p));
		if (h == 0)
			r = skp_err_set(&err, -EHOSTDOWN, "no healthy KMS node");
	} else if (!strcmp(cmd, "get-batch")) {
		r = get_batch(p, arg, &err);
	}
	if (health)
		print_health(p);
	skp_provider_free(p);
	rc = r ? fail(&err) : SKPCTL_EXIT_OK;
	fflush(stdout);
	return rc;
}
