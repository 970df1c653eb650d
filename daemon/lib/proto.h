/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skpd control-socket protocol (docs/protocol.md).  One request per connection
 * on a local stream socket: a fixed-size request, then a fixed response header
 * followed by len bytes of UTF-8 text (a table, JSON, or an error message).
 * Native byte order: both ends are on the same host.  Command codes are
 * append-only; any layout change bumps SKP_PROTO_VERSION.
 */
#ifndef SKP_PROTO_H
#define SKP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_PROTO_MAGIC		0x31504b53u	/* "SKP1" */
#define SKP_PROTO_VERSION	1
#define SKP_PROTO_MAX_BODY	(8u << 20)

enum skp_cmd {
	SKP_CMD_STATUS = 1,
	SKP_CMD_PROVIDER_LIST = 2,
	SKP_CMD_PROVIDER_TEST = 3,	/* provider */
	SKP_CMD_FORMAT = 4,		/* dev, [provider], [label], [sector_size] */
	SKP_CMD_OPEN = 5,		/* dev, name */
	SKP_CMD_CLOSE = 6,		/* name */
	SKP_CMD_LIST = 7,		/* [provider] */
	SKP_CMD_REKEY = 8,		/* name, [provider]; SHALLOW and/or DEEP, or PAUSE|RESUME|QUERY */
	SKP_CMD_MIGRATE = 9,		/* provider -> provider2; flags SHALLOW|ALL */
	SKP_CMD_KEYS_COUNT = 10,
	SKP_CMD_RELOAD = 11,
	SKP_CMD_MAX = SKP_CMD_RELOAD,
};

enum {
	SKP_REQ_JSON = 1u << 0,
	SKP_REQ_SHALLOW = 1u << 1,
	SKP_REQ_ALL = 1u << 2,
	SKP_REQ_DEEP = 1u << 3,		/* rekey: new DEK, data re-encrypted online */
	SKP_REQ_PAUSE = 1u << 4,	/* rekey: pause the deep rekey of name */
	SKP_REQ_RESUME = 1u << 5,	/* rekey: resume it */
	SKP_REQ_QUERY = 1u << 6,	/* rekey: report its progress */
	SKP_REQ_SUPERSEDED = 1u << 7,	/* open: read-write although the KMS retired the KEK */
	SKP_REQ_FLAGS_KNOWN = (1u << 8) - 1,
};

enum {
	SKP_RESP_ALARM = 1u << 0,	/* status: a health alarm or a device problem is raised */
};

struct skp_req {
	uint32_t magic;
	uint16_t version;
	uint16_t cmd;
	uint32_t flags;
	uint32_t sector_size;		/* FORMAT: 0 = default */
	char dev[256];
	char name[128];
	char provider[64];
	char provider2[64];
	char label[64];
	uint32_t rate_mib;		/* rekey --deep/--resume: throttle, MiB/s, 0 = none */
	uint32_t chunk_kib;		/* rekey --deep: chunk size, KiB, 0 = default */
	uint8_t reserved[24];		/* must be zero */
};

struct skp_resp {
	uint32_t magic;
	uint16_t version;
	uint16_t cmd;
	int32_t status;			/* 0 or a negative errno */
	uint32_t flags;
	uint32_t len;			/* body bytes that follow */
	uint32_t reserved;		/* must be zero */
};

_Static_assert(sizeof(struct skp_req) == 624, "request layout");
_Static_assert(sizeof(struct skp_resp) == 24, "response layout");

void skp_req_init(struct skp_req *r, enum skp_cmd cmd);
/* Copies s into a request field; -ENAMETOOLONG if it does not fit. */
int skp_req_set(char *field, size_t size, const char *s, struct skp_err *err);
/* Full check before dispatch: size, magic, version, command, flags, fields, reserved. */
int skp_req_validate(const void *buf, size_t len, struct skp_err *err);
int skp_resp_validate(const struct skp_resp *r, uint16_t cmd, struct skp_err *err);
const char *skp_cmd_name(unsigned int cmd);

#endif
