// SPDX-License-Identifier: GPL-2.0
/*
 * skp_provider_new: what a provider conf must hold, checked before any connection.
 * Then the exchanges against KMS nodes faked below the provider: this file defines
 * lib/tls.c's functions, so the linker takes them instead of tls.o, and each node is
 * a small in-memory KMIP server whose misbehaviours a test picks (servers that create
 * keys Active, refuse Activate, ignore a Locate's Name, answer about another object,
 * add or drop batch items).  The real exchanges run against PyKMIP in tests/kmip.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "provider.h"
#include "secmem.h"
#include "tls.h"

static void conf(struct skp_provider_conf *c, const char *server)
{
	skp_provider_conf_init(c, "t");
	snprintf(c->servers[0], sizeof(c->servers[0]), "%s", server);
	c->n_servers = 1;
	snprintf(c->ca, sizeof(c->ca), "/nonexistent/skp-test/ca.pem");
	snprintf(c->cert, sizeof(c->cert), "/nonexistent/skp-test/c.pem");
	snprintf(c->key, sizeof(c->key), "/nonexistent/skp-test/k.key");
}

static int refused(struct skp_provider_conf *c, struct skp_err *err)
{
	struct skp_provider *p;

	memset(err, 0, sizeof(*err));
	p = skp_provider_new(c, err);
	skp_provider_free(p);
	return p ? 0 : err->code;
}

TEST(conf_defaults)
{
	struct skp_provider_conf c;

	skp_provider_conf_init(&c, "corp");
	ASSERT_STREQ("corp", c.name);
	ASSERT_EQ(-1, c.protocol_minor);	/* negotiate */
	ASSERT_EQ(10000, c.timeout_ms);
	ASSERT_EQ(1, c.retries);
	ASSERT_EQ(NULL, c.password);
	skp_provider_conf_free(&c);
}

TEST(refusals)
{
	struct skp_provider_conf c;
	struct skp_err err;

	conf(&c, "127.0.0.1:5696");
	c.n_servers = 0;
	ASSERT_EQ(-EINVAL, refused(&c, &err));
	ASSERT_NE(NULL, strstr(err.msg, "1 to 16 servers"));
	conf(&c, "127.0.0.1:5696");
	c.protocol_minor = SKP_KMIP_MINOR_MAX + 1;
	ASSERT_EQ(-EINVAL, refused(&c, &err));
	ASSERT_NE(NULL, strstr(err.msg, "KMIP protocol 1.5 not supported")) TH_LOG("%s", err.msg);
	c.protocol_minor = -2;
	ASSERT_EQ(-EINVAL, refused(&c, &err));
	conf(&c, "[::1");
	ASSERT_EQ(-EINVAL, refused(&c, &err));
	ASSERT_NE(NULL, strstr(err.msg, "bad server address"));
	conf(&c, "kms:0");
	ASSERT_EQ(-EINVAL, refused(&c, &err));
	ASSERT_NE(NULL, strstr(err.msg, "bad port"));
	/* A good conf gets as far as reading the TLS files. */
	conf(&c, "[::1]:5696");
	ASSERT_NE(0, refused(&c, &err));
	ASSERT_NE(NULL, strstr(err.msg, "/nonexistent/skp-test/")) TH_LOG("%s", err.msg);
}

/* ---- fake KMS nodes under a fake lib/tls.c ---- */

#define NODES	3
#define KEYS	16

struct fkey {
	char uid[SKP_UID_MAX], name[SKP_KMIP_NAME_MAX];
	int state, alg, bits;
};

/* One KMS (its nodes are replicas) and what each node does wrong. */
static struct {
	struct fkey keys[KEYS];
	int n_keys, next_uid;
	int create_state;		/* State of a new key: 1 Pre-Active (PyKMIP), 2 Active */
	int activate_active;		/* Activate of an Active key: 0 refused, 1 accepted */
	int locate_all;			/* Locate ignores the Name filter */
	int lose_create;		/* Create answers lost (made, but the client not told) */
	int drop_create;		/* Create requests lost (nothing made, the client not told) */
	int refuse_activate;		/* every Activate refused */
	int transparent;		/* Get answers Transparent Symmetric Key */
	struct {
		int down;
		int wrong_uid;		/* Get answers about another object */
		int extra_item;		/* one answer too many */
		int dup_id;		/* a second answer to item 0 instead of the last */
		int service_ms;		/* how long it works on a request before answering */
		int first_wait_ms;	/* the client's first wait for the last request's answer */
		int first_wait_max;	/* the longest first wait for any request */
		unsigned long requests, items;
	} node[NODES];
} kms;

struct skp_tls_ctx {
	int unused;
};

struct skp_tls_conn {
	int node;
	unsigned char *resp;
	size_t resp_len;
	int lost;
	int begun;		/* the answer is on its way: the node worked service_ms */
};

struct skp_tls_ctx *skp_tls_ctx_new(const struct skp_tls_cfg *cfg, struct skp_err *err)
{
	struct skp_tls_ctx *c;

	/* as the real one: the files must be there */
	if (access(cfg->ca, R_OK)) {
		skp_err_set(err, -ENOENT, "%s: cannot read", cfg->ca);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		skp_err_set(err, -ENOMEM, "out of memory");
	return c;
}

void skp_tls_ctx_free(struct skp_tls_ctx *ctx)
{
	free(ctx);
}

/* Node i listens on port i + 1. */
int skp_tls_connect(struct skp_tls_ctx *ctx, const char *host, unsigned int port, int timeout_ms,
		    struct skp_tls_conn **ret_conn, struct skp_err *err)
{
	struct skp_tls_conn *c;

	(void)ctx, (void)host, (void)timeout_ms;
	*ret_conn = NULL;
	if (port < 1 || port > NODES || kms.node[port - 1].down)
		return skp_err_set(err, -ECONNREFUSED, "connect: Connection refused (fake node down)");
	c = calloc(1, sizeof(*c));
	if (!c)
		return skp_err_set(err, -ENOMEM, "out of memory");
	c->node = (int)port - 1;
	*ret_conn = c;
	return 0;
}

int skp_tls_connect_many(struct skp_tls_ctx *ctx, const struct skp_tls_target *t, size_t n, int timeout_ms,
			 struct skp_tls_conn **conns, struct skp_err *errs)
{
	int ok = 0;

	for (size_t i = 0; i < n; i++)
		ok += !skp_tls_connect(ctx, t[i].host, t[i].port, timeout_ms, &conns[i], &errs[i]);
	return ok;
}

void skp_tls_close(struct skp_tls_conn *c)
{
	if (!c)
		return;
	free(c->resp);
	free(c);
}

int skp_tls_check_idle(struct skp_tls_conn *c)
{
	(void)c;
	return 0;
}

static struct fkey *fkey_find(const char *uid)
{
	for (int i = 0; i < kms.n_keys; i++)
		if (!strcmp(kms.keys[i].uid, uid))
			return &kms.keys[i];
	return NULL;
}

static struct fkey *fkey_add(const char *name, int state, int alg, int bits)
{
	struct fkey *k = &kms.keys[kms.n_keys++];

	snprintf(k->uid, sizeof(k->uid), "%d", ++kms.next_uid);
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->state = state;
	k->alg = alg;
	k->bits = bits;
	return k;
}

/* The key bytes of uid: the client must get exactly these. */
static void fkey_bytes(const char *uid, unsigned char *out)
{
	for (int i = 0; i < SKP_KEK_LEN; i++)
		out[i] = (unsigned char)(atoi(uid) * 31 + i);
}

/* The first text of tag anywhere under t ("" if none). */
static void find_text(const struct skp_ttlv *t, uint32_t tag, char *out, size_t size)
{
	struct skp_ttlv_iter it;
	struct skp_ttlv c;

	skp_ttlv_children(t, &it);
	while (skp_ttlv_next(&it, &c)) {
		if (c.tag == tag && c.type == SKP_TTLV_TEXT && c.len < size) {
			memcpy(out, c.val, c.len);
			out[c.len] = '\0';
			return;
		}
		if (c.type == SKP_TTLV_STRUCT) {
			find_text(&c, tag, out, size);
			if (out[0])
				return;
		}
	}
}

static void attr_int(struct skp_ttlv_enc *e, const char *name, int enumeration, uint32_t v)
{
	skp_ttlv_begin(e, KMIP_TAG_ATTRIBUTE);
	skp_ttlv_text(e, KMIP_TAG_ATTRIBUTE_NAME, name);
	if (enumeration)
		skp_ttlv_enum(e, KMIP_TAG_ATTRIBUTE_VALUE, v);
	else
		skp_ttlv_int(e, KMIP_TAG_ATTRIBUTE_VALUE, (int32_t)v);
	skp_ttlv_end(e);
}

static void fail_item(struct skp_ttlv_enc *e, uint32_t reason, const char *msg)
{
	skp_ttlv_enum(e, KMIP_TAG_RESULT_STATUS, KMIP_STATUS_FAILED);
	skp_ttlv_enum(e, KMIP_TAG_RESULT_REASON, reason);
	skp_ttlv_text(e, KMIP_TAG_RESULT_MESSAGE, msg);
}

/* The answer of node nd to one batch item. */
static void serve_item(int nd, struct skp_ttlv_enc *e, uint32_t op, const struct skp_ttlv *pl)
{
	char uid[SKP_UID_MAX] = "", name[SKP_KMIP_NAME_MAX] = "";
	unsigned char key[SKP_KEK_LEN];
	struct fkey *k;

	if (pl) {
		find_text(pl, KMIP_TAG_UNIQUE_IDENTIFIER, uid, sizeof(uid));
		find_text(pl, KMIP_TAG_NAME_VALUE, name, sizeof(name));
	}
	k = fkey_find(uid);
	if (op != KMIP_OP_CREATE && op != KMIP_OP_LOCATE && op != KMIP_OP_DISCOVER_VERSIONS && !k) {
		fail_item(e, 0x01, "no such object");
		return;
	}
	if (op == KMIP_OP_ACTIVATE &&
	    (kms.refuse_activate || (k->state != 1 && !(k->state == 2 && kms.activate_active)))) {
		fail_item(e, 0x0B, "object is not Pre-Active");
		return;
	}
	skp_ttlv_enum(e, KMIP_TAG_RESULT_STATUS, KMIP_STATUS_SUCCESS);
	skp_ttlv_begin(e, KMIP_TAG_RESPONSE_PAYLOAD);
	switch (op) {
	case KMIP_OP_DISCOVER_VERSIONS:
		skp_ttlv_begin(e, KMIP_TAG_PROTOCOL_VERSION);
		skp_ttlv_int(e, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
		skp_ttlv_int(e, KMIP_TAG_PROTOCOL_VERSION_MINOR, 4);
		skp_ttlv_end(e);
		break;
	case KMIP_OP_CREATE:
		k = fkey_add(name, kms.create_state, KMIP_ALG_AES, 256);
		skp_ttlv_enum(e, KMIP_TAG_OBJECT_TYPE, KMIP_OBJ_SYMMETRIC_KEY);
		skp_ttlv_text(e, KMIP_TAG_UNIQUE_IDENTIFIER, k->uid);
		break;
	case KMIP_OP_LOCATE:
		for (int i = 0; i < kms.n_keys; i++)
			if (kms.locate_all || !strcmp(kms.keys[i].name, name))
				skp_ttlv_text(e, KMIP_TAG_UNIQUE_IDENTIFIER, kms.keys[i].uid);
		break;
	case KMIP_OP_ACTIVATE:
		k->state = 2;
		skp_ttlv_text(e, KMIP_TAG_UNIQUE_IDENTIFIER, k->uid);
		break;
	case KMIP_OP_GET:
		fkey_bytes(k->uid, key);
		skp_ttlv_enum(e, KMIP_TAG_OBJECT_TYPE, KMIP_OBJ_SYMMETRIC_KEY);
		skp_ttlv_text(e, KMIP_TAG_UNIQUE_IDENTIFIER, kms.node[nd].wrong_uid ? "999" : k->uid);
		skp_ttlv_begin(e, KMIP_TAG_SYMMETRIC_KEY);
		skp_ttlv_begin(e, KMIP_TAG_KEY_BLOCK);
		skp_ttlv_enum(e, KMIP_TAG_KEY_FORMAT_TYPE,
			      kms.transparent ? KMIP_KEYFMT_TRANSPARENT_SYMMETRIC : KMIP_KEYFMT_RAW);
		skp_ttlv_begin(e, KMIP_TAG_KEY_VALUE);
		if (kms.transparent) {
			skp_ttlv_begin(e, KMIP_TAG_KEY_MATERIAL);
			skp_ttlv_bytes(e, KMIP_TAG_KEY, key, sizeof(key));
			skp_ttlv_end(e);
		} else {
			skp_ttlv_bytes(e, KMIP_TAG_KEY_MATERIAL, key, sizeof(key));
		}
		skp_ttlv_end(e);
		skp_ttlv_end(e);
		skp_ttlv_end(e);
		break;
	case KMIP_OP_GET_ATTRIBUTES:
		skp_ttlv_text(e, KMIP_TAG_UNIQUE_IDENTIFIER, k->uid);
		attr_int(e, "State", 1, (uint32_t)k->state);
		attr_int(e, "Object Type", 1, KMIP_OBJ_SYMMETRIC_KEY);
		attr_int(e, "Cryptographic Algorithm", 1, (uint32_t)k->alg);
		attr_int(e, "Cryptographic Length", 0, (uint32_t)k->bits);
		skp_ttlv_begin(e, KMIP_TAG_ATTRIBUTE);
		skp_ttlv_text(e, KMIP_TAG_ATTRIBUTE_NAME, "Name");
		skp_ttlv_begin(e, KMIP_TAG_ATTRIBUTE_VALUE);
		skp_ttlv_text(e, KMIP_TAG_NAME_VALUE, k->name);
		skp_ttlv_enum(e, KMIP_TAG_NAME_TYPE, KMIP_NAME_TEXT);
		skp_ttlv_end(e);
		skp_ttlv_end(e);
		break;
	default:
		skp_ttlv_text(e, KMIP_TAG_UNIQUE_IDENTIFIER, k->uid);
		break;
	}
	skp_ttlv_end(e);
}

/* A whole request to node nd: its response message, or lost (Create). */
int skp_tls_send(struct skp_tls_conn *c, const void *buf, size_t len, int timeout_ms, int *sent_any,
		 struct skp_err *err)
{
	struct skp_ttlv root, bi, t, last_id = { 0 };
	struct skp_ttlv_iter it, ii;
	struct skp_ttlv_enc e;
	unsigned int n = 0;
	int is_get = 0;

	(void)timeout_ms;
	*sent_any = 0;
	if (kms.node[c->node].down)
		return skp_err_set(err, -ECONNRESET, "send: Connection reset (fake node down)");
	*sent_any = 1;
	kms.node[c->node].requests++;
	kms.node[c->node].first_wait_ms = -1;
	c->begun = 0;
	if (skp_ttlv_validate(buf, len, 0, err))
		return err->code;
	skp_ttlv_root(buf, &root);
	skp_ttlv_enc_init(&e, 0);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_MESSAGE);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_HEADER);
	skp_ttlv_begin(&e, KMIP_TAG_PROTOCOL_VERSION);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MINOR, 4);
	skp_ttlv_end(&e);
	skp_ttlv_int(&e, KMIP_TAG_BATCH_COUNT, 0);
	{
		size_t count_off = skp_ttlv_last_value(&e);

		skp_ttlv_end(&e);
		skp_ttlv_children(&root, &it);
		while (skp_ttlv_next(&it, &bi)) {
			uint32_t op = 0;
			struct skp_ttlv id = { 0 }, pl = { 0 };

			if (bi.tag != KMIP_TAG_BATCH_ITEM)
				continue;
			skp_ttlv_children(&bi, &ii);
			while (skp_ttlv_next(&ii, &t)) {
				if (t.tag == KMIP_TAG_OPERATION)
					skp_ttlv_get_enum(&t, &op, NULL);
				else if (t.tag == KMIP_TAG_UNIQUE_BATCH_ITEM_ID)
					id = t;
				else if (t.tag == KMIP_TAG_REQUEST_PAYLOAD)
					pl = t;
			}
			if (op == KMIP_OP_CREATE && kms.drop_create) {
				kms.drop_create--;
				c->lost = 1;
				break;
			}
			if (op == KMIP_OP_CREATE && kms.lose_create) {
				kms.lose_create--;
				c->lost = 1;
			}
			is_get |= op == KMIP_OP_GET;
			/* dup_id: the last item of a Get batch answers as item 0 */
			if (kms.node[c->node].dup_id && op == KMIP_OP_GET && n &&
			    !skp_ttlv_next(&(struct skp_ttlv_iter){ ii.p, ii.left }, &t))
				id = last_id;
			if (!n)
				last_id = id;
			skp_ttlv_begin(&e, KMIP_TAG_BATCH_ITEM);
			skp_ttlv_enum(&e, KMIP_TAG_OPERATION, op);
			if (id.val)
				skp_ttlv_bytes(&e, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, id.val, id.len);
			serve_item(c->node, &e, op, pl.val ? &pl : NULL);
			skp_ttlv_end(&e);
			n++;
			kms.node[c->node].items++;
		}
		if (kms.node[c->node].extra_item && is_get) {
			skp_ttlv_begin(&e, KMIP_TAG_BATCH_ITEM);
			skp_ttlv_enum(&e, KMIP_TAG_OPERATION, KMIP_OP_GET);
			skp_ttlv_enum(&e, KMIP_TAG_RESULT_STATUS, KMIP_STATUS_FAILED);
			skp_ttlv_enum(&e, KMIP_TAG_RESULT_REASON, 0x01);
			skp_ttlv_end(&e);
			n++;
		}
		skp_ttlv_end(&e);
		skp_ttlv_patch_int(&e, count_off, (int32_t)n);
	}
	free(c->resp);
	c->resp = malloc(e.len);
	if (c->resp)
		memcpy(c->resp, e.buf, e.len);
	c->resp_len = e.len;
	skp_ttlv_enc_free(&e);
	return c->resp ? 0 : skp_err_set(err, -ENOMEM, "out of memory");
}

/* No clock: a wait of timeout_ms (from the request, as the provider's waits are) sees
 * the answer if the node needs no longer (50 ms for the time the test itself takes). */
int skp_tls_wait_answer(struct skp_tls_conn *c, int timeout_ms)
{
	if (kms.node[c->node].first_wait_ms < 0) {
		kms.node[c->node].first_wait_ms = timeout_ms;
		if (timeout_ms > kms.node[c->node].first_wait_max)
			kms.node[c->node].first_wait_max = timeout_ms;
	}
	if (!c->begun && timeout_ms + 50 < kms.node[c->node].service_ms)
		return -ETIMEDOUT;
	c->begun = 1;
	return 0;
}

int skp_tls_recv(struct skp_tls_conn *c, size_t max, int timeout_ms, unsigned char **ret_buf,
		 size_t *ret_len, struct skp_err *err)
{
	(void)max;
	if (!c->begun && timeout_ms + 50 < kms.node[c->node].service_ms)
		return skp_err_set(err, -ETIMEDOUT, "timed out during reading response (fake: node slow)");
	if (c->lost) {
		c->lost = 0;
		return skp_err_set(err, -ECONNRESET, "connection reset (fake: answer lost)");
	}
	if (!c->resp)
		return skp_err_set(err, -EIO, "nothing to receive");
	*ret_buf = skp_secmem_alloc(c->resp_len);
	if (!*ret_buf)
		return skp_err_set(err, -ENOMEM, "no locked memory");
	memcpy(*ret_buf, c->resp, c->resp_len);
	*ret_len = c->resp_len;
	free(c->resp);
	c->resp = NULL;
	return 0;
}

/* A provider of n fake nodes, KMIP 1.4 (auto: negotiated), no retry pass. */
static struct skp_provider *fake_provider(struct __test_metadata *_metadata, int n)
{
	struct skp_provider_conf c;
	struct skp_provider *p;
	struct skp_err err = { 0 };

	memset(&kms, 0, sizeof(kms));
	kms.create_state = 1;
	kms.activate_active = 0;
	skp_provider_conf_init(&c, "fake");
	for (int i = 0; i < n; i++)
		snprintf(c.servers[i], sizeof(c.servers[i]), "node%d:%d", i, i + 1);
	c.n_servers = (size_t)n;
	snprintf(c.ca, sizeof(c.ca), "/dev/null");
	c.timeout_ms = 2000;
	c.retries = 0;
	p = skp_provider_new(&c, &err);
	skp_provider_conf_free(&c);
	EXPECT_NE(NULL, p) TH_LOG("%s", err.msg);
	return p;
}

/* The KMS's key uid, in its State. */
static int state_of(const char *uid)
{
	struct fkey *k = fkey_find(uid);

	return k ? k->state : -1;
}

/* Whatever a server does with new keys and with Activate of an Active key, format gets
 * an Active KEK. */
TEST(create_kek_active_either_way)
{
	static const struct { int create_state, activate_active; } servers[] = {
		{ 1, 0 },	/* PyKMIP: Pre-Active, Activate needed */
		{ 2, 1 },	/* created Active, Activate accepted */
		{ 2, 0 },	/* created Active, Activate refused */
	};
	char uid[SKP_UID_MAX];
	struct skp_err err = { 0 };

	for (size_t i = 0; i < sizeof(servers) / sizeof(servers[0]); i++) {
		struct skp_provider *p = fake_provider(_metadata, 1);

		kms.create_state = servers[i].create_state;
		kms.activate_active = servers[i].activate_active;
		ASSERT_EQ(0, skp_provider_create_kek(p, "kek-a", uid, sizeof(uid), &err))
			TH_LOG("server %zu: %s", i, err.msg);
		ASSERT_EQ(2, state_of(uid));
		ASSERT_EQ(1, kms.n_keys);
		skp_provider_free(p);
	}
}

/* A key left Pre-Active by a refused Activate is a clear error naming both. */
TEST(create_kek_activate_refused)
{
	struct skp_provider *p = fake_provider(_metadata, 1);
	char uid[SKP_UID_MAX];
	struct skp_err err = { 0 };

	kms.refuse_activate = 1;
	ASSERT_EQ(-EPERM, skp_provider_create_kek(p, "kek-b", uid, sizeof(uid), &err));
	ASSERT_NE(NULL, strstr(err.msg, "Activate refused (Activate failed: Illegal Operation (reason 0x0B): "
				      "object is not Pre-Active), and the key is Pre-Active, not Active"))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(SKP_ERRC_KEY_REFUSED, err.cls);
	skp_provider_free(p);
}

/* The Create answer is lost: the key is looked for by Name, each hit checked. */
TEST(create_kek_lost_answer)
{
	struct skp_provider *p;
	char uid[SKP_UID_MAX];
	struct skp_err err = { 0 };

	/* a server whose Locate ignores the Name: other keys come back too */
	p = fake_provider(_metadata, 1);
	fkey_add("other", 2, KMIP_ALG_AES, 256);
	fkey_add("kek-c", 2, KMIP_ALG_AES, 128);	/* the name, but not a KEK skp made */
	kms.locate_all = 1;
	kms.lose_create = 1;
	ASSERT_EQ(0, skp_provider_create_kek(p, "kek-c", uid, sizeof(uid), &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("3", uid);		/* the one Create made, not a Locate hit taken blindly */
	ASSERT_EQ(2, state_of(uid));
	ASSERT_EQ(3, kms.n_keys);	/* and not created twice */
	skp_provider_free(p);

	/* two exact matches: no guess */
	p = fake_provider(_metadata, 1);
	fkey_add("kek-d", 2, KMIP_ALG_AES, 256);
	kms.lose_create = 1;
	ASSERT_EQ(-EEXIST, skp_provider_create_kek(p, "kek-d", uid, sizeof(uid), &err));
	ASSERT_NE(NULL, strstr(err.msg, "of the 2 object(s) Locate found by this name 2 are an AES-256 key"))
		TH_LOG("%s", err.msg);
	skp_provider_free(p);

	/* the lost Create made the key Pre-Active: found, checked and activated */
	p = fake_provider(_metadata, 1);
	fkey_add("x", 2, KMIP_ALG_AES, 256);
	kms.locate_all = 1;
	kms.lose_create = 1;
	ASSERT_EQ(0, skp_provider_create_kek(p, "kek-e", uid, sizeof(uid), &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("2", uid);
	ASSERT_EQ(2, state_of(uid));
	skp_provider_free(p);

	/* the request was lost: hits, but none of them ours (a Locate that ignores the Name):
	 * the complete list holds no key of ours, so created again, the decoy untouched */
	p = fake_provider(_metadata, 1);
	fkey_add("x", 1, KMIP_ALG_AES, 256);
	kms.locate_all = 1;
	kms.drop_create = 1;
	ASSERT_EQ(0, skp_provider_create_kek(p, "kek-f", uid, sizeof(uid), &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("2", uid);
	ASSERT_EQ(2, kms.n_keys);
	ASSERT_EQ(2, state_of(uid));
	ASSERT_EQ(1, state_of("1"));
	/* and with nothing found, created again */
	kms.locate_all = 0;
	kms.drop_create = 1;
	ASSERT_EQ(0, skp_provider_create_kek(p, "kek-g", uid, sizeof(uid), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(3, kms.n_keys);
	ASSERT_EQ(2, state_of(uid));
	skp_provider_free(p);
}

/* An answer that does not answer the request fails its node: the keys come from another. */
TEST(mismatched_answer_fails_node)
{
	static const char *const uids[] = { "1", "2", "3" };
	unsigned char *keys[3], want[SKP_KEK_LEN];
	int nodes[3];
	struct skp_err errs[3], err = { 0 };
	int *bad[] = { &kms.node[0].wrong_uid, &kms.node[0].extra_item, &kms.node[0].dup_id };
	const char *why[] = { "Get answer about object '999', asked about '1'", "4 answers to a request of 3",
			      "two answers to batch item 0" };

	for (size_t b = 0; b < 3; b++) {
		struct skp_provider *p = fake_provider(_metadata, 2);
		const struct skp_node_health *h;

		for (int i = 0; i < 3; i++)
			fkey_add("k", 2, KMIP_ALG_AES, 256);
		*bad[b] = 1;
		/* every key to node 0 first (node 1 not healthy yet: it goes second) */
		kms.node[1].down = 1;
		skp_provider_check(p);
		kms.node[1].down = 0;
		ASSERT_EQ(0, skp_provider_get_keks_from(p, uids, 3, keys, NULL, nodes, -1, errs, &err))
			TH_LOG("case %zu: %s", b, err.msg);
		for (int i = 0; i < 3; i++) {
			fkey_bytes(uids[i], want);
			ASSERT_EQ(0, memcmp(want, keys[i], SKP_KEK_LEN));
			ASSERT_EQ(1, nodes[i]);
			skp_secmem_free(keys[i], SKP_KEK_LEN);
		}
		ASSERT_NE(0u, kms.node[0].requests - 1);	/* node 0 was asked (after the probe) */
		h = skp_provider_node(p, 0);
		ASSERT_EQ(0, h->healthy);
		ASSERT_NE(NULL, strstr(h->last_error, "node0:1: malformed response")) TH_LOG("%s", h->last_error);
		ASSERT_NE(NULL, strstr(h->last_error, why[b])) TH_LOG("%s", h->last_error);
		skp_provider_free(p);
	}
}

/* A key that proved wrong is asked again of another node; of the same one only when
 * no other can answer. */
TEST(get_keks_avoiding_a_node)
{
	static const char *const uid[] = { "1" };
	struct skp_provider *p = fake_provider(_metadata, 3);
	unsigned char *key, want[SKP_KEK_LEN];
	int node, state;
	struct skp_err err = { 0 };

	fkey_add("k", 2, KMIP_ALG_AES, 256);
	fkey_bytes("1", want);
	for (int avoid = 0; avoid < 3; avoid++) {
		for (int round = 0; round < 3; round++) {	/* whatever the round-robin start */
			ASSERT_EQ(0, skp_provider_get_keks_from(p, uid, 1, &key, &state, &node, avoid, NULL, &err));
			ASSERT_NE(avoid, node);
			ASSERT_EQ(2, state);
			ASSERT_EQ(0, memcmp(want, key, SKP_KEK_LEN));
			skp_secmem_free(key, SKP_KEK_LEN);
		}
	}
	/* the others down: the avoided node still serves */
	kms.node[1].down = kms.node[2].down = 1;
	ASSERT_EQ(0, skp_provider_get_keks_from(p, uid, 1, &key, NULL, &node, 0, NULL, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, node);
	skp_secmem_free(key, SKP_KEK_LEN);
	skp_provider_free(p);
}

/* Get asks Raw; a server answering Transparent Symmetric Key is read too. */
TEST(get_transparent_key)
{
	struct skp_provider *p = fake_provider(_metadata, 1);
	unsigned char *key, want[SKP_KEK_LEN];
	size_t len;
	struct skp_err err = { 0 };

	fkey_add("k", 2, KMIP_ALG_AES, 256);
	fkey_bytes("1", want);
	kms.transparent = 1;
	ASSERT_EQ(0, skp_provider_get_key(p, "1", &key, &len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ((size_t)SKP_KEK_LEN, len);
	ASSERT_EQ(0, memcmp(want, key, len));
	skp_secmem_free(key, len);
	skp_provider_free(p);
}

/*
 * A slow node with no other to take its work: the request it is working on is waited for
 * (twice as long on each timeout), not sent again.  A KMS loaded by a fleet booting at
 * once took longer than the exchange time, and every resend was more of the load.
 */
TEST(slow_node_request_waited_for)
{
	static const char *const uids[] = { "1", "2", "3" };
	struct skp_provider *p = fake_provider(_metadata, 1);
	struct skp_provider_conf c;
	unsigned char *keys[3];
	struct skp_err errs[3], err = { 0 };

	for (int i = 0; i < 3; i++)
		fkey_add("k", 2, KMIP_ALG_AES, 256);
	kms.node[0].service_ms = 9000;	/* exchange time 2 s + 30 ms: 4 waits */
	ASSERT_EQ(0, skp_provider_get_keks(p, uids, 3, keys, errs, &err)) TH_LOG("%s", err.msg);
	for (int i = 0; i < 3; i++)
		skp_secmem_free(keys[i], SKP_KEK_LEN);
	ASSERT_EQ(2ul, kms.node[0].requests);	/* Discover Versions and the Gets, each once */
	ASSERT_EQ(4ul, kms.node[0].items);	/* Discover Versions, 3 Gets */
	ASSERT_EQ(1, skp_provider_node(p, 0)->healthy);

	/* longer than 8 x the exchange time: given up, once */
	kms.node[0].service_ms = 8 * 2030 + 100;
	kms.node[0].requests = 0;
	ASSERT_EQ(-ETIMEDOUT, skp_provider_get_keks(p, uids, 3, keys, errs, &err));
	ASSERT_EQ(1ul, kms.node[0].requests);
	ASSERT_NE(NULL, strstr(err.msg, "no answer in")) TH_LOG("%s", err.msg);
	/* what skpd tells systemd before a boot retry covers the budget and that wait */
	skp_provider_conf_init(&c, "fake");
	c.timeout_ms = 2000;
	ASSERT_LE(2 * 2000 + 3 * 10 + 8 * 2030, skp_provider_fetch_max_ms(&c, 3));
	skp_provider_conf_free(&c);
	skp_provider_free(p);
}

/* A slow node's work goes to another node when there is one; the slow node's next
 * request gets a longer first wait (its timeout doubled it). */
TEST(slow_node_fails_over_and_backs_off)
{
	static const char *const uids[] = { "1" };
	struct skp_provider *p = fake_provider(_metadata, 2);
	unsigned char *key;
	int node;
	struct skp_err err = { 0 };

	fkey_add("k", 2, KMIP_ALG_AES, 256);
	/* both untried: node 0 is asked first, node 1 can take over */
	kms.node[0].service_ms = 5000;
	ASSERT_EQ(0, skp_provider_get_keks_from(p, uids, 1, &key, NULL, &node, -1, NULL, &err))
		TH_LOG("%s", err.msg);
	skp_secmem_free(key, SKP_KEK_LEN);
	ASSERT_EQ(1, node);
	ASSERT_EQ(2010, kms.node[0].first_wait_ms);	/* the exchange time: then node 1 */
	/* node 1 gone: node 0's next request waits twice as long as the one that timed out
	 * (in the fake no time passes, so the quick answer to it brings the wait down again) */
	kms.node[1].down = 1;
	kms.node[0].first_wait_max = 0;
	ASSERT_EQ(0, skp_provider_get_keks_from(p, uids, 1, &key, NULL, &node, -1, NULL, &err))
		TH_LOG("%s", err.msg);
	skp_secmem_free(key, SKP_KEK_LEN);
	ASSERT_EQ(0, node);
	ASSERT_LE(4000, kms.node[0].first_wait_max);
	skp_provider_free(p);
}

/* Both nodes untried, one down: once it fails to connect, the slow one is the only place
 * for the items, and its request is waited for rather than given up at the exchange time. */
TEST(slow_node_waited_for_once_the_other_fails)
{
	static const char *const uids[] = { "1", "2" };
	struct skp_provider *p = fake_provider(_metadata, 2);
	unsigned char *keys[2];
	int nodes[2];
	struct skp_err errs[2], err = { 0 };

	fkey_add("k", 2, KMIP_ALG_AES, 256);
	fkey_add("k", 2, KMIP_ALG_AES, 256);
	kms.node[0].service_ms = 5000;
	kms.node[1].down = 1;
	ASSERT_EQ(0, skp_provider_get_keks_from(p, uids, 2, keys, NULL, nodes, -1, errs, &err))
		TH_LOG("%s", err.msg);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, nodes[i]);
		skp_secmem_free(keys[i], SKP_KEK_LEN);
	}
	ASSERT_EQ(3ul, kms.node[0].requests);	/* Discover Versions, then each half once */
	skp_provider_free(p);
}

TEST_HARNESS_MAIN
