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

#include "cmds.h"
#include "config.h"
#include "confirm.h"
#include "header.h"
#include "io.h"
#include "probe.h"
#include "proto.h"
#include "show.h"
#include "cli.h"
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
		if (errno == ENOENT || errno == ECONNREFUSED) {
			fprintf(stderr, "skpctl: skpd is not running (nothing listens at %s); start it with "
				"systemctl start skpd\n", path);
			rc = SKPCTL_EXIT_NO_DAEMON;
		} else if (errno == EACCES || errno == EPERM) {
			fprintf(stderr, "skpctl: permission denied on %s: skpctl must run as root\n", path);
			rc = SKPCTL_EXIT_PERM;
		} else {
			fprintf(stderr, "skpctl: cannot reach skpd at %s: %s\n", path, strerror(errno));
		}
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
		/* one line: the daemon's message; the class says what kind of failure */
		fprintf(stderr, "skpctl: %s\n", body);
		rc = skpctl_exit_code(r.err_class);
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

static int set(char *field, size_t size, const char *s)
{
	struct skp_err err = {0};

	if (skp_req_set(field, size, s, &err) < 0) {
		fprintf(stderr, "skpctl: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* DEV as an absolute path (skpd opens it): a missing one is "no such device". */
static int dev_path(const char *dev, char *abs)
{
	if (realpath(dev, abs))
		return 0;
	fprintf(stderr, "skpctl: %s: %s\n", dev, strerror(errno));
	return errno == ENOENT || errno == ENOTDIR ? SKPCTL_EXIT_NO_DEVICE : SKPCTL_EXIT_FAIL;
}

static int simple(const struct cli *c, enum skp_cmd cmd)
{
	struct skp_req q;

	skp_req_init(&q, cmd);
	return call(socket_path(c->sock, c->conf), &q, cmd == SKP_CMD_STATUS, cli_has(c, OPT_JSON));
}

int skpctl_cmd_status(const struct cli *c)
{
	return simple(c, SKP_CMD_STATUS);
}

int skpctl_cmd_reload(const struct cli *c)
{
	return simple(c, SKP_CMD_RELOAD);
}

int skpctl_cmd_keys_count(const struct cli *c)
{
	return simple(c, SKP_CMD_KEYS_COUNT);
}

int skpctl_cmd_provider_list(const struct cli *c)
{
	return simple(c, SKP_CMD_PROVIDER_LIST);
}

int skpctl_cmd_provider_test(const struct cli *c)
{
	struct skp_req q;

	skp_req_init(&q, SKP_CMD_PROVIDER_TEST);
	if (set(q.provider, sizeof(q.provider), c->args[0]) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(c->sock, c->conf), &q, 0, cli_has(c, OPT_JSON));
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
		return skpctl_exit_code((unsigned int)err.cls);
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

int skpctl_cmd_format(const struct cli *c)
{
	struct skp_req q;
	char abs[PATH_MAX];
	int rc;

	skp_req_init(&q, SKP_CMD_FORMAT);
	rc = dev_path(c->args[0], abs);
	if (rc)
		return rc;
	if (set(q.dev, sizeof(q.dev), abs) < 0 ||
	    (c->provider && set(q.provider, sizeof(q.provider), c->provider) < 0) ||
	    (c->label && set(q.label, sizeof(q.label), c->label) < 0))
		return SKPCTL_EXIT_USAGE;
	q.sector_size = (uint32_t)c->sector;
	if (cli_has(c, OPT_FORCE))
		q.flags |= SKP_REQ_FORCE;
	rc = format_confirm(q.dev, cli_has(c, OPT_FORCE));
	if (rc != SKPCTL_EXIT_OK)
		return rc;
	return call(socket_path(c->sock, c->conf), &q, 0, 0);
}

int skpctl_cmd_open(const struct cli *c)
{
	struct skp_req q;
	char abs[PATH_MAX];
	int rc;

	skp_req_init(&q, SKP_CMD_OPEN);
	q.flags = (cli_has(c, OPT_SUPERSEDED) ? SKP_REQ_SUPERSEDED : 0) |
		  (cli_has(c, OPT_DISCARDS) ? SKP_REQ_DISCARDS : 0) | (cli_has(c, OPT_READONLY) ? SKP_REQ_READONLY : 0);
	rc = dev_path(c->args[0], abs);
	if (rc)
		return rc;
	if (set(q.dev, sizeof(q.dev), abs) < 0 || set(q.name, sizeof(q.name), c->args[1]) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(c->sock, c->conf), &q, 0, 0);
}

int skpctl_cmd_close(const struct cli *c)
{
	struct skp_req q;

	skp_req_init(&q, SKP_CMD_CLOSE);
	if (set(q.name, sizeof(q.name), c->args[0]) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(c->sock, c->conf), &q, 0, 0);
}

int skpctl_cmd_list(const struct cli *c)
{
	struct skp_req q;

	skp_req_init(&q, SKP_CMD_LIST);
	if (c->provider && set(q.provider, sizeof(q.provider), c->provider) < 0)
		return SKPCTL_EXIT_USAGE;
	return call(socket_path(c->sock, c->conf), &q, 0, cli_has(c, OPT_JSON));
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

static int rekey_usage(const char *why)
{
	fprintf(stderr, "skpctl: rekey: %s (see skpctl rekey --help)\n", why);
	return SKPCTL_EXIT_USAGE;
}

int skpctl_cmd_rekey(const struct cli *c)
{
	int shallow = cli_has(c, OPT_SHALLOW), deep = cli_has(c, OPT_DEEP), pause = cli_has(c, OPT_PAUSE);
	int resume = cli_has(c, OPT_RESUME), status = cli_has(c, OPT_STATUS), wait = cli_has(c, OPT_WAIT);
	int verbs = deep + pause + resume + status, rc;
	const char *path;
	struct skp_req q;

	if (!verbs && !shallow)
		return rekey_usage("say which: --shallow, --deep, --pause, --resume or --status");
	if (verbs > 1)
		return rekey_usage("one of --deep, --pause, --resume and --status at a time");
	if (cli_has(c, OPT_ALL)) {
		if (verbs)
			return rekey_usage("--all migrates providers: only --shallow is possible");
		if (c->nargs || c->provider || !c->from || !c->to)
			return rekey_usage("--all migrates providers: rekey --all --from-provider X --to-provider Y --shallow");
	} else if (c->nargs != 1 || c->from || c->to) {
		return rekey_usage(c->nargs != 1 ? "name one mapping (or --all)" : "--from-provider and --to-provider go with --all");
	}
	if ((pause || resume || status) && (shallow || c->provider))
		return rekey_usage("--shallow and --provider start a rekey; not with --pause, --resume or --status");
	if ((c->rate && !deep && !resume) || (c->chunk_kib && !deep))
		return rekey_usage("--rate goes with --deep or --resume, --chunk with --deep");
	if (cli_has(c, OPT_JSON) && !status)
		return rekey_usage("--json goes with --status");
	if (wait && !deep && !status && !resume)
		return rekey_usage("--wait goes with --deep, --resume or --status");
	path = socket_path(c->sock, c->conf);
	if (cli_has(c, OPT_ALL)) {
		skp_req_init(&q, SKP_CMD_MIGRATE);
		q.flags = SKP_REQ_SHALLOW | SKP_REQ_ALL;
		if (set(q.provider, sizeof(q.provider), c->from) < 0 || set(q.provider2, sizeof(q.provider2), c->to) < 0)
			return SKPCTL_EXIT_USAGE;
		return call(path, &q, 0, 0);
	}
	skp_req_init(&q, SKP_CMD_REKEY);
	q.flags = (shallow ? SKP_REQ_SHALLOW : 0) | (deep ? SKP_REQ_DEEP : 0) | (pause ? SKP_REQ_PAUSE : 0) |
		  (resume ? SKP_REQ_RESUME : 0) | (status ? SKP_REQ_QUERY : 0);
	q.rate_mib = (uint32_t)c->rate;
	q.chunk_kib = (uint32_t)c->chunk_kib;
	if (set(q.name, sizeof(q.name), c->args[0]) < 0 ||
	    (c->provider && set(q.provider, sizeof(q.provider), c->provider) < 0))
		return SKPCTL_EXIT_USAGE;
	if (status && wait)
		return rekey_wait(path, c->args[0]);
	rc = call(path, &q, 0, cli_has(c, OPT_JSON));
	if (rc == SKPCTL_EXIT_OK && wait)
		rc = rekey_wait(path, c->args[0]);
	return rc;
}
