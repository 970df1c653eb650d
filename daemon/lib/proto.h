/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skpd control-socket protocol (docs/protocol.md).  One request per connection
 * on a local stream socket: a fixed-size request, then a fixed response header
 * followed by len bytes of body: state (status, lists, rekey progress) as a
 * sequence of fixed-layout records, anything else as UTF-8 text.  skpctl does all
 * the formatting, text or JSON.  Native byte order: both ends are on the same
 * host.  Command and record codes are append-only; any layout change bumps
 * SKP_PROTO_VERSION.
 */
#ifndef SKP_PROTO_H
#define SKP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_PROTO_MAGIC		0x31504b53u	/* "SKP1" */
#define SKP_PROTO_VERSION	4
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
	/* 1u << 0 was JSON (version 1): skpctl formats now; the bit is refused. */
	SKP_REQ_SHALLOW = 1u << 1,
	SKP_REQ_ALL = 1u << 2,
	SKP_REQ_DEEP = 1u << 3,		/* rekey: new DEK, data re-encrypted online */
	SKP_REQ_PAUSE = 1u << 4,	/* rekey: pause the deep rekey of name */
	SKP_REQ_RESUME = 1u << 5,	/* rekey: resume it */
	SKP_REQ_QUERY = 1u << 6,	/* rekey: report its progress */
	SKP_REQ_SUPERSEDED = 1u << 7,	/* open: read-write although the KMS retired the KEK */
	SKP_REQ_FORCE = 1u << 8,	/* format: wipe the foreign signatures the device holds */
	SKP_REQ_DISCARDS = 1u << 9,	/* open: pass discards down (allow_discards) */
	SKP_REQ_READONLY = 1u << 10,	/* open: a read-only mapping; nothing written to the device */
};

enum {
	SKP_RESP_ALARM = 1u << 0,	/* status: a health alarm or a device problem is raised */
	SKP_RESP_RECORDS = 1u << 1,	/* the body is records, not text */
	SKP_RESP_FLAGS_KNOWN = (1u << 2) - 1,
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
	uint32_t err_class;		/* with a failure: enum skp_err_class (err.h); else zero */
};

_Static_assert(sizeof(struct skp_req) == 624, "request layout");
_Static_assert(sizeof(struct skp_resp) == 24, "response layout");

/*
 * Response records (SKP_RESP_RECORDS).  Each starts with a header naming its type and
 * its length, which is the type's fixed size: a body is a sequence of them, in the
 * order docs/protocol.md gives per command (counts say how many of a kind follow).
 * Text fields are NUL-terminated and zero after the NUL; they may hold any other
 * byte (an error message from a KMS), the printer escapes what it must.
 */
enum skp_rec_type {
	SKP_REC_STATUS = 1,		/* status: the daemon, then its providers, problems, rekeys */
	SKP_REC_PROVIDER = 2,		/* status, provider list, provider test; its nodes follow */
	SKP_REC_NODE = 3,		/* a KMS node of the provider before it */
	SKP_REC_PROBLEM = 4,		/* status: a device's remediation finding */
	SKP_REC_REKEY = 5,		/* status, rekey --status: a deep rekey's progress */
	SKP_REC_DEVICE = 6,		/* list: an open device */
	SKP_REC_KEYS = 7,		/* keys count: KEKs in use on a provider */
	SKP_REC_PENDING = 8,		/* status: an skptab entry not open yet, retried */
	SKP_REC_MAX = SKP_REC_PENDING,
};

enum skp_node_state { SKP_NODE_UNKNOWN, SKP_NODE_OK, SKP_NODE_FAILING, SKP_NODE_STATE_MAX = SKP_NODE_FAILING };

enum skp_rekey_state {
	SKP_REKEY_NONE, SKP_REKEY_RUNNING, SKP_REKEY_PAUSED, SKP_REKEY_DONE, SKP_REKEY_FAILED,
	SKP_REKEY_STATE_MAX = SKP_REKEY_FAILED,
};

struct skp_rec_hdr {
	uint16_t type;
	uint16_t reserved;		/* zero */
	uint32_t len;			/* of the whole record, header included */
};

struct skp_rec_status {
	struct skp_rec_hdr h;
	int64_t started;		/* wall clock, seconds */
	uint64_t devices, cached_keks;
	int32_t health_interval, remediation_interval;	/* seconds */
	uint32_t alarm;			/* 0 or 1 */
	uint32_t target_loaded;		/* 1: target_version is the loaded module's */
	uint32_t target_version[3];
	uint32_t n_providers, n_problems, n_rekeys;	/* records that follow, in that order */
	char config[256];
	char target[16];
	uint32_t n_pending;		/* pending records, after the rekeys */
	uint32_t reserved;		/* zero */
};

struct skp_rec_provider {
	struct skp_rec_hdr h;
	uint64_t devices;		/* provider list: open devices using it */
	uint32_t is_default, alarm;	/* 0 or 1; alarm: status only */
	int32_t healthy;		/* provider test: nodes that answered */
	uint32_t n_nodes;		/* node records that follow */
	char name[64];
	char alarm_msg[200];
};

/* Provider list fills the server only. */
struct skp_rec_node {
	struct skp_rec_hdr h;
	int64_t failing_since;		/* wall clock of the first failure in a row, 0: none */
	double latency_ms;		/* of the last successful exchange */
	uint32_t state;			/* enum skp_node_state */
	uint32_t fails;			/* status: failed exchanges in a row (probes or operations) */
	char server[272];
	char error[256];		/* the last failure */
};

struct skp_rec_problem {
	struct skp_rec_hdr h;
	char mapping[128];
	char problem[200];
};

struct skp_rekey_progress {
	uint64_t boundary, length;	/* 512-byte sectors */
	uint64_t generation;		/* the device's DEK generation */
	double percent, mib_per_s;
	double eta_s;			/* -1: unknown, 0 when done */
	uint32_t state;			/* enum skp_rekey_state */
	uint32_t reserved;		/* zero */
	char error[200];
};

struct skp_rec_rekey {
	struct skp_rec_hdr h;
	char mapping[128];
	struct skp_rekey_progress p;
};

struct skp_rec_device {
	struct skp_rec_hdr h;
	uint64_t generation;		/* DEK generation */
	uint64_t data_length;		/* bytes */
	uint32_t sector_size;
	uint32_t flags;			/* SKP_DEV_* */
	uint8_t uuid[16];
	char mapping[128], dev[256], label[64], provider[64], kek_uid[128], kek_name[128];
	char problem[200];		/* "" if fine */
	struct skp_rekey_progress rekey;	/* state NONE: no deep rekey */
};

enum {
	SKP_DEV_READONLY = 1u << 0,	/* a read-only mapping (asked, or a superseded DEK) */
	SKP_DEV_DISCARDS = 1u << 1,	/* discards pass down */
	SKP_DEV_FLAGS_KNOWN = (1u << 2) - 1,
};

struct skp_rec_keys {
	struct skp_rec_hdr h;
	uint64_t keks;			/* distinct KEKs of the open devices */
	char provider[64];
};

/* What a pending skptab entry waits for. */
enum skp_pending_wait {
	SKP_PENDING_DEVICE = 1,		/* no such device yet, or its header cannot be read */
	SKP_PENDING_PROVIDER,		/* its provider: not configured, or the KMS did not deliver */
	SKP_PENDING_OPEN,		/* the open itself failed */
	SKP_PENDING_WAIT_MAX = SKP_PENDING_OPEN,
};

struct skp_rec_pending {
	struct skp_rec_hdr h;
	int64_t since;			/* wall clock: when skptab named it (skpd's start, a reload) */
	double next_s;			/* seconds until the next attempt (0: due) */
	uint32_t attempts;
	uint32_t wait;			/* enum skp_pending_wait */
	uint32_t nofail;		/* 0 or 1 */
	uint32_t timeout;		/* seconds READY waits for it */
	char mapping[128];
	char provider[64];		/* SKP_PENDING_PROVIDER: which */
	char reason[304];
};

/* Any record, for the decoder to copy one into. */
union skp_rec {
	struct skp_rec_hdr h;
	struct skp_rec_status status;
	struct skp_rec_provider provider;
	struct skp_rec_node node;
	struct skp_rec_problem problem;
	struct skp_rec_rekey rekey;
	struct skp_rec_device device;
	struct skp_rec_keys keys;
	struct skp_rec_pending pending;
};

/* No implicit padding: every byte is a field the decoder checks. */
_Static_assert(sizeof(struct skp_rec_hdr) == 8, "record header layout");
_Static_assert(sizeof(struct skp_rec_status) == 352, "status record layout");
_Static_assert(sizeof(struct skp_rec_provider) == 296, "provider record layout");
_Static_assert(sizeof(struct skp_rec_node) == 560, "node record layout");
_Static_assert(sizeof(struct skp_rec_problem) == 336, "problem record layout");
_Static_assert(sizeof(struct skp_rekey_progress) == 256, "rekey progress layout");
_Static_assert(sizeof(struct skp_rec_rekey) == 392, "rekey record layout");
_Static_assert(sizeof(struct skp_rec_device) == 1272, "device record layout");
_Static_assert(sizeof(struct skp_rec_keys) == 80, "keys record layout");
_Static_assert(sizeof(struct skp_rec_pending) == 536, "pending record layout");

void skp_req_init(struct skp_req *r, enum skp_cmd cmd);
/* Copies s into a request field; -ENAMETOOLONG if it does not fit. */
int skp_req_set(char *field, size_t size, const char *s, struct skp_err *err);
/* Full check before dispatch: size, magic, version, command, flags, fields, reserved. */
int skp_req_validate(const void *buf, size_t len, struct skp_err *err);
int skp_resp_validate(const struct skp_resp *r, uint16_t cmd, struct skp_err *err);
/* 1 if a request for cmd with flags is answered (on success) with records, 0 with text. */
int skp_req_records(uint16_t cmd, uint32_t flags);
const char *skp_cmd_name(unsigned int cmd);

/* Encoding (skpd): a zeroed record of type with its header set; rec is that type's struct. */
void skp_rec_init(void *rec, enum skp_rec_type type);
/* Copies s into a record's text field, cut to fit, zero after the NUL. */
void skp_rec_str(char *field, size_t size, const char *s);

/* Decoding (skpctl): records are read one by one off a body, each checked whole. */
struct skp_rec_iter {
	const unsigned char *p;
	size_t len, off;
};
void skp_rec_iter_init(struct skp_rec_iter *it, const void *body, size_t len);
/* 1: *out holds the next record, valid; 0: the body ends here; -EBADMSG: malformed. */
int skp_rec_next(struct skp_rec_iter *it, union skp_rec *out, struct skp_err *err);
/*
 * The whole body of cmd's answer against its record sequence (counts included), each
 * record checked: 0 or -EBADMSG.  After it, a reader may walk the body trusting the order.
 */
int skp_resp_records_check(uint16_t cmd, const void *body, size_t len, struct skp_err *err);
const char *skp_rekey_state_name(unsigned int state);

#endif
