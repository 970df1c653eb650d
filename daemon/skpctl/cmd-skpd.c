// SPDX-License-Identifier: GPL-2.0
/* skpctl commands served by skpd over its control socket (docs/protocol.md). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cmd-skpd.h"
#include "config.h"
#include "confirm.h"
#include "header.h"
#include "io.h"
#include "probe.h"
#include "proto.h"
#include "show.h"
#include "skpctl.h"

/* --socket wins, then the socket named by --config, then the default. */
static const char *socket_path(const char *sock, const char *conf)
{
	static struct skp_config cfg;
	struct skp_err err = {0};

	if (sock)
		return sock;
	if (conf) {
		if (skp_config_load(conf, &cfg, &err) < 0) {
			fprintf(stderr, "skpctl: %s\n", err.msg);
			return NULL;
		}
		skp_config_free(&cfg);
		return cfg.socket;
	}
	return "/run/skp/skpd.sock";
}

/* What to do with a successful answer: print it (text, or records as text or JSON), or
 * hand back the one record of rekey --status. */
struct answer {
	int json;
	struct skp_rec_rekey *rekey;
};

/* The body of a successful answer: records only where q asks for state. */
static int take_body(const struct skp_req *q, const struct skp_resp *r, const char *body,
		     const struct answer *a, struct skp_err *err)
{
	struct skp_rec_iter it;
	union skp_rec rec;

	if (!!(r->flags & SKP_RESP_RECORDS) != skp_req_records(q->cmd, q->flags))
		return skp_err_set(err, -EBADMSG, "skpd answered %s with %s", skp_cmd_name(q->cmd),
				   r->flags & SKP_RESP_RECORDS ? "records, not text" : "text, not records");
	if (!(r->flags & SKP_RESP_RECORDS)) {
		fwrite(body, 1, r->len, stdout);
		return 0;
	}
	if (!a->rekey)
		return show_records(stdout, q->cmd, body, r->len, a->json, err);
	if (skp_resp_records_check(q->cmd, body, r->len, err) < 0)
		return -EBADMSG;
	skp_rec_iter_init(&it, body, r->len);
	if (skp_rec_next(&it, &rec, err) != 1)
		return -EBADMSG;
	*a->rekey = rec.rekey;
	return 0;
}

/* Sends q and takes its answer as a says (the error goes to stderr); returns an exit code. */
static int call_ex(const char *path, struct skp_req *q, int alarm_exit, const struct answer *a)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct skp_resp r;
	struct skp_err err = {0};
	char *body = NULL;
	int fd, rc = SKPCTL_EXIT_FAIL;

	if (!path)
		return SKPCTL_EXIT_USAGE;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "skpctl: socket path too long\n");
		return SKPCTL_EXIT_USAGE;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "skpctl: cannot reach skpd at %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (skp_send_full(fd, q, sizeof(*q)) < 0 || skp_recv_full(fd, &r, sizeof(r)) < 0) {
		fprintf(stderr, "skpctl: skpd closed the connection\n");
		goto out;
	}
	if (skp_resp_validate(&r, q->cmd, &err) < 0) {
		fprintf(stderr, "skpctl: %s\n", err.msg);
		goto out;
	}
	body = calloc(1, (size_t)r.len + 1);
	if (!body || skp_recv_full(fd, body, r.len) < 0) {
		fprintf(stderr, "skpctl: truncated response from skpd\n");
		goto out;
	}
	if (r.status < 0) {
		/* one line: the daemon's message */
		fprintf(stderr, "skpctl: %s\n", body);
		goto out;
	}
	if (take_body(q, &r, body, a, &err) < 0) {
		fprintf(stderr, "skpctl: malformed answer from skpd: %s\n", err.msg);
		goto out;
	}
	rc = (alarm_exit && (r.flags & SKP_RESP_ALARM)) ? SKPCTL_EXIT_ALARM : SKPCTL_EXIT_OK;
out:
	free(body);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int call(const char *path, struct skp_req *q, int alarm_exit, int json)
{
	struct answer a = {.json = json};

	return call_ex(path, q, alarm_exit, &a);
}

enum { O_SOCKET = 1000, O_CONFIG, O_JSON, O_PROVIDER, O_LABEL, O_SECTOR, O_SHALLOW, O_ALL, O_FROM, O_TO,
       O_DEEP, O_RATE, O_CHUNK, O_PAUSE, O_RESUME, O_STATUS, O_WAIT, O_SUPERSEDED, O_FORCE, O_BATCH };
static const struct option long_opts[] = {
	{"socket", required_argument, NULL, O_SOCKET},
	{"config", required_argument, NULL, O_CONFIG},
	{"json", no_argument, NULL, O_JSON},
	{"provider", required_argument, NULL, O_PROVIDER},
	{"label", required_argument, NULL, O_LABEL},
	{"sector-size", required_argument, NULL, O_SECTOR},
	{"shallow", no_argument, NULL, O_SHALLOW},
	{"all", no_argument, NULL, O_ALL},
	{"from-provider", required_argument, NULL, O_FROM},
	{"to-provider", required_argument, NULL, O_TO},
	{"deep", no_argument, NULL, O_DEEP},
	{"rate", required_argument, NULL, O_RATE},
	{"chunk", required_argument, NULL, O_CHUNK},
	{"pause", no_argument, NULL, O_PAUSE},
	{"resume", no_argument, NULL, O_RESUME},
	{"status", no_argument, NULL, O_STATUS},
	{"wait", no_argument, NULL, O_WAIT},
	{"allow-superseded", no_argument, NULL, O_SUPERSEDED},
	{"force", no_argument, NULL, O_FORCE},
	{"batch", no_argument, NULL, O_BATCH},	/* and -q */
	{NULL, 0, NULL, 0},
};

struct args {
	const char *sock, *conf, *provider, *label, *from, *to;
	int json, shallow, all, deep, pause, resume, status, wait, superseded, force;
	unsigned long sector, rate, chunk_kib;
	int npos;
	char *pos[4];
	unsigned int allowed;	/* bit per option index above */
};

#define A(o) (1u << ((o) - O_SOCKET))

static int parse(int argc, char **argv, struct args *a, unsigned int allowed, int min_pos, int max_pos,
		 const char *usage)
{
	int c;
	char *end;

	memset(a, 0, sizeof(*a));
	allowed |= A(O_SOCKET) | A(O_CONFIG);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "q", long_opts, NULL)) != -1) {
		if (c == 'q')
			c = O_BATCH;
		if (c < O_SOCKET || !(allowed & A(c))) {
			fprintf(stderr, "skpctl: %s: unknown or misplaced option '%s'\nusage: skpctl %s\n", argv[0],
				argv[optind - 1], usage);
			return -1;
		}
		switch (c) {
		case O_SOCKET: a->sock = optarg; break;
		case O_CONFIG: a->conf = optarg; break;
		case O_JSON: a->json = 1; break;
		case O_PROVIDER: a->provider = optarg; break;
		case O_LABEL: a->label = optarg; break;
		case O_SHALLOW: a->shallow = 1; break;
		case O_ALL: a->all = 1; break;
		case O_FROM: a->from = optarg; break;
		case O_TO: a->to = optarg; break;
		case O_DEEP: a->deep = 1; break;
		case O_PAUSE: a->pause = 1; break;
		case O_RESUME: a->resume = 1; break;
		case O_STATUS: a->status = 1; break;
		case O_WAIT: a->wait = 1; break;
		case O_SUPERSEDED: a->superseded = 1; break;
		case O_FORCE: a->force = 1; break;
		case O_BATCH: skpctl_batch = 1; break;
		case O_RATE:
			errno = 0;
			a->rate = strtoul(optarg, &end, 10);
			if (errno || *end || !a->rate || a->rate > 1000000) {
				fprintf(stderr, "skpctl: --rate takes MiB/s, a whole number from 1\n");
				return -1;
			}
			break;
		case O_CHUNK:
			errno = 0;
			a->chunk_kib = strtoul(optarg, &end, 10);
			if (!errno && (*end == 'M' || *end == 'm') && !end[1] && a->chunk_kib <= 4)
				a->chunk_kib *= 1024;
			else if (!errno && (*end == 'K' || *end == 'k') && !end[1])
				;
			else
				errno = EINVAL;
			if (errno || !a->chunk_kib || a->chunk_kib > 4096 || a->chunk_kib % 4) {
				fprintf(stderr, "skpctl: --chunk takes a size such as 512K or 4M (multiple of 4K, at most 4M)\n");
				return -1;
			}
			break;
		case O_SECTOR:
			errno = 0;
			a->sector = strtoul(optarg, &end, 10);
			if (errno || *end || (a->sector != 512 && a->sector != 1024 && a->sector != 2048 &&
					      a->sector != 4096)) {
				fprintf(stderr, "skpctl: --sector-size must be 512, 1024, 2048 or 4096\n");
				return -1;
			}
			break;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos == max_pos || a->npos == 4) {
			fprintf(stderr, "skpctl: %s: unexpected argument '%s'\nusage: skpctl %s\n", argv[0],
				argv[optind], usage);
			return -1;
		}
		a->pos[a->npos++] = argv[optind];
	}
	if (a->npos < min_pos) {
		fprintf(stderr, "usage: skpctl %s\n", usage);
		return -1;
	}
	return 0;
}

static int set(char *field, size_t size, const char *s)
{
	struct skp_err err = {0};

	if (skp_req_set(field, size, s, &err) < 0) {
		fprintf(stderr, "skpctl: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int simple(int argc, char **argv, enum skp_cmd cmd, unsigned int json_ok, const char *usage)
{
	struct args a;
	struct skp_req q;

	if (parse(argc, argv, &a, json_ok ? A(O_JSON) : 0, 0, 0, usage) < 0)
		return SKPCTL_EXIT_USAGE;
	skp_req_init(&q, cmd);
	return call(socket_path(a.sock, a.conf), &q, cmd == SKP_CMD_STATUS, a.json);
}

int skpctl_cmd_status(int argc, char **argv)
{
	return simple(argc, argv, SKP_CMD_STATUS, 1, "status [--json]");
}

int skpctl_cmd_reload(int argc, char **argv)
{
	return simple(argc, argv, SKP_CMD_RELOAD, 0, "reload");
}

int skpctl_cmd_keys(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "count")) {
		fprintf(stderr, "usage: skpctl keys count [--json]\n");
		return SKPCTL_EXIT_USAGE;
	}
	return simple(argc - 1, argv + 1, SKP_CMD_KEYS_COUNT, 1, "keys count [--json]");
}

int skpctl_cmd_provider(int argc, char **argv)
{
	static const char usage[] = "provider list [--json] | provider test NAME [--json]";
	struct args a;
	struct skp_req q;

	if (argc >= 2 && !strcmp(argv[1], "list"))
		return simple(argc - 1, argv + 1, SKP_CMD_PROVIDER_LIST, 1, usage);
	if (argc < 2 || strcmp(argv[1], "test")) {
		fprintf(stderr, "usage: skpctl %s\n", usage);
		return SKPCTL_EXIT_USAGE;
	}
	if (parse(argc - 1, argv + 1, &a, A(O_JSON), 1, 1, usage) < 0)
		return SKPCTL_EXIT_USAGE;
	skp_req_init(&q, SKP_CMD_PROVIDER_TEST);
	if (set(q.provider, sizeof(q.provider), a.pos[0]) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(a.sock, a.conf), &q, 0, a.json);
}

/*
 * Before a format: asked on a terminal always, and without one when --force is about to
 * wipe what dev holds (a script says --batch).  A device without foreign signatures
 * formats unasked from a script, as before.  Nothing is asked where skpd will refuse: a
 * signature without --force (skpd names it), an skp header.
 */
static int format_confirm(const char *dev, int force)
{
	struct skp_header h;
	struct skp_sigs sigs;
	struct skp_err err = {0};
	char held[200], what[640];
	int r;

	if (skp_header_read_dev(dev, O_RDONLY, NULL, &h, NULL) == 0)
		return SKPCTL_EXIT_OK;
	if (skp_probe_sigs_dev(dev, &sigs, &err) < 0) {
		fprintf(stderr, "skpctl: cannot tell what %s holds: %s\n", dev, err.msg);
		return SKPCTL_EXIT_FAIL;
	}
	if (sigs.n ? !force : !isatty(STDIN_FILENO))
		return SKPCTL_EXIT_OK;
	skp_sigs_describe(&sigs, 0, held, sizeof(held));
	if (sigs.n)
		snprintf(what, sizeof(what), "This will overwrite data on %s irrevocably.\nIt holds %s, which "
			 "will be wiped.", dev, held);
	else
		snprintf(what, sizeof(what), "This will overwrite data on %s irrevocably.", dev);
	r = skpctl_confirm(what);
	if (r == -ENOTTY) {
		fprintf(stderr, "skpctl: %s holds %s: not wiping it without a confirmation; run on a "
			"terminal, or add --batch\n", dev, held);
		return SKPCTL_EXIT_FAIL;
	}
	if (r < 0) {
		fprintf(stderr, "skpctl: format of %s cancelled; nothing written\n", dev);
		return SKPCTL_EXIT_FAIL;
	}
	return SKPCTL_EXIT_OK;
}

int skpctl_cmd_format(int argc, char **argv)
{
	static const char usage[] = "format DEV [--provider P] [--label L] [--sector-size N] [--force] "
				    "[--batch|-q]";
	struct args a;
	struct skp_req q;
	char abs[PATH_MAX];
	int rc;

	if (parse(argc, argv, &a, A(O_PROVIDER) | A(O_LABEL) | A(O_SECTOR) | A(O_FORCE) | A(O_BATCH), 1, 1,
		  usage) < 0)
		return SKPCTL_EXIT_USAGE;
	skp_req_init(&q, SKP_CMD_FORMAT);
	if (a.force)
		q.flags |= SKP_REQ_FORCE;
	if (!realpath(a.pos[0], abs)) {
		fprintf(stderr, "skpctl: %s: %s\n", a.pos[0], strerror(errno));
		return SKPCTL_EXIT_FAIL;
	}
	if (set(q.dev, sizeof(q.dev), abs) < 0 ||
	    (a.provider && set(q.provider, sizeof(q.provider), a.provider) < 0) ||
	    (a.label && set(q.label, sizeof(q.label), a.label) < 0))
		return SKPCTL_EXIT_USAGE;
	q.sector_size = (uint32_t)a.sector;
	rc = format_confirm(q.dev, a.force);
	if (rc != SKPCTL_EXIT_OK)
		return rc;
	return call(socket_path(a.sock, a.conf), &q, 0, 0);
}

int skpctl_cmd_open(int argc, char **argv)
{
	static const char usage[] = "open DEV NAME [--allow-superseded]";
	struct args a;
	struct skp_req q;
	char abs[PATH_MAX];

	if (parse(argc, argv, &a, A(O_SUPERSEDED), 2, 2, usage) < 0)
		return SKPCTL_EXIT_USAGE;
	skp_req_init(&q, SKP_CMD_OPEN);
	if (a.superseded)
		q.flags |= SKP_REQ_SUPERSEDED;
	if (!realpath(a.pos[0], abs)) {
		fprintf(stderr, "skpctl: %s: %s\n", a.pos[0], strerror(errno));
		return SKPCTL_EXIT_FAIL;
	}
	if (set(q.dev, sizeof(q.dev), abs) < 0 || set(q.name, sizeof(q.name), a.pos[1]) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(a.sock, a.conf), &q, 0, 0);
}

int skpctl_cmd_close(int argc, char **argv)
{
	struct args a;
	struct skp_req q;

	if (parse(argc, argv, &a, 0, 1, 1, "close NAME") < 0)
		return SKPCTL_EXIT_USAGE;
	skp_req_init(&q, SKP_CMD_CLOSE);
	if (set(q.name, sizeof(q.name), a.pos[0]) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(a.sock, a.conf), &q, 0, 0);
}

int skpctl_cmd_list(int argc, char **argv)
{
	struct args a;
	struct skp_req q;

	if (parse(argc, argv, &a, A(O_PROVIDER) | A(O_JSON), 0, 0, "list [--provider P] [--json]") < 0)
		return SKPCTL_EXIT_USAGE;
	skp_req_init(&q, SKP_CMD_LIST);
	if (a.provider && set(q.provider, sizeof(q.provider), a.provider) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(a.sock, a.conf), &q, 0, a.json);
}

/* The bar: 40 columns for 100%, as wide as the percent shown (one decimal) says. */
static void rekey_bar(const char *name, const struct skp_rekey_progress *p)
{
	char shown[32];
	double pct;
	int w;

	snprintf(shown, sizeof(shown), "%.1f", p->percent);
	pct = strtod(shown, NULL);
	w = !(pct > 0) ? 0 : pct >= 100 ? 40 : (int)(pct / 2.5);
	printf("\r%s [%-40.*s] %5.1f%% %7.1f MiB/s eta %4.0fs %-8s", name, w,
	       "########################################", p->percent, p->mib_per_s,
	       p->eta_s < 0 ? 0 : p->eta_s, skp_rekey_state_name(p->state));
	fflush(stdout);
}

/* Polls --status until the rekey is done (0) or stops (1); a bar on a terminal. */
static int rekey_wait(const char *path, const char *name)
{
	int tty = isatty(STDOUT_FILENO), last_fail = 0;

	for (;;) {
		struct skp_req q;
		struct skp_rec_rekey rk;
		struct answer ans = {.rekey = &rk};
		uint32_t st;
		int rc;

		skp_req_init(&q, SKP_CMD_REKEY);
		q.flags = SKP_REQ_QUERY;
		if (set(q.name, sizeof(q.name), name) < 0)
			return SKPCTL_EXIT_USAGE;
		rc = call_ex(path, &q, 0, &ans);
		if (rc != SKPCTL_EXIT_OK) {
			/* skpd restarting (adoption): retry a while */
			if (++last_fail > 100)
				return rc;
			usleep(200000);
			continue;
		}
		last_fail = 0;
		st = rk.p.state;
		if (tty)
			rekey_bar(name, &rk.p);
		if (st != SKP_REKEY_RUNNING) {
			if (tty)
				printf("\n");
			show_rekey(stdout, &rk, 0);
			return st == SKP_REKEY_DONE ? SKPCTL_EXIT_OK : SKPCTL_EXIT_FAIL;
		}
		usleep(tty ? 250000 : 200000);
	}
}

int skpctl_cmd_rekey(int argc, char **argv)
{
	static const char usage[] = "rekey NAME --shallow [--provider P] | "
				    "rekey NAME --deep [--shallow] [--rate MiB/s] [--chunk SIZE] [--wait] | "
				    "rekey NAME --pause | --resume [--rate MiB/s] | --status [--wait] [--json] | "
				    "rekey --all --from-provider X --to-provider Y --shallow";
	struct args a;
	struct skp_req q;
	const char *path;
	int rc, verbs;

	if (parse(argc, argv, &a, A(O_SHALLOW) | A(O_PROVIDER) | A(O_ALL) | A(O_FROM) | A(O_TO) | A(O_DEEP) |
		  A(O_RATE) | A(O_CHUNK) | A(O_PAUSE) | A(O_RESUME) | A(O_STATUS) | A(O_WAIT) | A(O_JSON),
		  0, 1, usage) < 0)
		return SKPCTL_EXIT_USAGE;
	verbs = a.deep + a.pause + a.resume + a.status;
	if (!verbs && !a.shallow) {
		fprintf(stderr, "skpctl: rekey: say which: --shallow, --deep, --pause, --resume or --status\n");
		return SKPCTL_EXIT_USAGE;
	}
	if (a.all && verbs) {
		fprintf(stderr, "skpctl: rekey --all migrates providers: only --shallow is possible\n");
		return SKPCTL_EXIT_USAGE;
	}
	if (verbs > 1 || (!verbs && !a.shallow) || (verbs && (a.all || a.npos != 1)) ||
	    ((a.pause || a.resume || a.status) && (a.shallow || a.provider)) ||
	    (a.rate && !a.deep && !a.resume) || (a.chunk_kib && !a.deep) || (a.json && !a.status) ||
	    (a.wait && !a.deep && !a.status && !a.resume)) {
		fprintf(stderr, "usage: skpctl %s\n", usage);
		return SKPCTL_EXIT_USAGE;
	}
	path = socket_path(a.sock, a.conf);
	if (a.all) {
		if (a.npos || a.provider || !a.from || !a.to) {
			fprintf(stderr, "usage: skpctl %s\n", usage);
			return SKPCTL_EXIT_USAGE;
		}
		skp_req_init(&q, SKP_CMD_MIGRATE);
		q.flags = SKP_REQ_SHALLOW | SKP_REQ_ALL;
		if (set(q.provider, sizeof(q.provider), a.from) < 0 || set(q.provider2, sizeof(q.provider2), a.to) < 0)
			return SKPCTL_EXIT_USAGE;
		return call(path, &q, 0, 0);
	}
	if (a.npos != 1 || a.from || a.to) {
		fprintf(stderr, "usage: skpctl %s\n", usage);
		return SKPCTL_EXIT_USAGE;
	}
	skp_req_init(&q, SKP_CMD_REKEY);
	q.flags = (a.shallow ? SKP_REQ_SHALLOW : 0) | (a.deep ? SKP_REQ_DEEP : 0) | (a.pause ? SKP_REQ_PAUSE : 0) |
		  (a.resume ? SKP_REQ_RESUME : 0) | (a.status ? SKP_REQ_QUERY : 0);
	q.rate_mib = (uint32_t)a.rate;
	q.chunk_kib = (uint32_t)a.chunk_kib;
	if (set(q.name, sizeof(q.name), a.pos[0]) < 0 ||
	    (a.provider && set(q.provider, sizeof(q.provider), a.provider) < 0))
		return SKPCTL_EXIT_USAGE;
	if (a.status && a.wait)
		return rekey_wait(path, a.pos[0]);
	rc = call(path, &q, 0, a.json);
	if (rc == SKPCTL_EXIT_OK && a.wait)
		rc = rekey_wait(path, a.pos[0]);
	return rc;
}
