/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skpctl's command line, parsed once for every command (cli.c): options may come before
 * or after the command words, each command (a row of main.c's table) says which options
 * and how many arguments it takes, and --help / `help CMD` print its row.
 */
#ifndef SKPCTL_CLI_H
#define SKPCTL_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum cli_opt {
	/* Global: every command takes them. */
	OPT_SOCKET, OPT_CONFIG, OPT_BATCH, OPT_HELP, OPT_VERSION,
	/* Commands served by skpd. */
	OPT_JSON, OPT_PROVIDER, OPT_LABEL, OPT_SECTOR, OPT_FORCE, OPT_SHALLOW, OPT_DEEP, OPT_ALL,
	OPT_FROM, OPT_TO, OPT_RATE, OPT_CHUNK, OPT_PAUSE, OPT_RESUME, OPT_STATUS, OPT_WAIT,
	OPT_SUPERSEDED, OPT_DISCARDS, OPT_READONLY, OPT_UDEV,
	/* kms: how to reach a KMS without skpd. */
	OPT_SERVER, OPT_CA, OPT_CERT, OPT_KEY, OPT_PROTOCOL, OPT_TIMEOUT, OPT_RETRIES, OPT_USERNAME,
	OPT_PWFILE, OPT_HEALTH,
	/* kms create, create-kek: what skpd.conf's provider puts on a Create. */
	OPT_POLICY, OPT_GROUP, OPT_ATTR,
	/* provider backup, restore (a native provider) */
	OPT_PASSFILE,
	/* tpm-key: a KMIP client key in the TPM (and the TPM of kms --key tpm:...). */
	OPT_TCTI, OPT_SUBJECT, OPT_CSR, OPT_KEYTYPE,
	OPT_N
};

#define OPT(o)		(1ull << (o))
#define OPTS_GLOBAL	(OPT(OPT_SOCKET) | OPT(OPT_CONFIG) | OPT(OPT_BATCH) | OPT(OPT_HELP) | OPT(OPT_VERSION))
#define OPTS_KMS	(OPT(OPT_SERVER) | OPT(OPT_CA) | OPT(OPT_CERT) | OPT(OPT_KEY) | OPT(OPT_PROTOCOL) | \
			 OPT(OPT_TIMEOUT) | OPT(OPT_RETRIES) | OPT(OPT_USERNAME) | OPT(OPT_PWFILE) | OPT(OPT_HEALTH) | \
			 OPT(OPT_TCTI))
#define OPTS_KMS_CREATE	(OPTS_KMS | OPT(OPT_POLICY) | OPT(OPT_GROUP) | OPT(OPT_ATTR))

struct cli;

struct cli_cmd {
	const char *name;		/* its words: "open", "provider test", "kms get" */
	const char *args;		/* "DEV NAME", "" */
	const char *summary;		/* one line */
	uint64_t opts;			/* OPT() bits it takes beside the global ones */
	int min_args, max_args;
	int (*run)(const struct cli *c);
};

struct cli {
	uint64_t given;			/* OPT() bits seen */
	const char *sock, *conf, *provider, *label, *from, *to;
	unsigned long sector, rate, chunk_kib;
	/* kms */
	const char *servers[SKP_MAX_SERVERS];
	size_t n_servers;
	const char *ca, *cert, *key, *username, *pwfile;
	const char *passfile;		/* provider backup, restore */
	const char *policy, *group;
	const char *attrs[SKP_MAX_CREATE_ATTRS];
	size_t n_attrs;
	const char *tcti, *subject, *csr;	/* tpm-key (tcti also kms) */
	int key_rsa;			/* --key-type rsa */
	int protocol_minor;		/* -1: auto; with OPT_PROTOCOL only */
	int timeout_ms, retries;
	const struct cli_cmd *cmd;
	int nargs;
	char **args;			/* words after the command's own */
};

static inline int cli_has(const struct cli *c, enum cli_opt o)
{
	return !!(c->given & OPT(o));
}

/* Parses argv against the table and runs the command: returns skpctl's exit code. */
int cli_main(int argc, char **argv, const struct cli_cmd *cmds, size_t n);

#endif
