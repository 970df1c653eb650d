// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket.  Requests are served one at a time on the main thread, so device
 * state needs no locking; each is bounded by the providers' timeouts.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "boot.h"
#include "control.h"
#include "health.h"
#include "io.h"
#include "log.h"
#include "ops.h"
#include "proto.h"
#include "rekey.h"
#include "report.h"
#include "sbuf.h"
#include "skpd.h"

int control_reload(struct skpd *d, struct sbuf *out, struct skp_err *err)
{
	struct skp_err e = {0};
	int r = skpd_reload(d, out, err);

	if (r < 0)
		return r;
	/* The worker's connections are to the old providers: a new worker for the new ones. */
	if (health_start(d, &e) < 0) {
		health_stop(d, 0);
		log_msg(LOG_E, "%s: no health checks until the next reload", e.msg);
		sb_printf(out, "warning: %s: no health checks until the next reload\n", e.msg);
	}
	health_request_probe(d);
	/* skptab too: new entries pending, removed ones no longer tried (never closed). */
	boot_load(d, boot_now());
	return 0;
}

static void respond(int fd, uint16_t cmd, int status, int cls, uint32_t flags, const char *body, size_t len)
{
	struct skp_resp r = {
		.magic = SKP_PROTO_MAGIC, .version = SKP_PROTO_VERSION, .cmd = cmd,
		.status = status, .flags = flags, .len = (uint32_t)len, .err_class = (uint32_t)cls,
	};

	if (skp_send_full(fd, &r, sizeof(r)) == 0 && len)
		skp_send_full(fd, body, len);
}

static void dispatch(struct skpd *d, const struct skp_req *q, struct sbuf *out, int *flags,
		     struct skp_err *err)
{
	int alarm = 0, r = 0;

	switch (q->cmd) {
	case SKP_CMD_STATUS:
		r = rep_status(d, out, &alarm);
		if (alarm)
			*flags |= SKP_RESP_ALARM;
		break;
	case SKP_CMD_PROVIDER_LIST:
		r = rep_providers(d, out);
		break;
	case SKP_CMD_PROVIDER_TEST:
		r = rep_provider_test(d, q->provider, out, err);
		break;
	case SKP_CMD_FORMAT:
		r = op_format(d, q, out, err);
		break;
	case SKP_CMD_OPEN:
		r = op_open(d, q->dev, q->name, !!(q->flags & SKP_REQ_DISCARDS), q->flags, out, err);
		break;
	case SKP_CMD_CLOSE:
		r = op_close(d, q->name, out, err);
		break;
	case SKP_CMD_LIST:
		r = rep_list(d, q->provider[0] ? q->provider : NULL, out, err);
		break;
	case SKP_CMD_REKEY:
		if (q->flags & SKP_REQ_QUERY)
			r = rep_rekey(d, q->name, out, err);
		else if (q->flags & SKP_REQ_DEEP)
			/* SHALLOW with DEEP is implied: a deep rekey always takes a new KEK. */
			r = rekey_start(d, q->name, q->provider[0] ? q->provider : NULL,
					q->rate_mib, q->chunk_kib, out, err);
		else if (q->flags & (SKP_REQ_PAUSE | SKP_REQ_RESUME))
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
		r = rep_keys_count(d, out);
		break;
	case SKP_CMD_RELOAD:
		r = control_reload(d, out, err);
		break;
	}
	/* State travels as records (skpctl formats it), what actions say as text. */
	if (skp_req_records(q->cmd, q->flags))
		*flags |= SKP_RESP_RECORDS;
	if (r < 0 && !err->code)
		skp_err_set(err, r, "%s failed", skp_cmd_name(q->cmd));
	if (r >= 0 && out->oom)
		skp_err_set(err, -ENOMEM, "response too large");
}

void control_serve(struct skpd *d, int lfd)
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
		skp_err_setc(&err, SKP_ERRC_PERM, -EPERM, "permission denied: skpd serves root only");
	} else if (skp_req_validate(&q, sizeof(q), &err) == 0) {
		dispatch(d, &q, &out, &flags, &err);
	}
	if (err.code) {
		/* the command code is echoed only when it is one the client could have sent */
		respond(fd, q.cmd, err.code, err.cls, 0, err.msg, strlen(err.msg));
		if (cred.uid == 0)
			log_msg(LOG_W, "%s: %s", skp_cmd_name(q.cmd), err.msg);
	} else {
		respond(fd, q.cmd, 0, 0, (uint32_t)flags, out.s ? out.s : "", out.len);
	}
	sb_free(&out);
	close(fd);
}

int control_listen(const char *path)
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

