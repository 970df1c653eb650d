/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KMIP 1.0-1.4 request building and response parsing (TTLV), no I/O.
 *
 * A request is a batch: skp_kmip_req_init(), one skp_kmip_add_*() per operation
 * (each returns its Unique Batch Item ID), skp_kmip_req_finish().  A response is
 * validated and split into one result per batch item by skp_kmip_resp_parse(); the
 * payload parsers then read each item.  Everything received is untrusted: sizes are
 * bounded, types checked per tag, and key material goes straight into secmem.
 */
#ifndef SKP_KMIP_H
#define SKP_KMIP_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ttlv.h"

#define SKP_UID_MAX		128	/* Unique Identifier incl. NUL */
#define SKP_KMIP_NAME_MAX	256	/* Name Value incl. NUL */
#define SKP_KMIP_MSG_MAX	160	/* Result Message kept (sanitised) */
#define SKP_KMIP_KEY_MAX	64	/* largest Key Material accepted (bytes) */
#define SKP_KMIP_PORT		5696
#define SKP_KMIP_MINOR_MAX	4	/* this client speaks KMIP 1.0 to 1.4 */

/* Tags (KMIP 1.1 section 9.1.3.1, checked against PyKMIP kmip/core/enums.py). */
enum {
	KMIP_TAG_ATTRIBUTE = 0x420008,
	KMIP_TAG_ATTRIBUTE_INDEX = 0x420009,
	KMIP_TAG_ATTRIBUTE_NAME = 0x42000A,
	KMIP_TAG_ATTRIBUTE_VALUE = 0x42000B,
	KMIP_TAG_AUTHENTICATION = 0x42000C,
	KMIP_TAG_BATCH_COUNT = 0x42000D,
	KMIP_TAG_BATCH_ERROR_CONTINUATION = 0x42000E,
	KMIP_TAG_BATCH_ITEM = 0x42000F,
	KMIP_TAG_CREDENTIAL = 0x420023,
	KMIP_TAG_CREDENTIAL_TYPE = 0x420024,
	KMIP_TAG_CREDENTIAL_VALUE = 0x420025,
	KMIP_TAG_CRYPTO_ALGORITHM = 0x420028,
	KMIP_TAG_CRYPTO_LENGTH = 0x42002A,
	KMIP_TAG_CRYPTO_USAGE_MASK = 0x42002C,
	KMIP_TAG_KEY = 0x42003F,		/* in a Transparent Symmetric Key */
	KMIP_TAG_KEY_BLOCK = 0x420040,
	KMIP_TAG_KEY_COMPRESSION_TYPE = 0x420041,
	KMIP_TAG_KEY_FORMAT_TYPE = 0x420042,
	KMIP_TAG_KEY_MATERIAL = 0x420043,
	KMIP_TAG_KEY_VALUE = 0x420045,
	KMIP_TAG_KEY_WRAPPING_DATA = 0x420046,
	KMIP_TAG_MAXIMUM_ITEMS = 0x42004F,
	KMIP_TAG_MAXIMUM_RESPONSE_SIZE = 0x420050,
	KMIP_TAG_NAME = 0x420053,
	KMIP_TAG_NAME_TYPE = 0x420054,
	KMIP_TAG_NAME_VALUE = 0x420055,
	KMIP_TAG_OBJECT_TYPE = 0x420057,
	KMIP_TAG_OPERATION = 0x42005C,
	KMIP_TAG_PROTOCOL_VERSION = 0x420069,
	KMIP_TAG_PROTOCOL_VERSION_MAJOR = 0x42006A,
	KMIP_TAG_PROTOCOL_VERSION_MINOR = 0x42006B,
	KMIP_TAG_QUERY_FUNCTION = 0x420074,
	KMIP_TAG_REQUEST_HEADER = 0x420077,
	KMIP_TAG_REQUEST_MESSAGE = 0x420078,
	KMIP_TAG_REQUEST_PAYLOAD = 0x420079,
	KMIP_TAG_RESPONSE_HEADER = 0x42007A,
	KMIP_TAG_RESPONSE_MESSAGE = 0x42007B,
	KMIP_TAG_RESPONSE_PAYLOAD = 0x42007C,
	KMIP_TAG_RESULT_MESSAGE = 0x42007D,
	KMIP_TAG_RESULT_REASON = 0x42007E,
	KMIP_TAG_RESULT_STATUS = 0x42007F,
	KMIP_TAG_REVOCATION_MESSAGE = 0x420080,
	KMIP_TAG_REVOCATION_REASON = 0x420081,
	KMIP_TAG_REVOCATION_REASON_CODE = 0x420082,
	KMIP_TAG_SERVER_INFORMATION = 0x420088,
	KMIP_TAG_STATE = 0x42008D,
	KMIP_TAG_SYMMETRIC_KEY = 0x42008F,
	KMIP_TAG_TEMPLATE_ATTRIBUTE = 0x420091,
	KMIP_TAG_TIME_STAMP = 0x420092,
	KMIP_TAG_UNIQUE_BATCH_ITEM_ID = 0x420093,
	KMIP_TAG_UNIQUE_IDENTIFIER = 0x420094,
	KMIP_TAG_USERNAME = 0x420099,
	KMIP_TAG_VENDOR_IDENTIFICATION = 0x42009D,
	KMIP_TAG_PASSWORD = 0x4200A1,
	KMIP_TAG_OFFSET_ITEMS = 0x4200D4,	/* KMIP 1.3 and later */
	KMIP_TAG_LOCATED_ITEMS = 0x4200D5,	/* KMIP 1.3 and later */
};

enum skp_kmip_op {
	KMIP_OP_CREATE = 0x01,
	KMIP_OP_LOCATE = 0x08,
	KMIP_OP_GET = 0x0A,
	KMIP_OP_GET_ATTRIBUTES = 0x0B,
	KMIP_OP_ACTIVATE = 0x12,
	KMIP_OP_REVOKE = 0x13,
	KMIP_OP_DESTROY = 0x14,
	KMIP_OP_QUERY = 0x18,
	KMIP_OP_DISCOVER_VERSIONS = 0x1E,
};

enum {
	KMIP_OBJ_SYMMETRIC_KEY = 2,
	KMIP_ALG_AES = 3,
	KMIP_KEYFMT_RAW = 1,
	KMIP_KEYFMT_TRANSPARENT_SYMMETRIC = 7,
	KMIP_NAME_TEXT = 1,
	KMIP_QUERY_OPERATIONS = 1,
	KMIP_QUERY_OBJECTS = 2,
	KMIP_QUERY_SERVER_INFO = 3,
	KMIP_REVOKE_UNSPECIFIED = 1,
	KMIP_REVOKE_KEY_COMPROMISE = 2,
	KMIP_REVOKE_SUPERSEDED = 5,	/* Deactivated: Get still allowed, not for protection */
	KMIP_REVOKE_CESSATION = 6,
	KMIP_STATUS_SUCCESS = 0,
	KMIP_STATUS_FAILED = 1,
	KMIP_STATUS_PENDING = 2,
	KMIP_STATUS_UNDONE = 3,
};

/* Cryptographic Usage Mask bits (KMIP 1.1 section 9.1.3.3.1). */
#define KMIP_USAGE_ENCRYPT	0x04u
#define KMIP_USAGE_DECRYPT	0x08u
#define KMIP_USAGE_WRAP_KEY	0x10u
#define KMIP_USAGE_UNWRAP_KEY	0x20u
/*
 * A skp KEK wraps and unwraps disk keys (RFC 5649, done by skp itself, so the KMS
 * sees Wrap/Unwrap) and is an AES key used to encrypt/decrypt that wrapped blob:
 * Encrypt|Decrypt|Wrap Key|Unwrap Key = 0x3C.  Servers that enforce the mask (and
 * PyKMIP's policy) then accept either use; nothing else (no MAC, no Sign, no Export).
 */
#define SKP_KMIP_KEK_USAGE_MASK	(KMIP_USAGE_ENCRYPT | KMIP_USAGE_DECRYPT | \
				 KMIP_USAGE_WRAP_KEY | KMIP_USAGE_UNWRAP_KEY)

/* A Text String attribute, e.g. {"Object Group", "disks"} or {"x-site", "fra1"}. */
struct skp_kmip_attr {
	const char *name, *value;
};

struct skp_kmip_opts {
	int major, minor;		/* protocol version; 0/0 means 1.1 */
	const char *username;		/* optional Username/Password credential */
	const char *password;
	uint32_t max_response;		/* Maximum Response Size, 0 = omit */
	int no_batch_ids;		/* omit Unique Batch Item IDs (known-answer tests) */
	/* Batch Error Continuation Option Continue, for requests of more than one item: a
	 * failed item does not end the batch (the default, Stop, leaves the rest unanswered). */
	int batch_continue;
	/* Added to every Create's Template-Attribute after skp's own (a provider's
	 * operation_policy_name, object_group, attribute); must outlive the request. */
	const struct skp_kmip_attr *create_attrs;
	size_t n_create_attrs;
};

/* What one batch item asked, to check its answer against. */
struct skp_kmip_asked {
	uint32_t op;
	char *uid;			/* the object named, NULL if none (ID Placeholder) */
};

struct skp_kmip_req {
	struct skp_ttlv_enc enc;
	size_t batch_count_off;
	uint32_t n_items;
	int minor;
	int no_batch_ids;
	const struct skp_kmip_attr *create_attrs;
	size_t n_create_attrs;
	struct skp_kmip_asked *asked;	/* [n_items] */
	size_t cap_asked;
};

int skp_kmip_req_init(struct skp_kmip_req *r, const struct skp_kmip_opts *o, struct skp_err *err);
/* Each add returns the item's Unique Batch Item ID (its index); errors are sticky
 * and reported by skp_kmip_req_finish(). */
uint32_t skp_kmip_add_discover(struct skp_kmip_req *r);
uint32_t skp_kmip_add_query(struct skp_kmip_req *r, const uint32_t *funcs, size_t n);
/* name may be NULL (no Name attribute).  The opts' create_attrs follow skp's attributes. */
uint32_t skp_kmip_add_create(struct skp_kmip_req *r, uint32_t alg, int32_t bits, uint32_t mask,
			     const char *name);
/* uid NULL = ID Placeholder (the object of the preceding Create in the batch). */
uint32_t skp_kmip_add_activate(struct skp_kmip_req *r, const char *uid);
/* Get asking for Raw (Key Format Type); _fmt: another format, 0 = none asked. */
uint32_t skp_kmip_add_get(struct skp_kmip_req *r, const char *uid);
uint32_t skp_kmip_add_get_fmt(struct skp_kmip_req *r, const char *uid, uint32_t fmt);
/* names NULL/n 0: all attributes. */
uint32_t skp_kmip_add_get_attrs(struct skp_kmip_req *r, const char *uid, const char *const *names,
				size_t n);
/* object_type, max_items, offset: 0 = omit.  offset needs protocol >= 1.3. */
uint32_t skp_kmip_add_locate(struct skp_kmip_req *r, const char *name, uint32_t object_type,
			     int32_t max_items, int32_t offset);
uint32_t skp_kmip_add_revoke(struct skp_kmip_req *r, const char *uid, uint32_t code, const char *msg);
uint32_t skp_kmip_add_destroy(struct skp_kmip_req *r, const char *uid);
int skp_kmip_req_finish(struct skp_kmip_req *r, struct skp_err *err);
void skp_kmip_req_free(struct skp_kmip_req *r);

/* ---- responses ---- */
struct skp_kmip_result {
	uint32_t op;			/* 0 when the server sent none */
	int has_id;
	uint32_t id;
	uint32_t status, reason;
	char message[SKP_KMIP_MSG_MAX];	/* escaped (skp_str_escape) */
	int has_payload;
	struct skp_ttlv payload;	/* points into the response buffer */
};

struct skp_kmip_resp {
	int major, minor;
	int64_t timestamp;
	uint32_t count;
	struct skp_kmip_result *items;
};

/* Validates buf (TTLV limits) and splits it; items point into buf, which must outlive out. */
int skp_kmip_resp_parse(const unsigned char *buf, size_t len, struct skp_kmip_resp *out,
			struct skp_err *err);
/*
 * The same for the answer to req, refused (-EPROTO) unless it answers req item for item:
 * Batch Count and items as many as req's (checked before allocating); Unique Batch Item
 * IDs one-to-one with req's (an item without one only answers a one-item request); each
 * item's Operation req's; a successful Get, Get Attributes, Activate, Revoke or Destroy
 * about the object asked (Unique Identifier).  out->items[i] answers req's item i.
 */
int skp_kmip_resp_parse_req(const unsigned char *buf, size_t len, const struct skp_kmip_req *req,
			    struct skp_kmip_resp *out, struct skp_err *err);
void skp_kmip_resp_free(struct skp_kmip_resp *r);
const struct skp_kmip_result *skp_kmip_resp_find(const struct skp_kmip_resp *r, uint32_t id);
/*
 * 0 on Success; else a negative errno for the Result Reason with a clear message,
 * e.g. -EACCES "Permission Denied (reason 0x0C): <server message>".  Also checks the
 * operation matches `op` (when the server echoed one).
 */
int skp_kmip_result_check(const struct skp_kmip_result *res, uint32_t op, struct skp_err *err);
const char *skp_kmip_reason_name(uint32_t reason);
const char *skp_kmip_op_name(uint32_t op);
/* KMIP 1.x State (1 Pre-Active .. 6 Destroyed Compromised); 0 "unknown" (not asked). */
const char *skp_kmip_state_name(uint32_t state);

/* Payload readers (the result must have passed skp_kmip_result_check). */
int skp_kmip_parse_uid(const struct skp_kmip_result *res, char *uid, size_t uid_size,
		       struct skp_err *err);
/* Symmetric Key, Raw or Transparent Symmetric Key format: *key is skp_secmem_alloc(*len),
 * caller frees it. */
int skp_kmip_parse_get_key(const struct skp_kmip_result *res, unsigned char **key, size_t *len,
			   struct skp_err *err);

struct skp_key_attrs {
	char uid[SKP_UID_MAX];
	int state;			/* 1..6 as KMIP, 0 if absent */
	char name[SKP_KMIP_NAME_MAX];	/* first Name, escaped, "" if absent */
	int crypto_length;		/* bits, 0 if absent */
	int algorithm;			/* 3 = AES, 0 if absent */
	uint32_t usage_mask;
	int object_type;
};
int skp_kmip_parse_attrs(const struct skp_kmip_result *res, struct skp_key_attrs *out,
			 struct skp_err *err);

/* Up to max uids copied into uids[i][SKP_UID_MAX]; *n = number copied; *located =
 * Located Items when the server sent it (1.3+), else -1. */
int skp_kmip_parse_locate(const struct skp_kmip_result *res, char (*uids)[SKP_UID_MAX], size_t max,
			  size_t *n, int64_t *located, struct skp_err *err);

#define SKP_KMIP_QUERY_MAX 64
struct skp_kmip_query {
	uint32_t ops[SKP_KMIP_QUERY_MAX];
	size_t n_ops;
	uint32_t objects[SKP_KMIP_QUERY_MAX];
	size_t n_objects;
	char vendor[256];		/* escaped */
	int has_server_info;
	size_t server_info_len;		/* bytes of the (vendor-defined) Server Information */
};
int skp_kmip_parse_query(const struct skp_kmip_result *res, struct skp_kmip_query *q,
			 struct skp_err *err);

struct skp_kmip_version {
	int major, minor;
};
int skp_kmip_parse_versions(const struct skp_kmip_result *res, struct skp_kmip_version *v, size_t max,
			    size_t *n, struct skp_err *err);
/* Version negotiation: the highest of v[0..n) this client speaks (1.0 to 1.4), as its
 * minor number; -1 if none.  The server's order of preference is not trusted. */
int skp_kmip_pick_version(const struct skp_kmip_version *v, size_t n);

#endif
