// SPDX-License-Identifier: GPL-2.0
/*
 * One parser for every skpctl command: getopt_long over the whole line (GNU order: options
 * anywhere), values checked here once, then the command row whose words match.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "confirm.h"
#include "skpctl.h"

struct opt_desc {
	const char *name;
	const char *metavar;		/* NULL: a flag */
	const char *help;
};

static const struct opt_desc opt_descs[OPT_N] = {
	[OPT_SOCKET] = {"socket", "PATH", "skpd's control socket (default: from --config, else /run/skp/skpd.sock)"},
	[OPT_CONFIG] = {"config", "FILE", "skpd.conf to take the socket from (default /etc/skp/skpd.conf)"},
	[OPT_BATCH] = {"batch", NULL, "never ask for confirmation (also -q)"},
	[OPT_HELP] = {"help", NULL, "this help (also -h)"},
	[OPT_VERSION] = {"version", NULL, "skpctl's version (also -V)"},
	[OPT_JSON] = {"json", NULL, "JSON output (stable keys: skpctl(8), JSON)"},
	[OPT_PROVIDER] = {"provider", "NAME", "the key provider (default: the configured default)"},
	[OPT_LABEL] = {"label", "TEXT", "a label stored in the header (printable ASCII)"},
	[OPT_SECTOR] = {"sector-size", "N", "encryption sector size: 512, 1024, 2048 or 4096 (default)"},
	[OPT_FORCE] = {"force", NULL, "format: wipe the signatures (filesystem, LUKS, partition table...) the "
		       "device holds; header restore: an older backup"},
	[OPT_SHALLOW] = {"shallow", NULL, "new KEK, DEK rewrapped (no data rewritten)"},
	[OPT_DEEP] = {"deep", NULL, "new DEK, data re-encrypted online"},
	[OPT_ALL] = {"all", NULL, "every open device of --from-provider"},
	[OPT_FROM] = {"from-provider", "NAME", "migrate from this provider"},
	[OPT_TO] = {"to-provider", "NAME", "migrate to this provider"},
	[OPT_RATE] = {"rate", "MIB/S", "throttle the deep rekey (whole MiB/s)"},
	[OPT_CHUNK] = {"chunk", "SIZE", "deep rekey chunk, e.g. 256K or 1M (multiple of 4K, at most 4M)"},
	[OPT_PAUSE] = {"pause", NULL, "pause the deep rekey"},
	[OPT_RESUME] = {"resume", NULL, "resume the deep rekey"},
	[OPT_STATUS] = {"status", NULL, "show the deep rekey's progress"},
	[OPT_WAIT] = {"wait", NULL, "wait until the deep rekey ends (a progress bar on a terminal)"},
	[OPT_SUPERSEDED] = {"allow-superseded", NULL, "open read-write although the KMS retired the KEK"},
	[OPT_DISCARDS] = {"allow-discards", NULL, "pass discards (TRIM) down to the device"},
	[OPT_READONLY] = {"readonly", NULL, "a read-only mapping; nothing is written to the device"},
	[OPT_UDEV] = {"udev", NULL, "print udev properties (for 60-skp.rules)"},
	[OPT_SERVER] = {"server", "HOST[:PORT]", "a KMS node (repeat for more; port 5696 by default)"},
	[OPT_CA] = {"ca", "FILE", "CA certificate(s) that sign the KMS's certificate"},
	[OPT_CERT] = {"cert", "FILE", "client certificate"},
	[OPT_KEY] = {"key", "FILE", "client private key: a PEM file, or tpm:FILE, tpm:handle:0x81... (in the TPM)"},
	[OPT_PROTOCOL] = {"protocol", "1.0-1.4|auto", "KMIP version (default auto: Discover Versions)"},
	[OPT_TIMEOUT] = {"timeout", "SECONDS", "per-request timeout"},
	[OPT_RETRIES] = {"retries", "N", "passes over the nodes (0 to 10)"},
	[OPT_USERNAME] = {"username", "NAME", "KMIP Username/Password credential"},
	[OPT_PWFILE] = {"password-file", "FILE", "the password, first line of FILE"},
	[OPT_HEALTH] = {"health", NULL, "print each node's health after the command"},
	[OPT_POLICY] = {"operation-policy-name", "NAME", "Operation Policy Name on the new key"},
	[OPT_GROUP] = {"object-group", "NAME", "Object Group of the new key"},
	[OPT_ATTR] = {"attribute", "'NAME: VALUE'", "x-NAME or Contact Information on the new key "
		      "(repeatable)"},
	[OPT_PASSFILE] = {"passphrase-file", "FILE", "the backup's passphrase, first line of FILE (0600; "
			  "default: asked on the terminal)"},
	[OPT_TCTI] = {"tpm-tcti", "TCTI", "the TPM of a key in the TPM, as a TSS2 TCTI (default device:/dev/tpmrm0)"},
	[OPT_SUBJECT] = {"subject", "NAME=VALUE,...", "the certificate request's subject, e.g. CN=host1,O=Example"},
	[OPT_CSR] = {"csr", "FILE", "write the certificate request (PEM) to FILE, for the KMS's CA to sign"},
	[OPT_KEYTYPE] = {"key-type", "ec|rsa", "EC P-256 (default) or RSA-2048"},
};

/* getopt_long's value for a long option: past every short option's character. */
#define LONG_BASE	256

static const char exit_codes[] =
	"exit status:\n"
	"  0  done\n"
	"  1  failed (the message says why)\n"
	"  2  bad command line\n"
	"  3  status: a health alarm or device problem is raised\n"
	"  4  no such device or mapping, or not an skp device\n"
	"  5  device busy, already open, or already exists\n"
	"  6  KMS unreachable: no node of the provider answered\n"
	"  7  refused by the KMS: key revoked, destroyed, not found, or permission denied\n"
	"  8  skpd is not running (or not at --socket)\n"
	"  9  permission denied: skpctl must run as root\n";

static void print_opt(FILE *f, enum cli_opt o)
{
	const struct opt_desc *d = &opt_descs[o];
	char left[64];

	snprintf(left, sizeof(left), "--%s%s%s", d->name, d->metavar ? " " : "", d->metavar ? d->metavar : "");
	fprintf(f, "  %-28s %s\n", left, d->help);
}

static void cmd_help(FILE *f, const struct cli_cmd *cmd)
{
	fprintf(f, "usage: skpctl %s%s%s [options]\n\n%s\n", cmd->name, cmd->args[0] ? " " : "", cmd->args,
		cmd->summary);
	if (cmd->opts) {
		fprintf(f, "\noptions:\n");
		for (int o = 0; o < OPT_N; o++)
			if (cmd->opts & OPT(o))
				print_opt(f, o);
	}
	fprintf(f, "\nglobal options (anywhere on the line):\n");
	for (int o = 0; o < OPT_N; o++)
		if (OPTS_GLOBAL & OPT(o))
			print_opt(f, o);
	fprintf(f, "\n%s", exit_codes);
}

static void top_help(FILE *f, const struct cli_cmd *cmds, size_t n)
{
	fprintf(f, "usage: skpctl [options] COMMAND [arguments] [options]\n\ncommands:\n");
	for (size_t i = 0; i < n; i++) {
		char left[64];

		snprintf(left, sizeof(left), "%s%s%s", cmds[i].name, cmds[i].args[0] ? " " : "", cmds[i].args);
		fprintf(f, "  %-32s %s\n", left, cmds[i].summary);
	}
	fprintf(f, "\nskpctl COMMAND --help or skpctl help COMMAND: its options.\n\nglobal options:\n");
	for (int o = 0; o < OPT_N; o++)
		if (OPTS_GLOBAL & OPT(o))
			print_opt(f, o);
	fprintf(f, "\n%s", exit_codes);
}

/* Words of a row's name matched by the first words: their number, 0 if it does not match. */
static int match(const char *name, char *const *w, int nw)
{
	int k = 0;

	while (*name) {
		size_t len = strcspn(name, " ");

		if (k == nw || strlen(w[k]) != len || strncmp(w[k], name, len))
			return 0;
		k++;
		name += len;
		name += *name == ' ';
	}
	return k;
}

/* The row the words name (the longest match), or NULL. */
static const struct cli_cmd *find(const struct cli_cmd *cmds, size_t n, char *const *w, int nw, int *used)
{
	const struct cli_cmd *best = NULL;

	*used = 0;
	for (size_t i = 0; i < n; i++) {
		int k = match(cmds[i].name, w, nw);

		if (k > *used) {
			*used = k;
			best = &cmds[i];
		}
	}
	return best;
}

/*
 * The first word names a group ("provider", "kms") but no row of it follows: with help, the
 * group's rows; else what is missing.  0 if w[0] names no group.
 */
static int group(const struct cli_cmd *cmds, size_t n, char *const *w, int nw, int help)
{
	FILE *f = help ? stdout : stderr;
	size_t len = strlen(w[0]);
	int found = 0;

	for (size_t i = 0; i < n; i++) {
		const char *sub = cmds[i].name + len + 1;

		if (strncmp(cmds[i].name, w[0], len) || cmds[i].name[len] != ' ')
			continue;
		if (!found && help)
			fprintf(f, "usage: skpctl %s SUBCOMMAND [arguments] [options]\n\nsubcommands:\n", w[0]);
		else if (!found)
			fprintf(f, "skpctl: %s: %s%s%s; one of:", w[0], nw > 1 ? "unknown subcommand '" : "needs a subcommand",
				nw > 1 ? w[1] : "", nw > 1 ? "'" : "");
		if (help) {
			char left[64];

			snprintf(left, sizeof(left), "%s%s%s", sub, cmds[i].args[0] ? " " : "", cmds[i].args);
			fprintf(f, "  %-28s %s\n", left, cmds[i].summary);
		} else {
			fprintf(f, " %s", sub);
		}
		found = 1;
	}
	if (found && help)
		fprintf(f, "\nskpctl %s SUBCOMMAND --help: its options.\n", w[0]);
	else if (found)
		fprintf(f, " (see skpctl %s --help)\n", w[0]);
	return found;
}

static int number(const char *opt, const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || *out < min || *out > max) {
		fprintf(stderr, "skpctl: --%s takes a whole number from %lu to %lu, not '%s'\n", opt, min, max, v);
		return -1;
	}
	return 0;
}

static int value(struct cli *c, enum cli_opt o, char *v)
{
	unsigned long n;
	char *end;
	double s;

	switch (o) {
	case OPT_SOCKET: c->sock = v; break;
	case OPT_CONFIG: c->conf = v; break;
	case OPT_PROVIDER: c->provider = v; break;
	case OPT_LABEL: c->label = v; break;
	case OPT_FROM: c->from = v; break;
	case OPT_TO: c->to = v; break;
	case OPT_CA: c->ca = v; break;
	case OPT_CERT: c->cert = v; break;
	case OPT_KEY: c->key = v; break;
	case OPT_USERNAME: c->username = v; break;
	case OPT_PWFILE: c->pwfile = v; break;
	case OPT_PASSFILE: c->passfile = v; break;
	case OPT_POLICY: c->policy = v; break;
	case OPT_GROUP: c->group = v; break;
	case OPT_TCTI: c->tcti = v; break;
	case OPT_SUBJECT: c->subject = v; break;
	case OPT_CSR: c->csr = v; break;
	case OPT_KEYTYPE:
		if (strcmp(v, "ec") && strcmp(v, "rsa")) {
			fprintf(stderr, "skpctl: --key-type must be ec or rsa\n");
			return -1;
		}
		c->key_rsa = !strcmp(v, "rsa");
		break;
	case OPT_ATTR:
		if (c->n_attrs == SKP_MAX_CREATE_ATTRS) {
			fprintf(stderr, "skpctl: at most %d --attribute\n", SKP_MAX_CREATE_ATTRS);
			return -1;
		}
		c->attrs[c->n_attrs++] = v;
		break;
	case OPT_SERVER:
		if (c->n_servers == SKP_MAX_SERVERS) {
			fprintf(stderr, "skpctl: at most %d --server\n", SKP_MAX_SERVERS);
			return -1;
		}
		c->servers[c->n_servers++] = v;
		break;
	case OPT_SECTOR:
		if (number("sector-size", v, 512, 4096, &c->sector) < 0 || (c->sector & (c->sector - 1))) {
			fprintf(stderr, "skpctl: --sector-size must be 512, 1024, 2048 or 4096\n");
			return -1;
		}
		break;
	case OPT_RATE:
		return number("rate", v, 1, 1000000, &c->rate);
	case OPT_CHUNK:
		errno = 0;
		n = strtoul(v, &end, 10);
		if (!errno && end != v && *v != '-' && (*end == 'M' || *end == 'm') && !end[1] && n <= 4)
			n *= 1024;
		else if (errno || end == v || *v == '-' || !((*end == 'K' || *end == 'k') && !end[1]))
			n = 0;
		if (!n || n > 4096 || n % 4) {
			fprintf(stderr, "skpctl: --chunk takes a size such as 512K or 4M (multiple of 4K, at most 4M)\n");
			return -1;
		}
		c->chunk_kib = n;
		break;
	case OPT_PROTOCOL:
		if (!strcmp(v, "auto")) {
			c->protocol_minor = -1;
		} else if (strlen(v) == 3 && !strncmp(v, "1.", 2) && v[2] >= '0' && v[2] <= '4') {
			c->protocol_minor = v[2] - '0';
		} else {
			fprintf(stderr, "skpctl: --protocol must be 1.0 to 1.4 or auto\n");
			return -1;
		}
		break;
	case OPT_TIMEOUT:
		s = strtod(v, &end);
		if (end == v || *end || !(s > 0 && s <= 3600)) {
			fprintf(stderr, "skpctl: --timeout takes seconds, more than 0 and at most 3600, not '%s'\n", v);
			return -1;
		}
		c->timeout_ms = (int)(s * 1000);
		break;
	case OPT_RETRIES:
		if (number("retries", v, 0, 10, &n) < 0)
			return -1;
		c->retries = (int)n;
		break;
	default:
		break;
	}
	return 0;
}

int cli_main(int argc, char **argv, const struct cli_cmd *cmds, size_t n)
{
	struct option lo[OPT_N + 1];
	struct cli c;
	const struct cli_cmd *cmd;
	char **w;
	int nw, used, opt, help;

	memset(&c, 0, sizeof(c));
	memset(lo, 0, sizeof(lo));
	c.retries = -1;
	for (int o = 0; o < OPT_N; o++)
		lo[o] = (struct option){opt_descs[o].name, opt_descs[o].metavar ? required_argument : no_argument, NULL,
					LONG_BASE + o};
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "hqV", lo, NULL)) != -1) {
		if (opt == '?') {
			if (optopt >= LONG_BASE && optopt < LONG_BASE + OPT_N)
				fprintf(stderr, "skpctl: --%s needs a value (%s)\n", opt_descs[optopt - LONG_BASE].name,
					opt_descs[optopt - LONG_BASE].metavar);
			else
				fprintf(stderr, "skpctl: unknown option '%s' (see skpctl --help)\n", argv[optind - 1]);
			return SKPCTL_EXIT_USAGE;
		}
		opt = opt == 'h' ? OPT_HELP : opt == 'q' ? OPT_BATCH : opt == 'V' ? OPT_VERSION : opt - LONG_BASE;
		c.given |= OPT(opt);
		if (value(&c, (enum cli_opt)opt, optarg) < 0)
			return SKPCTL_EXIT_USAGE;
	}
	w = argv + optind;
	nw = argc - optind;
	if (cli_has(&c, OPT_VERSION)) {
		printf("skpctl %s\n", SKP_VERSION);
		return SKPCTL_EXIT_OK;
	}
	/* help [COMMAND...] is --help for COMMAND. */
	help = cli_has(&c, OPT_HELP);
	if (nw && !strcmp(w[0], "help")) {
		help = 1;
		w++;
		nw--;
	}
	if (!nw) {
		top_help(help ? stdout : stderr, cmds, n);
		return help ? SKPCTL_EXIT_OK : SKPCTL_EXIT_USAGE;
	}
	cmd = find(cmds, n, w, nw, &used);
	if (!cmd) {
		if (group(cmds, n, w, nw, help && nw == 1))
			return help && nw == 1 ? SKPCTL_EXIT_OK : SKPCTL_EXIT_USAGE;
		fprintf(stderr, "skpctl: unknown command '%s' (see skpctl --help)\n", w[0]);
		return SKPCTL_EXIT_USAGE;
	}
	if (help) {
		cmd_help(stdout, cmd);
		return SKPCTL_EXIT_OK;
	}
	for (int o = 0; o < OPT_N; o++) {
		if ((c.given & OPT(o)) && !((cmd->opts | OPTS_GLOBAL) & OPT(o))) {
			fprintf(stderr, "skpctl: %s does not take --%s (see skpctl %s --help)\n", cmd->name,
				opt_descs[o].name, cmd->name);
			return SKPCTL_EXIT_USAGE;
		}
	}
	c.cmd = cmd;
	c.args = w + used;
	c.nargs = nw - used;
	if (c.nargs < cmd->min_args || c.nargs > cmd->max_args) {
		if (c.nargs > cmd->max_args)
			fprintf(stderr, "skpctl: %s: unexpected argument '%s'\n", cmd->name, c.args[cmd->max_args]);
		fprintf(stderr, "usage: skpctl %s%s%s [options] (see skpctl %s --help)\n", cmd->name,
			cmd->args[0] ? " " : "", cmd->args, cmd->name);
		return SKPCTL_EXIT_USAGE;
	}
	skpctl_batch = cli_has(&c, OPT_BATCH);
	return cmd->run(&c);
}
