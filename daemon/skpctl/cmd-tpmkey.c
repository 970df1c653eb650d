// SPDX-License-Identifier: GPL-2.0
/*
 * skpctl tpm-key create|csr: a KMIP client key made inside the TPM, and a certificate
 * request for the KMS administrator's CA (the "new CSR" way of trusting a KMS): the
 * private key never leaves the TPM; the file holds it only as the TPM wrapped it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "skpctl.h"
#include "tpmkey.h"

static int fail(const char *what, const struct skp_err *err)
{
	fprintf(stderr, "skpctl tpm-key %s: %s\n", what, err->msg);
	return SKPCTL_EXIT_FAIL;
}

static int need_csr(const char *what, const struct cli *c)
{
	if (c->csr && c->subject)
		return 0;
	fprintf(stderr, "skpctl tpm-key %s: need --csr FILE and --subject NAME=VALUE,... (see skpctl tpm-key %s "
		"--help)\n", what, what);
	return -1;
}

int skpctl_cmd_tpm_key_create(const struct cli *c)
{
	const char *path = c->args[0];
	struct skp_tpmkey *k = NULL;
	struct skp_err err = { 0 };

	if (need_csr("create", c) < 0)
		return SKPCTL_EXIT_USAGE;
	if (skp_tpmkey_is(path))	/* tpm:FILE as in skpd.conf is FILE here */
		path += strlen(SKP_TPMKEY_PREFIX);
	/* before the key is made: a key without its request would be left behind */
	if (access(c->csr, F_OK) == 0) {
		fprintf(stderr, "skpctl tpm-key create: %s exists: refusing to replace it\n", c->csr);
		return SKPCTL_EXIT_FAIL;
	}
	if (skp_tpmkey_create(path, c->tcti, c->key_rsa ? SKP_TPMKEY_RSA : SKP_TPMKEY_EC, &k, &err) < 0)
		return fail("create", &err);
	if (skp_tpmkey_csr(k, c->subject, c->csr, &err) < 0) {
		skp_tpmkey_free(k);
		fprintf(stderr, "skpctl tpm-key create: the key is in %s, but: %s (skpctl tpm-key csr tpm:%s "
			"makes another)\n", path, err.msg, path);
		return SKPCTL_EXIT_FAIL;
	}
	skp_tpmkey_free(k);
	printf("%s key created in the TPM, wrapped by it in %s (usable with this TPM only)\n"
	       "certificate request: %s (subject %s, TLS client authentication)\n"
	       "once the KMS's CA signed it: key = tpm:%s and cert = the signed certificate\n",
	       c->key_rsa ? "RSA-2048" : "EC P-256", path, c->csr, c->subject, path);
	return SKPCTL_EXIT_OK;
}

int skpctl_cmd_tpm_key_csr(const struct cli *c)
{
	struct skp_tpmkey *k = NULL;
	struct skp_err err = { 0 };

	if (need_csr("csr", c) < 0)
		return SKPCTL_EXIT_USAGE;
	if (!skp_tpmkey_is(c->args[0])) {
		fprintf(stderr, "skpctl tpm-key csr: KEY is tpm:FILE or tpm:handle:0x81......, not '%s'\n",
			c->args[0]);
		return SKPCTL_EXIT_USAGE;
	}
	if (skp_tpmkey_load(c->args[0], c->tcti, &k, &err) < 0)
		return fail("csr", &err);
	if (skp_tpmkey_csr(k, c->subject, c->csr, &err) < 0) {
		skp_tpmkey_free(k);
		return fail("csr", &err);
	}
	skp_tpmkey_free(k);
	printf("certificate request: %s (subject %s, TLS client authentication)\n", c->csr, c->subject);
	return SKPCTL_EXIT_OK;
}
