// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "proto.h"

/* Which request fields each command takes: R required, O optional, absent must be empty. */
enum { F_DEV, F_NAME, F_PROV, F_PROV2, F_LABEL, F_SECTOR, NF };
#define R 2
#define O 1
static const unsigned char fields[SKP_CMD_MAX + 1][NF] = {
	[SKP_CMD_STATUS] = {0},
	[SKP_CMD_PROVIDER_LIST] = {0},
	[SKP_CMD_PROVIDER_TEST] = {[F_PROV] = R},
	[SKP_CMD_FORMAT] = {[F_DEV] = R, [F_PROV] = O, [F_LABEL] = O, [F_SECTOR] = O},
	[SKP_CMD_OPEN] = {[F_DEV] = R, [F_NAME] = R},
	[SKP_CMD_CLOSE] = {[F_NAME] = R},
	[SKP_CMD_LIST] = {[F_PROV] = O},
	[SKP_CMD_REKEY] = {[F_NAME] = R, [F_PROV] = O},
	[SKP_CMD_MIGRATE] = {[F_PROV] = R, [F_PROV2] = R},
	[SKP_CMD_KEYS_COUNT] = {0},
	[SKP_CMD_RELOAD] = {0},
};
static const unsigned int flags_ok[SKP_CMD_MAX + 1] = {
	[SKP_CMD_REKEY] = SKP_REQ_SHALLOW | SKP_REQ_DEEP | SKP_REQ_PAUSE | SKP_REQ_RESUME | SKP_REQ_QUERY,
	[SKP_CMD_MIGRATE] = SKP_REQ_SHALLOW | SKP_REQ_ALL,
	[SKP_CMD_OPEN] = SKP_REQ_SUPERSEDED | SKP_REQ_DISCARDS | SKP_REQ_READONLY,
	[SKP_CMD_FORMAT] = SKP_REQ_FORCE,
};
static const char *const names[SKP_CMD_MAX + 1] = {
	[SKP_CMD_STATUS] = "status", [SKP_CMD_PROVIDER_LIST] = "provider-list",
	[SKP_CMD_PROVIDER_TEST] = "provider-test", [SKP_CMD_FORMAT] = "format",
	[SKP_CMD_OPEN] = "open", [SKP_CMD_CLOSE] = "close", [SKP_CMD_LIST] = "list",
	[SKP_CMD_REKEY] = "rekey", [SKP_CMD_MIGRATE] = "migrate",
	[SKP_CMD_KEYS_COUNT] = "keys-count", [SKP_CMD_RELOAD] = "reload",
};

const char *skp_cmd_name(unsigned int cmd)
{
	return cmd >= 1 && cmd <= SKP_CMD_MAX ? names[cmd] : "unknown";
}

void skp_req_init(struct skp_req *r, enum skp_cmd cmd)
{
	memset(r, 0, sizeof(*r));
	r->magic = SKP_PROTO_MAGIC;
	r->version = SKP_PROTO_VERSION;
	r->cmd = (uint16_t)cmd;
}

int skp_req_set(char *field, size_t size, const char *s, struct skp_err *err)
{
	size_t n = strlen(s);

	if (n >= size)
		return skp_err_set(err, -ENAMETOOLONG, "'%.40s...' is longer than %zu bytes", s, size - 1);
	memset(field, 0, size);
	memcpy(field, s, n);
	return 0;
}

/* 0 empty, 1 valid text, -1 malformed (no NUL, control bytes, junk after the NUL). */
static int field_state(const char *f, size_t size)
{
	size_t n = strnlen(f, size);

	if (n == size)
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f[i] < 0x20 || (unsigned char)f[i] == 0x7f)
			return -1;
	for (size_t i = n; i < size; i++)
		if (f[i])
			return -1;
	return n ? 1 : 0;
}

int skp_req_validate(const void *buf, size_t len, struct skp_err *err)
{
	static const char *const fname[NF] = {"dev", "name", "provider", "provider2", "label", "sector_size"};
	const struct skp_req *r = buf;
	const char *f[NF - 1];
	size_t sz[NF - 1];

	if (len != sizeof(*r))
		return skp_err_set(err, -EBADMSG, "request of %zu bytes (expected %zu)", len, sizeof(*r));
	if (r->magic != SKP_PROTO_MAGIC)
		return skp_err_set(err, -EBADMSG, "bad request magic");
	if (r->version != SKP_PROTO_VERSION)
		return skp_err_set(err, -EPROTONOSUPPORT, "protocol version %u not supported (skpd speaks %d)",
				   r->version, SKP_PROTO_VERSION);
	if (r->cmd < 1 || r->cmd > SKP_CMD_MAX)
		return skp_err_set(err, -EOPNOTSUPP, "unknown command %u", r->cmd);
	if (r->flags & ~flags_ok[r->cmd])
		return skp_err_set(err, -EINVAL, "%s: unsupported flags 0x%x", names[r->cmd], r->flags);
	for (size_t i = 0; i < sizeof(r->reserved); i++)
		if (r->reserved[i])
			return skp_err_set(err, -EINVAL, "reserved request bytes not zero");
	if ((r->rate_mib || r->chunk_kib) && (r->cmd != SKP_CMD_REKEY || !(r->flags & (SKP_REQ_DEEP | SKP_REQ_RESUME))))
		return skp_err_set(err, -EINVAL, "%s: rate and chunk belong to a deep rekey only", names[r->cmd]);
	if (r->cmd == SKP_CMD_REKEY) {
		unsigned int act = r->flags & (SKP_REQ_DEEP | SKP_REQ_PAUSE | SKP_REQ_RESUME | SKP_REQ_QUERY);

		/* One action per request: a rekey (shallow and/or deep), or one control verb. */
		if (act & (act - 1) || (act && act != SKP_REQ_DEEP && (r->flags & SKP_REQ_SHALLOW)) ||
		    !(r->flags & (SKP_REQ_SHALLOW | SKP_REQ_DEEP | SKP_REQ_PAUSE | SKP_REQ_RESUME | SKP_REQ_QUERY)))
			return skp_err_set(err, -EINVAL, "rekey: one of --shallow/--deep, --pause, --resume, --status");
		if (r->chunk_kib && !(r->flags & SKP_REQ_DEEP))
			return skp_err_set(err, -EINVAL, "rekey: --chunk belongs to --deep");
	}
	f[F_DEV] = r->dev; sz[F_DEV] = sizeof(r->dev);
	f[F_NAME] = r->name; sz[F_NAME] = sizeof(r->name);
	f[F_PROV] = r->provider; sz[F_PROV] = sizeof(r->provider);
	f[F_PROV2] = r->provider2; sz[F_PROV2] = sizeof(r->provider2);
	f[F_LABEL] = r->label; sz[F_LABEL] = sizeof(r->label);
	for (int i = 0; i < NF - 1; i++) {
		int st = field_state(f[i], sz[i]);

		if (st < 0)
			return skp_err_set(err, -EINVAL, "%s: field %s malformed", names[r->cmd], fname[i]);
		if (st == 0 && fields[r->cmd][i] == R)
			return skp_err_set(err, -EINVAL, "%s: field %s missing", names[r->cmd], fname[i]);
		if (st == 1 && !fields[r->cmd][i])
			return skp_err_set(err, -EINVAL, "%s: field %s not allowed", names[r->cmd], fname[i]);
	}
	if (r->sector_size && !fields[r->cmd][F_SECTOR])
		return skp_err_set(err, -EINVAL, "%s: field sector_size not allowed", names[r->cmd]);
	if (r->sector_size && r->sector_size != 512 && r->sector_size != 1024 &&
	    r->sector_size != 2048 && r->sector_size != 4096)
		return skp_err_set(err, -EINVAL, "sector size %u is not 512, 1024, 2048 or 4096", r->sector_size);
	if (r->dev[0] && r->dev[0] != '/')
		return skp_err_set(err, -EINVAL, "device must be an absolute path");
	return 0;
}

int skp_resp_validate(const struct skp_resp *r, uint16_t cmd, struct skp_err *err)
{
	if (r->magic != SKP_PROTO_MAGIC || (r->flags & ~SKP_RESP_FLAGS_KNOWN) || r->err_class > SKP_ERRC_MAX ||
	    (r->err_class && !r->status))
		return skp_err_set(err, -EBADMSG, "malformed response from skpd");
	if (r->version != SKP_PROTO_VERSION)
		return skp_err_set(err, -EPROTONOSUPPORT, "skpd speaks protocol %u, skpctl %d", r->version,
				   SKP_PROTO_VERSION);
	if (r->cmd != cmd)
		return skp_err_set(err, -EBADMSG, "response to the wrong command");
	if (r->len > SKP_PROTO_MAX_BODY)
		return skp_err_set(err, -EBADMSG, "response body of %u bytes too large", r->len);
	if (r->status > 0 || r->status < -4095)
		return skp_err_set(err, -EBADMSG, "response status %d invalid", r->status);
	return 0;
}

int skp_req_records(uint16_t cmd, uint32_t flags)
{
	switch (cmd) {
	case SKP_CMD_STATUS:
	case SKP_CMD_PROVIDER_LIST:
	case SKP_CMD_PROVIDER_TEST:
	case SKP_CMD_LIST:
	case SKP_CMD_KEYS_COUNT:
		return 1;
	case SKP_CMD_REKEY:
		return !!(flags & SKP_REQ_QUERY);
	}
	return 0;
}
