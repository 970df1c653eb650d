// SPDX-License-Identifier: GPL-2.0
/*
 * skpd: holds KEKs for encrypted block devices, opens them through dm-skp, and
 * answers skpctl on a root-only control socket.  Single-threaded on purpose:
 * requests are short and serialised, so device state needs no locking; KMS calls
 * are bounded by the provider timeouts.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "io.h"
#include "secmem.h"
#include "skpd.h"

static int journal;

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* journald reads "<N>" as the priority; a terminal gets a plain word. */
	if (journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "skpd: %s%s\n", prio <= LOG_E ? "error: " : prio == LOG_W ? "warning: " : "", line);
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *ns = ncap <= SKP_PROTO_MAX_BODY ? realloc(b->s, ncap) : NULL;

		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

void sb_json_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}

static void respond(int fd, uint16_t cmd, int status, uint32_t flags, const char *body, size_t len)
{
	struct skp_resp r = {
		.magic = SKP_PROTO_MAGIC, .version = SKP_PROTO_VERSION, .cmd = cmd,
		.status = status, .flags = flags, .len = (uint32_t)len,
	};

	if (skp_send_full(fd, &r, sizeof(r)) == 0 && len)
		skp_send_full(fd, body, len);
}

static void dispatch(struct skpd *d, const struct skp_req *q, struct sbuf *out, int *flags,
		     struct skp_err *err)
{
	int json = !!(q->flags & SKP_REQ_JSON), alarm = 0, r = 0;

	switch (q->cmd) {
	case SKP_CMD_STATUS:
		r = rep_status(d, json, out, &alarm);
		if (alarm)
			*flags |= SKP_RESP_ALARM;
		break;
	case SKP_CMD_PROVIDER_LIST:
		r = rep_providers(d, json, out);
		break;
	case SKP_CMD_PROVIDER_TEST:
		r = rep_provider_test(d, q->provider, json, out, err);
		break;
	case SKP_CMD_FORMAT:
		r = op_format(d, q, out, err);
		break;
	case SKP_CMD_OPEN:
		r = op_open(d, q->dev, q->name, 0, q->flags, out, err);
		break;
	case SKP_CMD_CLOSE:
		r = op_close(d, q->name, out, err);
		break;
	case SKP_CMD_LIST:
		r = rep_list(d, q->provider[0] ? q->provider : NULL, json, out, err);
		break;
	case SKP_CMD_REKEY:
		if (q->flags & SKP_REQ_DEEP)
			/* SHALLOW with DEEP is implied: a deep rekey always takes a new KEK. */
			r = rekey_start(d, q->name, q->provider[0] ? q->provider : NULL,
					q->rate_mib, q->chunk_kib, out, err);
		else if (q->flags & (SKP_REQ_PAUSE | SKP_REQ_RESUME | SKP_REQ_QUERY))
			r = rekey_control(d, q->name, q->flags, q->rate_mib, out, err);
		else
			r = op_rekey(d, q->name, q->provider[0] ? q->provider : NULL, out, err);
		break;
	case SKP_CMD_MIGRATE:
		if ((q->flags & (SKP_REQ_SHALLOW | SKP_REQ_ALL)) != (SKP_REQ_SHALLOW | SKP_REQ_ALL))
			r = skp_err_set(err, -EOPNOTSUPP, "migration needs --all and --shallow");
		else
			r = op_migrate(d, q->provider, q->provider2, out, err);
		break;
	case SKP_CMD_KEYS_COUNT:
		r = rep_keys_count(d, json, out);
		break;
	case SKP_CMD_RELOAD:
		r = skpd_reload(d, out, err);
		break;
	}
	if (r < 0 && !err->code)
		skp_err_set(err, r, "%s failed", skp_cmd_name(q->cmd));
	if (r >= 0 && out->oom)
		skp_err_set(err, -ENOMEM, "response too large");
}

static void serve_one(struct skpd *d, int lfd)
{
	struct skp_req q;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct timeval tv = {.tv_sec = 5};
	struct skp_err err = {0};
	struct sbuf out = {0};
	int fd, flags = 0;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		close(fd);
		return;
	}
	if (skp_recv_full(fd, &q, sizeof(q)) < 0) {
		close(fd);
		return;
	}
	d->requests++;
	/* Root only, whatever the socket's mode: the directory is the first fence, this the second. */
	if (cred.uid != 0) {
		log_msg(LOG_W, "refused request from uid %u (pid %d): not root", cred.uid, cred.pid);
		skp_err_set(&err, -EPERM, "permission denied: skpd serves root only");
	} else if (skp_req_validate(&q, sizeof(q), &err) == 0) {
		dispatch(d, &q, &out, &flags, &err);
	}
	if (err.code) {
		/* the command code is echoed only when it is one the client could have sent */
		respond(fd, q.cmd, err.code, 0, err.msg, strlen(err.msg));
		if (cred.uid == 0)
			log_msg(LOG_W, "%s: %s", skp_cmd_name(q.cmd), err.msg);
	} else {
		respond(fd, q.cmd, 0, (uint32_t)flags, out.s ? out.s : "", out.len);
	}
	sb_free(&out);
	close(fd);
}

static int make_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[SKP_PATH_MAX];
	struct skp_err err = {0};
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	dirname(dir);
	/* Only root may even reach the socket. */
	if (skp_private_dir(dir, &err) < 0) {
		log_msg(LOG_E, "%s", err.msg);
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_E, "socket path too long");
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		log_msg(LOG_E, "cannot listen on %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

static void usage(void)
{
	fprintf(stderr, "usage: skpd [--config PATH] [--socket PATH] [--skptab PATH]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"skptab", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct skpd d;
	const char *socket_override = NULL, *skptab_override = NULL;
	struct skp_err err = {0};
	sigset_t mask;
	int c, r, lfd, sfd, running = 1;

	snprintf(d.config_path, sizeof(d.config_path), "/etc/skp/skpd.conf");
	while ((c = getopt_long(argc, argv, "c:s:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(d.config_path, sizeof(d.config_path), "%s", optarg);
			break;
		case 's':
			socket_override = optarg;
			break;
		case 't':
			skptab_override = optarg;
			break;
		case 'h':
			usage();
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	journal = getenv("JOURNAL_STREAM") != NULL;
	umask(077);
	if (geteuid() != 0) {
		log_msg(LOG_E, "must run as root");
		return 1;
	}
	if (skp_secmem_harden_process() < 0) {
		log_msg(LOG_E, "cannot harden the process (not dumpable, no core): %m");
		return 1;
	}
	r = skp_secmem_lock_all();
	if (r < 0) {
		log_msg(LOG_E, "cannot lock skpd's memory (mlockall: %s): KEKs and DEKs pass through all of "
			"it and must never reach swap; skpd needs CAP_IPC_LOCK or a memlock limit "
			"(LimitMEMLOCK=infinity in its systemd unit)", strerror(-r));
		return 1;
	}
	if (skp_config_load(d.config_path, &d.cfg, &err) < 0) {
		log_msg(LOG_E, "%s", err.msg);
		return 1;
	}
	for (size_t i = 0; i < d.cfg.n_warnings; i++)
		log_msg(LOG_W, "%s", d.cfg.warnings[i]);
	if (socket_override)
		snprintf(d.cfg.socket, sizeof(d.cfg.socket), "%s", socket_override);
	if (skptab_override)
		snprintf(d.cfg.skptab, sizeof(d.cfg.skptab), "%s", skptab_override);
	if (skpd_providers_setup(&d, &err) < 0) {
		log_msg(LOG_E, "%s", err.msg);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	lfd = make_socket(d.cfg.socket);
	if (lfd < 0 || sfd < 0)
		return 1;
	d.started = time(NULL);
	log_msg(LOG_I, "listening on %s, %zu provider(s), dm target %s", d.cfg.socket,
		d.cfg.n_providers, d.cfg.target);
	skpd_persist_start(&d);
	skpd_boot_open(&d);
	skpd_persist_sync(&d);
	sd_notify(0, "READY=1\nSTATUS=skptab processed");
	d.last_health = d.last_remediation = time(NULL);
	skpd_health_check(&d);

	while (running) {
		struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		time_t now = time(NULL), next;
		int timeout, rk_ms;

		next = d.last_health + d.cfg.health_interval;
		if (d.last_remediation + d.cfg.remediation_interval < next)
			next = d.last_remediation + d.cfg.remediation_interval;
		timeout = next > now ? (int)(next - now) * 1000 : 0;
		rk_ms = rekey_next_ms(&d);
		if (rk_ms >= 0 && rk_ms < timeout)
			timeout = rk_ms;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					struct sbuf out = {0};

					skp_err_clear(&err);
					if (skpd_reload(&d, &out, &err) < 0)
						log_msg(LOG_E, "reload: %s (old configuration kept)", err.msg);
					sb_free(&out);
				} else {
					running = 0;
				}
			}
		}
		if (p[0].revents & POLLIN) {
			serve_one(&d, lfd);
			skpd_persist_sync(&d);	/* key_persistence follows open/close/rekey */
		}
		rekey_tick(&d);
		now = time(NULL);
		if (now >= d.last_health + d.cfg.health_interval) {
			d.last_health = now;
			skpd_health_check(&d);
		}
		if (now >= d.last_remediation + d.cfg.remediation_interval) {
			d.last_remediation = now;
			skpd_remediation_check(&d);
		}
	}
	sd_notify(0, "STOPPING=1");
	log_msg(LOG_I, "stopping; open devices stay open (their keys are in the kernel)");
	unlink(d.cfg.socket);
	/* Devices stay mapped, but their rekey state goes: a paused or running deep rekey holds
	 * both DEKs in secmem, wiped here (the next skpd resumes from the disk's records). */
	for (size_t i = 0; i < d.n_devs; i++)
		rekey_free(&d.devs[i]);
	free(d.devs);
	kek_cache_free(&d);
	skpd_providers_free(&d);
	skp_config_free(&d.cfg);
	test_stop("exit");
	return 0;
}
