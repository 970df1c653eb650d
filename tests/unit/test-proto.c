// SPDX-License-Identifier: GPL-2.0
/* Control protocol: every request is validated before dispatch; every record decoded is checked. */
#include <stddef.h>
#include <string.h>

#include "kselftest_harness.h"
#include "proto.h"

TEST(valid_requests)
{
	struct skp_req q;
	struct skp_err err = {0};

	skp_req_init(&q, SKP_CMD_OPEN);
	ASSERT_EQ(0, skp_req_set(q.dev, sizeof(q.dev), "/dev/vda", &err));
	ASSERT_EQ(0, skp_req_set(q.name, sizeof(q.name), "data", &err));
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err)) TH_LOG("%s", err.msg);
	skp_req_init(&q, SKP_CMD_STATUS);
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err));
	skp_req_init(&q, SKP_CMD_REKEY);
	strcpy(q.name, "data");
	q.flags = SKP_REQ_QUERY;
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err)) TH_LOG("%s", err.msg);
	skp_req_init(&q, SKP_CMD_FORMAT);
	strcpy(q.dev, "/dev/vdb");
	q.sector_size = 512;
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err));
	q.flags = SKP_REQ_FORCE;		/* format --force */
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err)) TH_LOG("%s", err.msg);
}

TEST(refused_requests)
{
	struct skp_req q;
	struct skp_err err = {0};

	skp_req_init(&q, SKP_CMD_CLOSE);
	strcpy(q.name, "x");
	ASSERT_EQ(-EBADMSG, skp_req_validate(&q, sizeof(q) - 1, &err));
	q.magic ^= 1;
	ASSERT_EQ(-EBADMSG, skp_req_validate(&q, sizeof(q), &err));
	q.magic ^= 1;
	q.version = SKP_PROTO_VERSION + 1;
	ASSERT_EQ(-EPROTONOSUPPORT, skp_req_validate(&q, sizeof(q), &err));
	q.version = 1;				/* text answers: an skpctl from before records */
	ASSERT_EQ(-EPROTONOSUPPORT, skp_req_validate(&q, sizeof(q), &err));
	q.version = SKP_PROTO_VERSION;
	q.cmd = 0;
	ASSERT_EQ(-EOPNOTSUPP, skp_req_validate(&q, sizeof(q), &err));
	q.cmd = SKP_CMD_MAX + 1;
	ASSERT_EQ(-EOPNOTSUPP, skp_req_validate(&q, sizeof(q), &err));
	q.cmd = SKP_CMD_CLOSE;
	q.flags = SKP_REQ_SHALLOW;		/* close takes no flags */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	q.flags = SKP_REQ_FORCE;		/* FORCE belongs to format */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	q.cmd = SKP_CMD_STATUS;
	q.flags = 1u << 0;			/* version 1's JSON: skpctl formats now */
	memset(q.name, 0, sizeof(q.name));
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	q.cmd = SKP_CMD_CLOSE;
	strcpy(q.name, "x");
	q.flags = 0;
	q.reserved[23] = 1;
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	q.reserved[23] = 0;
	q.rate_mib = 5;				/* the throttle belongs to a deep rekey */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	q.rate_mib = 0;
	q.name[5] = 'j';			/* junk after the NUL */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	ASSERT_NE(NULL, strstr(err.msg, "name malformed"));
	memset(q.name, 'a', sizeof(q.name));	/* no NUL */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	memset(q.name, 0, sizeof(q.name));	/* required field missing */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	ASSERT_NE(NULL, strstr(err.msg, "name missing"));
	strcpy(q.name, "x\n");			/* control character */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	strcpy(q.name, "x");
	strcpy(q.dev, "/dev/vda");		/* field close does not take */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	ASSERT_NE(NULL, strstr(err.msg, "dev not allowed"));
	skp_req_init(&q, SKP_CMD_FORMAT);
	strcpy(q.dev, "relative");
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	strcpy(q.dev, "/dev/vda");
	q.sector_size = 1000;
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	skp_req_init(&q, SKP_CMD_OPEN);
	strcpy(q.dev, "/dev/vda");
	strcpy(q.name, "n");
	q.sector_size = 512;			/* only format takes a sector size */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
	ASSERT_EQ(-ENAMETOOLONG, skp_req_set(q.provider, sizeof(q.provider),
		"0123456789012345678901234567890123456789012345678901234567890123456789", &err));
}

TEST(responses)
{
	struct skp_resp r = {.magic = SKP_PROTO_MAGIC, .version = SKP_PROTO_VERSION, .cmd = SKP_CMD_LIST};
	struct skp_err err = {0};

	ASSERT_EQ(0, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_STATUS, &err));
	r.len = SKP_PROTO_MAX_BODY + 1;
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.len = 0;
	r.status = 5;
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.status = -ENOENT;
	ASSERT_EQ(0, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.flags = SKP_RESP_RECORDS;
	ASSERT_EQ(0, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.flags = 1u << 2;			/* unknown flag */
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.flags = 0;
	/* An error class with a failure only, and a known one. */
	r.err_class = SKP_ERRC_KMS_DOWN;
	ASSERT_EQ(0, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.err_class = SKP_ERRC_MAX + 1;
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_LIST, &err));
	r.err_class = SKP_ERRC_BUSY;
	r.status = 0;
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_LIST, &err));
}

TEST(which_answers_are_records)
{
	ASSERT_EQ(1, skp_req_records(SKP_CMD_STATUS, 0));
	ASSERT_EQ(1, skp_req_records(SKP_CMD_PROVIDER_LIST, 0));
	ASSERT_EQ(1, skp_req_records(SKP_CMD_PROVIDER_TEST, 0));
	ASSERT_EQ(1, skp_req_records(SKP_CMD_LIST, 0));
	ASSERT_EQ(1, skp_req_records(SKP_CMD_KEYS_COUNT, 0));
	ASSERT_EQ(1, skp_req_records(SKP_CMD_REKEY, SKP_REQ_QUERY));
	ASSERT_EQ(0, skp_req_records(SKP_CMD_REKEY, SKP_REQ_DEEP));
	ASSERT_EQ(0, skp_req_records(SKP_CMD_REKEY, SKP_REQ_PAUSE));
	ASSERT_EQ(0, skp_req_records(SKP_CMD_OPEN, 0));
	ASSERT_EQ(0, skp_req_records(SKP_CMD_RELOAD, 0));
}

/* A response body under construction. */
struct body {
	unsigned char b[16384];
	size_t len;
};

static void *put(struct body *b, const void *rec)
{
	const struct skp_rec_hdr *h = rec;
	void *at = b->b + b->len;

	memcpy(at, rec, h->len);
	b->len += h->len;
	return at;
}

static void progress(struct skp_rekey_progress *p, uint32_t state)
{
	p->state = state;
	p->boundary = 1024;
	p->length = 4096;
	p->generation = 7;
	p->percent = 25.0;
	p->mib_per_s = 31.5;
	p->eta_s = 12;
	skp_rec_str(p->error, sizeof(p->error), state == SKP_REKEY_FAILED ? "write error\n\x1b[0m" : "");
}

static void status_body(struct body *b)
{
	struct skp_rec_status st;
	struct skp_rec_provider pv;
	struct skp_rec_node n;
	struct skp_rec_problem pb;
	struct skp_rec_rekey rk;

	skp_rec_init(&st, SKP_REC_STATUS);
	st.started = 1764590000;
	st.devices = 2;
	st.cached_keks = 1;
	st.health_interval = 30;
	st.remediation_interval = 600;
	st.alarm = 1;
	st.target_loaded = 1;
	st.target_version[1] = 1;
	st.n_providers = 1;
	st.n_problems = 1;
	st.n_rekeys = 1;
	skp_rec_str(st.config, sizeof(st.config), "/etc/skp/skpd.conf");
	skp_rec_str(st.target, sizeof(st.target), "skp");
	put(b, &st);
	skp_rec_init(&pv, SKP_REC_PROVIDER);
	skp_rec_str(pv.name, sizeof(pv.name), "corp-kms");
	pv.is_default = 1;
	pv.alarm = 1;
	skp_rec_str(pv.alarm_msg, sizeof(pv.alarm_msg), "node b failing for 2 checks");
	pv.n_nodes = 2;
	put(b, &pv);
	skp_rec_init(&n, SKP_REC_NODE);
	n.state = SKP_NODE_OK;
	n.latency_ms = 1.5;
	skp_rec_str(n.server, sizeof(n.server), "10.0.0.1:5696");
	put(b, &n);
	n.state = SKP_NODE_FAILING;
	n.failing_since = 1764590100;
	n.fails = 2;
	skp_rec_str(n.server, sizeof(n.server), "[fd00::2]:5696");
	skp_rec_str(n.error, sizeof(n.error), "connect: Connection refused");
	put(b, &n);
	skp_rec_init(&pb, SKP_REC_PROBLEM);
	skp_rec_str(pb.mapping, sizeof(pb.mapping), "r1");
	skp_rec_str(pb.problem, sizeof(pb.problem), "KEK 12 is Compromised in the KMS, not Active");
	put(b, &pb);
	skp_rec_init(&rk, SKP_REC_REKEY);
	skp_rec_str(rk.mapping, sizeof(rk.mapping), "d60");
	progress(&rk.p, SKP_REKEY_RUNNING);
	put(b, &rk);
}

/* Every record of b comes back as it went, in order. */
static int same_back(struct body *b)
{
	struct skp_rec_iter it;
	union skp_rec r;
	size_t off = 0;
	int n;

	skp_rec_iter_init(&it, b->b, b->len);
	while ((n = skp_rec_next(&it, &r, NULL)) == 1) {
		if (memcmp(&r, b->b + off, r.h.len))
			return -1;
		off += r.h.len;
	}
	return n == 0 && off == b->len ? 0 : -1;
}

TEST(records_round_trip)
{
	struct skp_err err = {0};
	struct body b = {0};
	struct skp_rec_device v;
	struct skp_rec_keys k;
	struct skp_rec_provider pv;
	struct skp_rec_node n;
	struct skp_rec_rekey rk;

	status_body(&b);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_STATUS, b.b, b.len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, same_back(&b));

	memset(&b, 0, sizeof(b));
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_LIST, b.b, 0, &err));	/* no device open */
	skp_rec_init(&v, SKP_REC_DEVICE);
	v.generation = 3;
	v.data_length = 1ull << 30;
	v.sector_size = 4096;
	memset(v.uuid, 0xab, sizeof(v.uuid));
	skp_rec_str(v.mapping, sizeof(v.mapping), "data1");
	skp_rec_str(v.dev, sizeof(v.dev), "/dev/vda");
	skp_rec_str(v.label, sizeof(v.label), "a \"label\"");
	skp_rec_str(v.provider, sizeof(v.provider), "corp-kms");
	skp_rec_str(v.kek_uid, sizeof(v.kek_uid), "42");
	skp_rec_str(v.kek_name, sizeof(v.kek_name), "skp-kek-0123456789abcdef");
	put(&b, &v);
	progress(&v.rekey, SKP_REKEY_FAILED);
	skp_rec_str(v.problem, sizeof(v.problem), "deep rekey stopped: write error");
	put(&b, &v);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_LIST, b.b, b.len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, same_back(&b));

	memset(&b, 0, sizeof(b));
	skp_rec_init(&k, SKP_REC_KEYS);
	skp_rec_str(k.provider, sizeof(k.provider), "corp-kms");
	k.keks = 2;
	put(&b, &k);
	skp_rec_str(k.provider, sizeof(k.provider), "gone-kms");
	put(&b, &k);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_KEYS_COUNT, b.b, b.len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, same_back(&b));

	memset(&b, 0, sizeof(b));
	skp_rec_init(&pv, SKP_REC_PROVIDER);
	skp_rec_str(pv.name, sizeof(pv.name), "a");
	pv.devices = 1;
	pv.n_nodes = 1;
	put(&b, &pv);
	skp_rec_init(&n, SKP_REC_NODE);
	skp_rec_str(n.server, sizeof(n.server), "kms-a");
	put(&b, &n);
	pv.n_nodes = 0;				/* a provider without servers: none follow */
	put(&b, &pv);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_PROVIDER_LIST, b.b, b.len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, same_back(&b));

	memset(&b, 0, sizeof(b));
	pv.healthy = 1;
	pv.n_nodes = 1;
	put(&b, &pv);
	n.state = SKP_NODE_OK;
	n.latency_ms = 3;
	put(&b, &n);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_PROVIDER_TEST, b.b, b.len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, same_back(&b));

	memset(&b, 0, sizeof(b));
	skp_rec_init(&rk, SKP_REC_REKEY);
	skp_rec_str(rk.mapping, sizeof(rk.mapping), "d60");
	progress(&rk.p, SKP_REKEY_DONE);
	put(&b, &rk);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_REKEY, b.b, b.len, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, same_back(&b));
	ASSERT_STREQ("done", skp_rekey_state_name(rk.p.state));
	ASSERT_STREQ("none", skp_rekey_state_name(SKP_REKEY_NONE));
	ASSERT_STREQ("unknown", skp_rekey_state_name(SKP_REKEY_STATE_MAX + 1));
}

TEST(record_text_fields)
{
	char f[8];

	memset(f, 'x', sizeof(f));
	skp_rec_str(f, sizeof(f), "ab");
	ASSERT_EQ(0, memcmp(f, "ab\0\0\0\0\0\0", 8));
	skp_rec_str(f, sizeof(f), "0123456789");	/* cut, still terminated */
	ASSERT_EQ(0, memcmp(f, "0123456\0", 8));
}

/* cmd's answer bd is refused, saying why. */
#define REFUSED(cmd, bd, why) do { \
	struct skp_err e_ = {0}; \
	ASSERT_EQ(-EBADMSG, skp_resp_records_check(cmd, (bd).b, (bd).len, &e_)); \
	ASSERT_NE(NULL, strstr(e_.msg, why)) TH_LOG("message: %s", e_.msg); \
} while (0)

/* Status with pending skptab entries: after the rekeys, as many as n_pending says. */
TEST(pending_records)
{
	struct body b, good;
	struct skp_rec_pending pd, *pp;
	size_t off_pd;

	memset(&good, 0, sizeof(good));
	status_body(&good);
	((struct skp_rec_status *)good.b)->n_pending = 2;
	skp_rec_init(&pd, SKP_REC_PENDING);
	pd.since = 1764590000;
	pd.next_s = 4.5;
	pd.attempts = 3;
	pd.wait = SKP_PENDING_PROVIDER;
	pd.timeout = 90;
	skp_rec_str(pd.mapping, sizeof(pd.mapping), "data");
	skp_rec_str(pd.provider, sizeof(pd.provider), "corp-kms");
	skp_rec_str(pd.reason, sizeof(pd.reason), "getting KEK 12 from provider \"corp-kms\": timed out");
	put(&good, &pd);
	pd.wait = SKP_PENDING_DEVICE;
	pd.nofail = 1;
	skp_rec_str(pd.provider, sizeof(pd.provider), "");
	put(&good, &pd);
	off_pd = good.len - sizeof(pd);
	ASSERT_EQ(0, skp_resp_records_check(SKP_CMD_STATUS, good.b, good.len, NULL));
	ASSERT_EQ(0, same_back(&good));

	b = good;
	pp = (struct skp_rec_pending *)(b.b + off_pd);
	pp->wait = SKP_PENDING_WAIT_MAX + 1;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	pp = (struct skp_rec_pending *)(b.b + off_pd);
	pp->nofail = 2;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	pp = (struct skp_rec_pending *)(b.b + off_pd);
	memset(pp->reason, 'r', sizeof(pp->reason));
	REFUSED(SKP_CMD_STATUS, b, "without its NUL");
	b = good;
	((struct skp_rec_status *)b.b)->reserved = 1;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	((struct skp_rec_status *)b.b)->n_pending = 3;
	REFUSED(SKP_CMD_STATUS, b, "ends where a pending record is due");
	b = good;
	((struct skp_rec_status *)b.b)->n_pending = 1;
	REFUSED(SKP_CMD_STATUS, b, "records past the end");
	b = good;
	((struct skp_rec_status *)b.b)->n_rekeys = 0;
	REFUSED(SKP_CMD_STATUS, b, "a rekey record where a pending record is due");
}

TEST(malformed_records_refused)
{
	struct body b, good;
	struct skp_rec_status *st;
	struct skp_rec_provider *pv;
	struct skp_rec_node *n;
	struct skp_rec_rekey *rk;
	size_t off_pv = sizeof(struct skp_rec_status);
	size_t off_n = off_pv + sizeof(struct skp_rec_provider);
	size_t off_rk;

	memset(&good, 0, sizeof(good));
	status_body(&good);
	off_rk = good.len - sizeof(struct skp_rec_rekey);

	/* Truncated: inside a header, inside a record (its length runs past the body). */
	b = good;
	b.len = 3;
	REFUSED(SKP_CMD_STATUS, b, "truncated record");
	b = good;
	b.len -= 8;
	REFUSED(SKP_CMD_STATUS, b, "past the end of the body");
	b = good;
	b.len = 0;
	REFUSED(SKP_CMD_STATUS, b, "ends where a status record is due");

	/* A length that is not the type's size, whether past the body or not. */
	b = good;
	((struct skp_rec_hdr *)(b.b + off_rk))->len = 1u << 30;
	REFUSED(SKP_CMD_STATUS, b, "expected 392");
	b = good;
	((struct skp_rec_hdr *)b.b)->len = 8;
	REFUSED(SKP_CMD_STATUS, b, "expected 352");

	/* Unknown types, reserved header bytes. */
	b = good;
	((struct skp_rec_hdr *)(b.b + off_n))->type = SKP_REC_MAX + 1;
	REFUSED(SKP_CMD_STATUS, b, "unknown record type");
	b = good;
	((struct skp_rec_hdr *)b.b)->type = 0;
	REFUSED(SKP_CMD_STATUS, b, "unknown record type");
	b = good;
	((struct skp_rec_hdr *)b.b)->reserved = 1;
	REFUSED(SKP_CMD_STATUS, b, "reserved");

	/* Text fields: no NUL, junk after it (control characters inside are fine: round trip). */
	b = good;
	st = (struct skp_rec_status *)b.b;
	memset(st->target, 'a', sizeof(st->target));
	REFUSED(SKP_CMD_STATUS, b, "without its NUL");
	b = good;
	n = (struct skp_rec_node *)(b.b + off_n);
	memset(n->error, 'x', sizeof(n->error));
	REFUSED(SKP_CMD_STATUS, b, "without its NUL");
	b = good;
	n = (struct skp_rec_node *)(b.b + off_n);
	n->server[sizeof(n->server) - 2] = 'x';
	REFUSED(SKP_CMD_STATUS, b, "junk after");
	b = good;
	rk = (struct skp_rec_rekey *)(b.b + off_rk);
	memset(rk->p.error, 'e', sizeof(rk->p.error));
	REFUSED(SKP_CMD_STATUS, b, "without its NUL");

	/* Enumerations and booleans out of range, reserved words set. */
	b = good;
	n = (struct skp_rec_node *)(b.b + off_n);
	n->state = SKP_NODE_STATE_MAX + 1;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	rk = (struct skp_rec_rekey *)(b.b + off_rk);
	rk->p.state = SKP_REKEY_STATE_MAX + 1;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	rk = (struct skp_rec_rekey *)(b.b + off_rk);
	rk->p.reserved = 1;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	pv = (struct skp_rec_provider *)(b.b + off_pv);
	pv->is_default = 2;
	REFUSED(SKP_CMD_STATUS, b, "out of range");
	b = good;
	((struct skp_rec_status *)b.b)->alarm = 0xffffffff;
	REFUSED(SKP_CMD_STATUS, b, "out of range");

	/* Counts larger than the records that follow, or smaller (records left over). */
	b = good;
	pv = (struct skp_rec_provider *)(b.b + off_pv);
	pv->n_nodes = 3;
	REFUSED(SKP_CMD_STATUS, b, "a problem record where a node record is due");
	b = good;
	((struct skp_rec_status *)b.b)->n_providers = 1000;
	REFUSED(SKP_CMD_STATUS, b, "where a provider record is due");
	b = good;
	((struct skp_rec_status *)b.b)->n_rekeys = 0xffffffff;
	REFUSED(SKP_CMD_STATUS, b, "ends where a rekey record is due");
	b = good;
	((struct skp_rec_status *)b.b)->n_rekeys = 0;
	REFUSED(SKP_CMD_STATUS, b, "records past the end");
	b = good;
	pv = (struct skp_rec_provider *)(b.b + off_pv);
	pv->n_nodes = 1;
	REFUSED(SKP_CMD_STATUS, b, "a node record where a problem record is due");

	/* Records of another answer, or where text is due. */
	REFUSED(SKP_CMD_LIST, good, "a status record where a device record is due");
	REFUSED(SKP_CMD_KEYS_COUNT, good, "where a keys record is due");
	REFUSED(SKP_CMD_REKEY, good, "where a rekey record is due");
	b = good;
	b.len = 0;
	REFUSED(SKP_CMD_REKEY, b, "ends where a rekey record is due");
	b = good;
	memmove(b.b, b.b + off_rk, sizeof(struct skp_rec_rekey));
	b.len = 2 * sizeof(struct skp_rec_rekey);
	memcpy(b.b + sizeof(struct skp_rec_rekey), b.b, sizeof(struct skp_rec_rekey));
	REFUSED(SKP_CMD_REKEY, b, "records past the end");
	REFUSED(SKP_CMD_OPEN, good, "answers with text");
}

TEST_HARNESS_MAIN
