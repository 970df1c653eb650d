// SPDX-License-Identifier: GPL-2.0
/*
 * KMIP message layer against the OASIS "KMIP Test Cases Version 1.1" byte strings.
 * The hex below is data transcribed from PyKMIP's unit tests
 * (kmip/tests/unit/core/messages/test_messages.py, payloads/test_query.py,
 * payloads/test_discover_versions.py), which copy the OASIS document:
 *   REQ_/RESP_CREATE   section 3.1.1 (Create, AES-128 with usage mask 0x0C)
 *   REQ_/RESP_DESTROY  section 3.1.1 (Destroy)
 *   REQ_/RESP_LOCATE   section 3.1.3 (Locate by Object Type and Name "Key1")
 *   REQ_/RESP_GET      section 3.1.3 (Get; a 24-byte 3DES key)
 *   QUERY_*_PAYLOAD    section 12.1 (Query Operations + Objects; PyKMIP added the
 *                      Application Namespaces to the response payload)
 *   DV_*_PAYLOAD       Discover Versions payloads listing 1.1 and 1.0 (section 11.1
 *                      use case; as encoded in PyKMIP's test_discover_versions.py)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hex.h"
#include "kmip.h"
#include "secmem.h"
#include "tls.h"

static const char REQ_CREATE[] =
	"42007801000001204200770100000038420069010000002042006a0200000004"
	"000000010000000042006b0200000004000000010000000042000d0200000004"
	"000000010000000042000f01000000d842005c05000000040000000100000000"
	"42007901000000c04200570500000004000000020000000042009101000000a8"
	"420008010000003042000a070000001743727970746f6772617068696320416c"
	"676f726974686d0042000b050000000400000003000000004200080100000030"
	"42000a070000001443727970746f67726170686963204c656e67746800000000"
	"42000b02000000040000008000000000420008010000003042000a0700000018"
	"43727970746f67726170686963205573616765204d61736b42000b0200000004"
	"0000000c00000000";
static const char RESP_CREATE[] =
	"42007b01000000c042007a0100000048420069010000002042006a0200000004"
	"000000010000000042006b020000000400000001000000004200920900000008"
	"000000004f9a54e542000d0200000004000000010000000042000f0100000068"
	"42005c0500000004000000010000000042007f05000000040000000000000000"
	"42007c0100000040420057050000000400000002000000004200940700000024"
	"66623462356239632d363138382d346336332d383134322d6665396333323831"
	"3239666300000000";
static const char REQ_GET[] =
	"42007801000000904200770100000038420069010000002042006a0200000004"
	"000000010000000042006b0200000004000000010000000042000d0200000004"
	"000000010000000042000f010000004842005c05000000040000000a00000000"
	"4200790100000030420094070000002434396131636138382d366265612d3466"
	"62322d623435302d37653538383032633330333800000000";
static const char RESP_GET[] =
	"42007b010000012842007a0100000048420069010000002042006a0200000004"
	"000000010000000042006b020000000400000001000000004200920900000008"
	"000000004f9a54e742000d0200000004000000010000000042000f01000000d0"
	"42005c05000000040000000a0000000042007f05000000040000000000000000"
	"42007c01000000a8420057050000000400000002000000004200940700000024"
	"34396131636138382d366265612d346662322d623435302d3765353838303263"
	"333033380000000042008f010000006042004001000000584200420500000004"
	"0000000100000000420045010000002042004308000000187367578051012a6d"
	"134a855e25c8cd5e4ca131455729d3c842002805000000040000000200000000"
	"42002a0200000004000000a800000000";
static const char REQ_DESTROY[] =
	"42007801000000904200770100000038420069010000002042006a0200000004"
	"000000010000000042006b0200000004000000010000000042000d0200000004"
	"000000010000000042000f010000004842005c05000000040000001400000000"
	"4200790100000030420094070000002466623462356239632d363138382d3463"
	"36332d383134322d66653963333238313239666300000000";
static const char RESP_DESTROY[] =
	"42007b01000000b042007a0100000048420069010000002042006a0200000004"
	"000000010000000042006b020000000400000001000000004200920900000008"
	"000000004f9a54e542000d0200000004000000010000000042000f0100000058"
	"42005c0500000004000000140000000042007f05000000040000000000000000"
	"42007c0100000030420094070000002466623462356239632d363138382d3463"
	"36332d383134322d66653963333238313239666300000000";
static const char REQ_LOCATE[] =
	"42007801000000d04200770100000038420069010000002042006a0200000004"
	"000000010000000042006b0200000004000000010000000042000d0200000004"
	"000000010000000042000f010000008842005c05000000040000000800000000"
	"4200790100000070420008010000002842000a070000000b4f626a6563742054"
	"797065000000000042000b050000000400000002000000004200080100000038"
	"42000a07000000044e616d650000000042000b01000000204200550700000004"
	"4b6579310000000042005405000000040000000100000000";
static const char RESP_LOCATE[] =
	"42007b01000000b042007a0100000048420069010000002042006a0200000004"
	"000000010000000042006b020000000400000001000000004200920900000008"
	"000000004f9a54e642000d0200000004000000010000000042000f0100000058"
	"42005c0500000004000000080000000042007f05000000040000000000000000"
	"42007c0100000030420094070000002434396131636138382d366265612d3466"
	"62322d623435302d37653538383032633330333800000000";
/*
 * A KEK Create as a provider with a credential and Create settings sends it (KMIP 1.4,
 * username "skp", password "s3cret"; Name "kek-1", Operation Policy Name "skp-shared",
 * Object Group "disks", x-site "fra1"), as PyKMIP 0.10's own encoder writes it
 * (kmip.core.messages.RequestMessage with a CreateRequestPayload and a Credential).
 */
static const char REQ_CREATE_SETTINGS[] =
	"42007801000002404200770100000080420069010000002042006a0200000004"
	"000000010000000042006b0200000004000000040000000042000c0100000040"
	"4200230100000038420024050000000400000001000000004200250100000020"
	"4200990700000003736b7000000000004200a107000000067333637265740000"
	"42000d0200000004000000010000000042000f01000001b042005c0500000004"
	"0000000100000000420079010000019842005705000000040000000200000000"
	"4200910100000180420008010000003042000a070000001743727970746f6772"
	"617068696320416c676f726974686d0042000b05000000040000000300000000"
	"420008010000003042000a070000001443727970746f67726170686963204c65"
	"6e6774680000000042000b020000000400000100000000004200080100000030"
	"42000a070000001843727970746f67726170686963205573616765204d61736b"
	"42000b02000000040000003c00000000420008010000003842000a0700000004"
	"4e616d650000000042000b010000002042005507000000056b656b2d31000000"
	"42005405000000040000000100000000420008010000003842000a0700000015"
	"4f7065726174696f6e20506f6c696379204e616d6500000042000b070000000a"
	"736b702d736861726564000000000000420008010000002842000a070000000c"
	"4f626a6563742047726f75700000000042000b07000000056469736b73000000"
	"420008010000002042000a0700000006782d73697465000042000b0700000004"
	"6672613100000000";
static const char QUERY_REQ_PAYLOAD[] =
	"4200790100000020420074050000000400000001000000004200740500000004"
	"0000000200000000";
static const char QUERY_RESP_PAYLOAD[] =
	"42007c010000027042005c0500000004000000010000000042005c0500000004"
	"000000020000000042005c0500000004000000030000000042005c0500000004"
	"000000040000000042005c0500000004000000060000000042005c0500000004"
	"000000070000000042005c0500000004000000080000000042005c0500000004"
	"000000090000000042005c05000000040000000a0000000042005c0500000004"
	"0000000b0000000042005c05000000040000000c0000000042005c0500000004"
	"0000000d0000000042005c05000000040000000e0000000042005c0500000004"
	"0000000f0000000042005c0500000004000000100000000042005c0500000004"
	"000000110000000042005c0500000004000000120000000042005c0500000004"
	"000000130000000042005c0500000004000000140000000042005c0500000004"
	"000000150000000042005c0500000004000000160000000042005c0500000004"
	"000000180000000042005c0500000004000000190000000042005c0500000004"
	"0000001a0000000042005c05000000040000001d0000000042005c0500000004"
	"0000001e00000000420057050000000400000001000000004200570500000004"
	"0000000200000000420057050000000400000003000000004200570500000004"
	"0000000400000000420057050000000400000006000000004200570500000004"
	"000000070000000042009d070000002e49424d2074657374207365727665722c"
	"206e6f742d544b4c4d20322e302e312e31204b4d495020322e302e302e310000"
	"4200880100000000420003070000000b4e616d65737061636520310000000000"
	"420003070000000b4e616d65737061636520320000000000";
static const char DV_REQ_PAYLOAD[] =
	"4200790100000050420069010000002042006a02000000040000000100000000"
	"42006b02000000040000000100000000420069010000002042006a0200000004"
	"000000010000000042006b02000000040000000000000000";
static const char DV_RESP_PAYLOAD[] =
	"42007c0100000050420069010000002042006a02000000040000000100000000"
	"42006b02000000040000000100000000420069010000002042006a0200000004"
	"000000010000000042006b02000000040000000000000000";


static struct skp_kmip_opts oasis = { .major = 1, .minor = 1, .no_batch_ids = 1 };

#define CHECK_REQ(req, hex) do {						\
	unsigned char want[512];						\
	size_t wn = unhex(hex, want);						\
	ASSERT_EQ(0, skp_kmip_req_finish(req, &err));				\
	ASSERT_EQ(wn, (req)->enc.len);						\
	ASSERT_EQ(0, memcmp(want, (req)->enc.buf, wn));				\
	skp_kmip_req_free(req);							\
} while (0)

/* Payload-level vectors: the encoded request must contain the payload verbatim. */
static int has_payload(const struct skp_kmip_req *r, const char *hex)
{
	unsigned char want[256];
	size_t wn = unhex(hex, want);

	return memmem(r->enc.buf, r->enc.len, want, wn) != NULL;
}

TEST(request_create_3_1_1)
{
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	ASSERT_EQ(0u, skp_kmip_add_create(&r, KMIP_ALG_AES, 128, KMIP_USAGE_ENCRYPT | KMIP_USAGE_DECRYPT, NULL));
	CHECK_REQ(&r, REQ_CREATE);
}

TEST(request_destroy_3_1_1)
{
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	skp_kmip_add_destroy(&r, "fb4b5b9c-6188-4c63-8142-fe9c328129fc");
	CHECK_REQ(&r, REQ_DESTROY);
}

TEST(request_get_3_1_3)
{
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	skp_kmip_add_get_fmt(&r, "49a1ca88-6bea-4fb2-b450-7e58802c3038", 0);
	CHECK_REQ(&r, REQ_GET);
}

/* skp's Get asks for Raw: a server free to choose may send another format. */
TEST(request_get_asks_raw)
{
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	skp_kmip_add_get(&r, "49a1ca88-6bea-4fb2-b450-7e58802c3038");
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	/* the OASIS payload (Unique Identifier), then Key Format Type Raw */
	ASSERT_TRUE(has_payload(&r, "4200790100000040420094070000002434396131636138382d366265612d3466"
				"62322d623435302d37653538383032633330333800000000"
				"42004205000000040000000100000000"));
	skp_kmip_req_free(&r);
}

TEST(request_locate_3_1_3)
{
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	skp_kmip_add_locate(&r, "Key1", KMIP_OBJ_SYMMETRIC_KEY, 0, 0);
	CHECK_REQ(&r, REQ_LOCATE);
}

TEST(request_query_12_1)
{
	static const uint32_t f[] = { KMIP_QUERY_OPERATIONS, KMIP_QUERY_OBJECTS };
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	skp_kmip_add_query(&r, f, 2);
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	ASSERT_TRUE(has_payload(&r, QUERY_REQ_PAYLOAD));
	skp_kmip_req_free(&r);
}

TEST(request_discover_versions)
{
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &oasis, &err));
	skp_kmip_add_discover(&r);
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	/* We ask for every version: an empty Request Payload. */
	ASSERT_TRUE(has_payload(&r, "4200790100000000"));
	skp_kmip_req_free(&r);
}

TEST(request_batch_ids_auth_and_version)
{
	struct skp_kmip_opts o = { .major = 1, .minor = 4, .username = "u", .password = "pw" };
	struct skp_kmip_req r;
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &o, &err));
	ASSERT_EQ(0u, skp_kmip_add_get(&r, "a"));
	ASSERT_EQ(1u, skp_kmip_add_get(&r, "b"));
	ASSERT_EQ(2u, skp_kmip_add_locate(&r, "n", 0, 10, 20));
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	ASSERT_EQ(0, skp_ttlv_validate(r.enc.buf, r.enc.len, 0, &err));
	/* minor 4, batch count 3, IDs 0..2, Credential Type 1 with username/password */
	ASSERT_TRUE(has_payload(&r, "42006b02000000040000000400000000"));
	ASSERT_TRUE(has_payload(&r, "42000d02000000040000000300000000"));
	ASSERT_TRUE(has_payload(&r, "420093080000000400000002"));
	ASSERT_TRUE(has_payload(&r, "42002405000000040000000100000000"));
	ASSERT_TRUE(has_payload(&r, "4200a107000000027077"));
	ASSERT_TRUE(has_payload(&r, "4200d402000000040000001400000000"));	/* Offset Items 20 */
	/* A request is not a response. */
	ASSERT_EQ(-EPROTO, skp_kmip_resp_parse(r.enc.buf, r.enc.len, &resp, &err));
	skp_kmip_req_free(&r);
	/* Offset Items needs 1.3; protocol 2.0 refused. */
	o.minor = 1;
	ASSERT_EQ(0, skp_kmip_req_init(&r, &o, &err));
	skp_kmip_add_locate(&r, "n", 0, 10, 20);
	ASSERT_EQ(-EOPNOTSUPP, skp_kmip_req_finish(&r, &err));
	skp_kmip_req_free(&r);
	o.major = 2, o.minor = 0;
	ASSERT_EQ(-EINVAL, skp_kmip_req_init(&r, &o, &err));
}

/* Batch Error Continuation Option Continue (42000E, enum 1) in the header, before Batch
 * Count, only when asked: the provider asks it for requests of more than one item. */
TEST(request_batch_continue)
{
	struct skp_kmip_opts o = { .major = 1, .minor = 4 };
	struct skp_kmip_req r;
	struct skp_err err = { 0 };
	unsigned char *opt, *count;

	ASSERT_EQ(0, skp_kmip_req_init(&r, &o, &err));
	skp_kmip_add_get(&r, "a");
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	ASSERT_FALSE(has_payload(&r, "42000e05"));
	skp_kmip_req_free(&r);
	o.batch_continue = 1;
	ASSERT_EQ(0, skp_kmip_req_init(&r, &o, &err));
	skp_kmip_add_get(&r, "a");
	skp_kmip_add_get(&r, "b");
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	ASSERT_EQ(0, skp_ttlv_validate(r.enc.buf, r.enc.len, 0, &err));
	opt = memmem(r.enc.buf, r.enc.len, "\x42\x00\x0e\x05\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x00", 16);
	count = memmem(r.enc.buf, r.enc.len, "\x42\x00\x0d\x02\x00\x00\x00\x04\x00\x00\x00\x02", 12);
	ASSERT_NE(NULL, opt);
	ASSERT_NE(NULL, count);
	ASSERT_TRUE(opt < count);
	skp_kmip_req_free(&r);
}

TEST(request_create_settings_and_credential)
{
	static const struct skp_kmip_attr extra[] = {
		{ "Operation Policy Name", "skp-shared" }, { "Object Group", "disks" }, { "x-site", "fra1" },
	};
	struct skp_kmip_opts o = { .major = 1, .minor = 4, .username = "skp", .password = "s3cret",
				   .no_batch_ids = 1, .create_attrs = extra, .n_create_attrs = 3 };
	unsigned char want[1024];
	size_t wn = unhex(REQ_CREATE_SETTINGS, want);
	struct skp_kmip_req r;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(&r, &o, &err));
	ASSERT_EQ(0u, skp_kmip_add_create(&r, KMIP_ALG_AES, 256, SKP_KMIP_KEK_USAGE_MASK, "kek-1"));
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	ASSERT_EQ(wn, r.enc.len);
	ASSERT_EQ(0, memcmp(want, r.enc.buf, wn));
	skp_kmip_req_free(&r);
	/* The settings go on Create only: a Get in the same options carries none of them. */
	ASSERT_EQ(0, skp_kmip_req_init(&r, &o, &err));
	skp_kmip_add_get(&r, "1");
	ASSERT_EQ(0, skp_kmip_req_finish(&r, &err));
	ASSERT_EQ(NULL, memmem(r.enc.buf, r.enc.len, "disks", 5));
	ASSERT_EQ(NULL, memmem(r.enc.buf, r.enc.len, "x-site", 6));
	skp_kmip_req_free(&r);
}

static void parse_hex(struct __test_metadata *_metadata, const char *hex, unsigned char *buf,
		      size_t *n, struct skp_kmip_resp *resp)
{
	struct skp_err err = { 0 };

	*n = unhex(hex, buf);
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, *n, resp, &err));
	ASSERT_EQ(1, resp->major);
	ASSERT_EQ(1, resp->minor);
	ASSERT_EQ(1u, resp->count);
}

TEST(response_create_3_1_1)
{
	unsigned char buf[512];
	size_t n;
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };
	char uid[SKP_UID_MAX];
	const struct skp_kmip_result *res;

	parse_hex(_metadata, RESP_CREATE, buf, &n, &resp);
	ASSERT_EQ(0x4F9A54E5, resp.timestamp);
	res = skp_kmip_resp_find(&resp, 0);
	ASSERT_NE(NULL, res);
	ASSERT_EQ(0, skp_kmip_result_check(res, KMIP_OP_CREATE, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_result_check(res, KMIP_OP_GET, &err));
	ASSERT_EQ(0, skp_kmip_parse_uid(res, uid, sizeof(uid), &err));
	ASSERT_STREQ("fb4b5b9c-6188-4c63-8142-fe9c328129fc", uid);
	ASSERT_EQ(-EPROTO, skp_kmip_parse_uid(res, uid, 10, &err));	/* does not fit */
	skp_kmip_resp_free(&resp);
}

TEST(response_destroy_3_1_1)
{
	unsigned char buf[512];
	size_t n;
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };
	char uid[SKP_UID_MAX];

	parse_hex(_metadata, RESP_DESTROY, buf, &n, &resp);
	ASSERT_EQ(0, skp_kmip_result_check(&resp.items[0], KMIP_OP_DESTROY, &err));
	ASSERT_EQ(0, skp_kmip_parse_uid(&resp.items[0], uid, sizeof(uid), &err));
	ASSERT_STREQ("fb4b5b9c-6188-4c63-8142-fe9c328129fc", uid);
	skp_kmip_resp_free(&resp);
}

TEST(response_locate_3_1_3)
{
	unsigned char buf[512];
	size_t n, got;
	int64_t located;
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };
	char uids[2][SKP_UID_MAX];

	parse_hex(_metadata, RESP_LOCATE, buf, &n, &resp);
	ASSERT_EQ(0, skp_kmip_result_check(&resp.items[0], KMIP_OP_LOCATE, &err));
	ASSERT_EQ(0, skp_kmip_parse_locate(&resp.items[0], uids, 2, &got, &located, &err));
	ASSERT_EQ(1u, got);
	ASSERT_EQ(-1, located);
	ASSERT_STREQ("49a1ca88-6bea-4fb2-b450-7e58802c3038", uids[0]);
	skp_kmip_resp_free(&resp);
}

TEST(response_get_3_1_3)
{
	static const unsigned char key[24] = {
		0x73, 0x67, 0x57, 0x80, 0x51, 0x01, 0x2A, 0x6D, 0x13, 0x4A, 0x85, 0x5E,
		0x25, 0xC8, 0xCD, 0x5E, 0x4C, 0xA1, 0x31, 0x45, 0x57, 0x29, 0xD3, 0xC8,
	};
	unsigned char buf[512], *k = NULL;
	size_t n, kl = 0;
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };

	parse_hex(_metadata, RESP_GET, buf, &n, &resp);
	ASSERT_EQ(0, skp_kmip_result_check(&resp.items[0], KMIP_OP_GET, &err));
	ASSERT_EQ(0, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err));
	ASSERT_EQ(24u, kl);
	ASSERT_EQ(0, memcmp(key, k, 24));
	skp_secmem_free(k, kl);
	skp_kmip_resp_free(&resp);
	/* Every truncation of the message is refused. */
	for (size_t i = 0; i < n; i++)
		ASSERT_NE(0, skp_kmip_resp_parse(buf, i, &resp, &err));
	/* Key Material as a Text String instead of a Byte String: wrong type for the tag. */
	{
		unsigned char *p = memmem(buf, n, "\x42\x00\x43\x08", 4);

		ASSERT_NE(NULL, p);
		p[3] = 0x07;
		ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
		ASSERT_EQ(-EPROTO, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err));
		ASSERT_NE(NULL, strstr(err.msg, "420043"));
		skp_kmip_resp_free(&resp);
	}
}

/* Wraps a payload into a one-item response (header taken from RESP_CREATE). */
static size_t wrap_payload(const char *payload_hex, uint32_t op, unsigned char *out)
{
	unsigned char hdr[512], pl[1024];
	size_t hn = unhex(RESP_CREATE, hdr), pn = unhex(payload_hex, pl), n = 0, bi;

	(void)hn;
	memcpy(out, hdr, 0x58);	/* message header + response header (batch count 1) */
	n = 0x58;
	bi = n;
	memcpy(out + n, "\x42\x00\x0f\x01\x00\x00\x00\x00", 8);
	n += 8;
	memcpy(out + n, "\x42\x00\x5c\x05\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00", 16);
	out[n + 11] = (unsigned char)op;
	n += 16;
	memcpy(out + n, "\x42\x00\x7f\x05\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00", 16);
	n += 16;
	memcpy(out + n, pl, pn);
	n += pn;
	out[bi + 6] = (unsigned char)((n - bi - 8) >> 8);
	out[bi + 7] = (unsigned char)(n - bi - 8);
	out[6] = (unsigned char)((n - 8) >> 8);
	out[7] = (unsigned char)(n - 8);
	return n;
}

TEST(response_query_12_1)
{
	unsigned char buf[2048];
	size_t n = wrap_payload(QUERY_RESP_PAYLOAD, KMIP_OP_QUERY, buf);
	struct skp_kmip_resp resp;
	struct skp_kmip_query q;
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(0, skp_kmip_result_check(&resp.items[0], KMIP_OP_QUERY, &err));
	ASSERT_EQ(0, skp_kmip_parse_query(&resp.items[0], &q, &err));
	ASSERT_EQ(26u, q.n_ops);
	ASSERT_EQ(KMIP_OP_CREATE, q.ops[0]);
	ASSERT_EQ(KMIP_OP_DISCOVER_VERSIONS, q.ops[25]);
	ASSERT_EQ(6u, q.n_objects);
	ASSERT_STREQ("IBM test server, not-TKLM 2.0.1.1 KMIP 2.0.0.1", q.vendor);
	ASSERT_EQ(1, q.has_server_info);
	skp_kmip_resp_free(&resp);
}

TEST(response_discover_versions)
{
	unsigned char buf[1024];
	size_t n = wrap_payload(DV_RESP_PAYLOAD, KMIP_OP_DISCOVER_VERSIONS, buf), got;
	struct skp_kmip_resp resp;
	struct skp_kmip_version v[4];
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(0, skp_kmip_parse_versions(&resp.items[0], v, 4, &got, &err));
	ASSERT_EQ(2u, got);
	ASSERT_EQ(1, v[0].major);
	ASSERT_EQ(1, v[0].minor);
	ASSERT_EQ(0, v[1].minor);
	skp_kmip_resp_free(&resp);
	/* The request payload vector is what a client listing 1.1 and 1.0 sends. */
	ASSERT_EQ(88u, strlen(DV_REQ_PAYLOAD) / 2);
}

/* Negotiation takes the highest 1.x the client speaks, whatever the server's order. */
TEST(pick_version)
{
	static const struct skp_kmip_version pykmip[] = { {2, 0}, {1, 4}, {1, 3}, {1, 2}, {1, 1}, {1, 0} };
	static const struct skp_kmip_version unordered[] = { {1, 0}, {1, 3}, {1, 1} };
	static const struct skp_kmip_version future[] = { {1, 7}, {1, 2}, {3, 0} };
	static const struct skp_kmip_version none[] = { {2, 0}, {2, 1}, {0, 9}, {1, -1} };

	ASSERT_EQ(4, skp_kmip_pick_version(pykmip, 6));
	ASSERT_EQ(3, skp_kmip_pick_version(unordered, 3));
	ASSERT_EQ(2, skp_kmip_pick_version(future, 3));
	ASSERT_EQ(-1, skp_kmip_pick_version(none, 4));
	ASSERT_EQ(-1, skp_kmip_pick_version(pykmip, 0));
	ASSERT_EQ(0, skp_kmip_pick_version(unordered, 1));
}

/* An error response as PyKMIP sends it (PyKMIP test_messages.py
 * invalid_message_response): status Operation Failed, reason Invalid Message. */
TEST(response_error_mapping)
{
	static const char hex[] =
		"42007b01000000b042007a0100000048420069010000002042006a0200000004"
		"000000010000000042006b02000000040000000100000000420092090000000800"
		"00000056fa43bd42000d0200000004000000010000000042000f010000005842"
		"007f0500000004000000010000000042007e0500000004000000040000000042"
		"007d070000002a44656661756c7420726573706f6e73652e204e6f206f706572"
		"6174696f6e7320737570706f727465642e000000000000";
	unsigned char buf[256];
	size_t n = unhex(hex, buf);
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };
	const struct skp_kmip_result *res;

	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	res = skp_kmip_resp_find(&resp, 0);	/* no batch ID in a one-item answer */
	ASSERT_NE(NULL, res);
	ASSERT_EQ(-EINVAL, skp_kmip_result_check(res, KMIP_OP_GET, &err));
	ASSERT_STREQ("Get failed: Invalid Message (reason 0x04): Default response. No operations supported.",
		     err.msg);
	/* Permission Denied maps to -EACCES with a clear text. */
	{
		struct skp_kmip_result r2 = *res;

		r2.reason = 0x0C;
		strcpy(r2.message, "Could not locate object: 7");
		ASSERT_EQ(-EACCES, skp_kmip_result_check(&r2, KMIP_OP_GET, &err));
		ASSERT_NE(NULL, strstr(err.msg, "Permission Denied"));
		r2.reason = 0x01;
		ASSERT_EQ(-ENOENT, skp_kmip_result_check(&r2, KMIP_OP_GET, &err));
	}
	skp_kmip_resp_free(&resp);
	/* Batch Count that disagrees with the items */
	buf[0x53] = 2;	/* low byte of the header's Batch Count value */
	ASSERT_EQ(-EPROTO, skp_kmip_resp_parse(buf, n, &resp, &err));
}

/* A hostile KMS's answer to op whose strings carry a terminal escape and a newline (a
 * fake log line): Get fails with such a Result Message, Create and Locate return such a
 * Unique Identifier, Get Attributes such a Name (and, with evil_uid, such a UID). */
#define EVIL "\x1b[2J\nskpd: FAKE"
static size_t evil_response(unsigned char *out, uint32_t op, int evil_uid)
{
	struct skp_ttlv_enc e;
	size_t n;

	skp_ttlv_enc_init(&e, 4096);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_MESSAGE);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_HEADER);
	skp_ttlv_begin(&e, KMIP_TAG_PROTOCOL_VERSION);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MINOR, 1);
	skp_ttlv_end(&e);
	skp_ttlv_int(&e, KMIP_TAG_BATCH_COUNT, 1);
	skp_ttlv_end(&e);
	skp_ttlv_begin(&e, KMIP_TAG_BATCH_ITEM);
	skp_ttlv_enum(&e, KMIP_TAG_OPERATION, op);
	if (op == KMIP_OP_GET) {
		skp_ttlv_enum(&e, KMIP_TAG_RESULT_STATUS, KMIP_STATUS_FAILED);
		skp_ttlv_enum(&e, KMIP_TAG_RESULT_REASON, 1);
		skp_ttlv_text(&e, KMIP_TAG_RESULT_MESSAGE, "no key" EVIL);
	} else {
		skp_ttlv_enum(&e, KMIP_TAG_RESULT_STATUS, KMIP_STATUS_SUCCESS);
		skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_PAYLOAD);
		skp_ttlv_text(&e, KMIP_TAG_UNIQUE_IDENTIFIER, op != KMIP_OP_GET_ATTRIBUTES || evil_uid ? "7" EVIL : "7");
		if (op == KMIP_OP_GET_ATTRIBUTES) {
			skp_ttlv_begin(&e, KMIP_TAG_ATTRIBUTE);
			skp_ttlv_text(&e, KMIP_TAG_ATTRIBUTE_NAME, "Name");
			skp_ttlv_begin(&e, KMIP_TAG_ATTRIBUTE_VALUE);
			skp_ttlv_text(&e, KMIP_TAG_NAME_VALUE, "kek" EVIL);
			skp_ttlv_enum(&e, KMIP_TAG_NAME_TYPE, KMIP_NAME_TEXT);
			skp_ttlv_end(&e);
			skp_ttlv_end(&e);
		}
		skp_ttlv_end(&e);
	}
	skp_ttlv_end(&e);
	skp_ttlv_end(&e);
	n = e.len;
	memcpy(out, e.buf, n);
	skp_ttlv_enc_free(&e);
	return n;
}

static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 1;
	return 0;
}

TEST(hostile_strings)
{
	unsigned char buf[4096];
	size_t n, got;
	struct skp_kmip_resp resp;
	struct skp_key_attrs a;
	struct skp_err err = { 0 };
	char uid[SKP_UID_MAX], uids[2][SKP_UID_MAX];

	/* a Result Message is kept with its control characters escaped */
	n = evil_response(buf, KMIP_OP_GET, 0);
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("no key\\x1b[2J\\x0askpd: FAKE", resp.items[0].message);
	ASSERT_EQ(-ENOENT, skp_kmip_result_check(&resp.items[0], KMIP_OP_GET, &err));
	ASSERT_EQ(0, has_control(err.msg)) TH_LOG("%s", err.msg);
	skp_kmip_resp_free(&resp);
	/* a UID goes into the header, logs and the keks file: not printable, refused */
	n = evil_response(buf, KMIP_OP_CREATE, 1);
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_parse_uid(&resp.items[0], uid, sizeof(uid), &err));
	ASSERT_NE(NULL, strstr(err.msg, "7\\x1b[2J\\x0askpd")) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, has_control(err.msg)) TH_LOG("%s", err.msg);
	skp_kmip_resp_free(&resp);
	n = evil_response(buf, KMIP_OP_LOCATE, 1);
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_parse_locate(&resp.items[0], uids, 2, &got, NULL, &err));
	ASSERT_EQ(0, has_control(err.msg)) TH_LOG("%s", err.msg);
	skp_kmip_resp_free(&resp);
	n = evil_response(buf, KMIP_OP_GET_ATTRIBUTES, 1);
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_parse_attrs(&resp.items[0], &a, &err));
	skp_kmip_resp_free(&resp);
	/* a Name is only shown: escaped */
	n = evil_response(buf, KMIP_OP_GET_ATTRIBUTES, 0);
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(0, skp_kmip_parse_attrs(&resp.items[0], &a, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("7", a.uid);
	ASSERT_STREQ("kek\\x1b[2J\\x0askpd: FAKE", a.name);
	skp_kmip_resp_free(&resp);
}

TEST(str_escape)
{
	char out[32];

	ASSERT_STREQ("a\\x1b[1m\\x0ab", skp_str_escape(out, sizeof(out), "a\x1b[1m\nb", 7));
	ASSERT_STREQ("\\x5c\\x7f\\xc3\\xa9", skp_str_escape(out, sizeof(out), "\\\x7f\xc3\xa9", 4));
	/* cut at a whole character: never half an escape */
	ASSERT_STREQ("abcdefghij", skp_str_escape(out, 14, "abcdefghij\x01", 11));
	ASSERT_STREQ("abcdefghij\\x01", skp_str_escape(out, 15, "abcdefghij\x01", 11));
	ASSERT_STREQ("abcdefghijk", skp_str_escape(out, 12, "abcdefghijklm", 13));
	ASSERT_STREQ("", skp_str_escape(out, 1, "x", 1));
}

struct mem_src {
	const unsigned char *p;
	size_t left;
};

static int mem_read(void *ctx, unsigned char *buf, size_t n, struct skp_err *err)
{
	struct mem_src *m = ctx;

	if (n > m->left)
		return skp_err_set(err, -ECONNRESET, "closed after %zu bytes", m->left);
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return 0;
}

TEST(framing)
{
	unsigned char buf[512], *out = NULL;
	size_t n = unhex(RESP_GET, buf), on = 0;
	struct mem_src m = { buf, n };
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_read_frame(mem_read, &m, 0, &out, &on, &err));
	ASSERT_EQ(n, on);
	ASSERT_EQ(0, memcmp(buf, out, n));
	skp_secmem_free(out, on);
	/* closed mid-message */
	m.p = buf, m.left = n - 1;
	ASSERT_EQ(-ECONNRESET, skp_kmip_read_frame(mem_read, &m, 0, &out, &on, &err));
	/* over the caller's limit: refused before reading (no allocation) */
	m.p = buf, m.left = n;
	ASSERT_EQ(-EMSGSIZE, skp_kmip_read_frame(mem_read, &m, 64, &out, &on, &err));
	/* huge length claim */
	memcpy(buf + 4, "\x7f\xff\xff\xf8", 4);
	m.p = buf, m.left = n;
	ASSERT_EQ(-EMSGSIZE, skp_kmip_read_frame(mem_read, &m, 0, &out, &on, &err));
	/* not a Response Message */
	buf[2] = 0x78;
	m.p = buf, m.left = n;
	ASSERT_EQ(-EPROTO, skp_kmip_read_frame(mem_read, &m, 0, &out, &on, &err));
}

/* ---- answers matched to their request ---- */

/* One batch item of a made-up answer. */
struct ans {
	uint32_t op;		/* 0: no Operation */
	int id;			/* -1: no Unique Batch Item ID */
	uint32_t status;
	const char *uid;	/* Unique Identifier in the payload, NULL: no payload */
};

/* A response of n items, its Batch Count saying count; returns its length. */
static size_t answer(unsigned char *out, size_t size, int count, const struct ans *a, size_t n)
{
	struct skp_ttlv_enc e;
	size_t len;

	skp_ttlv_enc_init(&e, 0);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_MESSAGE);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_HEADER);
	skp_ttlv_begin(&e, KMIP_TAG_PROTOCOL_VERSION);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MINOR, 4);
	skp_ttlv_end(&e);
	skp_ttlv_int(&e, KMIP_TAG_BATCH_COUNT, count);
	skp_ttlv_end(&e);
	for (size_t i = 0; i < n; i++) {
		unsigned char be[4] = { 0, 0, 0, (unsigned char)a[i].id };

		skp_ttlv_begin(&e, KMIP_TAG_BATCH_ITEM);
		if (a[i].op)
			skp_ttlv_enum(&e, KMIP_TAG_OPERATION, a[i].op);
		if (a[i].id >= 0)
			skp_ttlv_bytes(&e, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, be, 4);
		skp_ttlv_enum(&e, KMIP_TAG_RESULT_STATUS, a[i].status);
		if (a[i].status)
			skp_ttlv_enum(&e, KMIP_TAG_RESULT_REASON, 1);
		if (a[i].uid) {
			skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_PAYLOAD);
			skp_ttlv_text(&e, KMIP_TAG_UNIQUE_IDENTIFIER, a[i].uid);
			skp_ttlv_end(&e);
		}
		skp_ttlv_end(&e);
	}
	skp_ttlv_end(&e);
	len = e.error || e.len > size ? 0 : e.len;
	if (len)
		memcpy(out, e.buf, len);
	skp_ttlv_enc_free(&e);
	return len;
}

/* Parses the answer a[0..n) (Batch Count n) to req: 0, or the error with its message. */
static int match(const struct skp_kmip_req *req, const struct ans *a, size_t n, struct skp_err *err)
{
	static unsigned char buf[1 << 16];
	struct skp_kmip_resp resp;
	size_t len = answer(buf, sizeof(buf), (int)n, a, n);
	int r;

	memset(err, 0, sizeof(*err));
	r = skp_kmip_resp_parse_req(buf, len, req, &resp, err);
	if (!r)
		skp_kmip_resp_free(&resp);
	return r;
}

#define REFUSED(req, words, ...) do {							\
	const struct ans a_[] = { __VA_ARGS__ };					\
	ASSERT_EQ(-EPROTO, match(req, a_, sizeof(a_) / sizeof(a_[0]), &err));		\
	ASSERT_NE(NULL, strstr(err.msg, words)) TH_LOG("%s", err.msg);			\
} while (0)
#define ACCEPTED(req, ...) do {								\
	const struct ans a_[] = { __VA_ARGS__ };					\
	ASSERT_EQ(0, match(req, a_, sizeof(a_) / sizeof(a_[0]), &err)) TH_LOG("%s", err.msg); \
} while (0)

/* Get "k0", Get Attributes "k1", Activate "k2", Revoke "k3", Destroy "k4", Locate: IDs 0..5. */
static void six(struct __test_metadata *_metadata, struct skp_kmip_req *r)
{
	struct skp_kmip_opts o = { .major = 1, .minor = 4 };
	struct skp_err err = { 0 };

	ASSERT_EQ(0, skp_kmip_req_init(r, &o, &err));
	skp_kmip_add_get(r, "k0");
	skp_kmip_add_get_attrs(r, "k1", NULL, 0);
	skp_kmip_add_activate(r, "k2");
	skp_kmip_add_revoke(r, "k3", KMIP_REVOKE_CESSATION, NULL);
	skp_kmip_add_destroy(r, "k4");
	skp_kmip_add_locate(r, "n", 0, 0, 0);
	ASSERT_EQ(0, skp_kmip_req_finish(r, &err));
}

#define GET(id, uid)	{ KMIP_OP_GET, id, 0, uid }
#define ATTRS(id, uid)	{ KMIP_OP_GET_ATTRIBUTES, id, 0, uid }
#define ACT(id, uid)	{ KMIP_OP_ACTIVATE, id, 0, uid }
#define REV(id, uid)	{ KMIP_OP_REVOKE, id, 0, uid }
#define DES(id, uid)	{ KMIP_OP_DESTROY, id, 0, uid }
#define LOC(id)		{ KMIP_OP_LOCATE, id, 0, NULL }

TEST(answer_matches_request)
{
	struct skp_kmip_req r, one;
	struct skp_kmip_opts o = { .major = 1, .minor = 4 };
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };
	unsigned char buf[4096];
	size_t len;

	six(_metadata, &r);
	/* in order, or in any order: items[i] is then the answer to item i */
	ACCEPTED(&r, GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"), REV(3, "k3"), DES(4, "k4"), LOC(5));
	{
		const struct ans a[] = { LOC(5), DES(4, "k4"), REV(3, "k3"), ACT(2, "k2"), ATTRS(1, "k1"), GET(0, "k0") };

		len = answer(buf, sizeof(buf), 6, a, 6);
		ASSERT_EQ(0, skp_kmip_resp_parse_req(buf, len, &r, &resp, &err)) TH_LOG("%s", err.msg);
		for (uint32_t i = 0; i < 6; i++) {
			ASSERT_EQ(i, resp.items[i].id);
			ASSERT_EQ(&resp.items[i], skp_kmip_resp_find(&resp, i));
		}
		skp_kmip_resp_free(&resp);
	}
	/* a failed item has no payload, and may omit its Operation */
	ACCEPTED(&r, { 0, 0, KMIP_STATUS_FAILED, NULL }, ATTRS(1, "k1"), ACT(2, "k2"), REV(3, "k3"),
		 { KMIP_OP_DESTROY, 4, KMIP_STATUS_FAILED, NULL }, LOC(5));
	/* counts: fewer, more (refused before allocating anything for them) */
	REFUSED(&r, "5 answers to a request of 6", GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"), REV(3, "k3"),
		DES(4, "k4"));
	REFUSED(&r, "7 answers to a request of 6", GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"), REV(3, "k3"),
		DES(4, "k4"), LOC(5), LOC(5));
	/* IDs: duplicate (so one missing), unknown, none in a batch */
	REFUSED(&r, "two answers to batch item 0", GET(0, "k0"), GET(0, "k0"), ACT(2, "k2"), REV(3, "k3"),
		DES(4, "k4"), LOC(5));
	REFUSED(&r, "batch item 9, not in the request", GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"),
		REV(3, "k3"), DES(4, "k4"), LOC(9));
	REFUSED(&r, "without Unique Batch Item ID to a request of 6", GET(0, "k0"), ATTRS(1, "k1"),
		ACT(2, "k2"), REV(3, "k3"), DES(4, "k4"), LOC(-1));
	/* operation: another one, or none on a success */
	REFUSED(&r, "answer to Destroy where Get was asked", DES(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"),
		REV(3, "k3"), DES(4, "k4"), LOC(5));
	REFUSED(&r, "Locate answer without Operation", GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"),
		REV(3, "k3"), DES(4, "k4"), { 0, 5, 0, NULL });
	/* the object: every operation on a named object answers for that object */
	REFUSED(&r, "Get answer about object 'k1', asked about 'k0'", GET(0, "k1"), ATTRS(1, "k1"),
		ACT(2, "k2"), REV(3, "k3"), DES(4, "k4"), LOC(5));
	REFUSED(&r, "Get Attributes answer about object 'k0'", GET(0, "k0"), ATTRS(1, "k0"), ACT(2, "k2"),
		REV(3, "k3"), DES(4, "k4"), LOC(5));
	REFUSED(&r, "Activate answer about object 'k20'", GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k20"),
		REV(3, "k3"), DES(4, "k4"), LOC(5));
	REFUSED(&r, "Revoke answer about object 'k'", GET(0, "k0"), ATTRS(1, "k1"), ACT(2, "k2"),
		REV(3, "k"), DES(4, "k4"), LOC(5));
	REFUSED(&r, "Destroy answer without the Unique Identifier", GET(0, "k0"), ATTRS(1, "k1"),
		ACT(2, "k2"), REV(3, "k3"), DES(4, NULL), LOC(5));
	skp_kmip_req_free(&r);

	/* one item: an unnumbered answer is its answer, but one answer only */
	ASSERT_EQ(0, skp_kmip_req_init(&one, &o, &err));
	skp_kmip_add_get(&one, "k0");
	ASSERT_EQ(0, skp_kmip_req_finish(&one, &err));
	ACCEPTED(&one, GET(-1, "k0"));
	ACCEPTED(&one, { 0, -1, KMIP_STATUS_FAILED, NULL });
	REFUSED(&one, "2 answers to a request of 1", GET(-1, "k0"), GET(-1, "k0"));
	REFUSED(&one, "batch item 1, not in the request", GET(1, "k0"));
	skp_kmip_req_free(&one);

	/* Activate of the preceding Create (ID Placeholder): no object to compare */
	ASSERT_EQ(0, skp_kmip_req_init(&one, &o, &err));
	skp_kmip_add_create(&one, KMIP_ALG_AES, 256, SKP_KMIP_KEK_USAGE_MASK, "n");
	skp_kmip_add_activate(&one, NULL);
	ASSERT_EQ(0, skp_kmip_req_finish(&one, &err));
	ACCEPTED(&one, { KMIP_OP_CREATE, 0, 0, "new" }, ACT(1, "new"));
	skp_kmip_req_free(&one);
}

/* Empty batch items are 8 bytes: a 4 MiB answer could claim ~500k of them.  An item must
 * hold a Result Status, and a request's answer has as many items as the request. */
TEST(answer_size_bounded)
{
	enum { N = 2000 };
	struct skp_kmip_req one;
	struct skp_kmip_opts o = { .major = 1, .minor = 4 };
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };
	struct skp_ttlv_enc e;

	skp_ttlv_enc_init(&e, 0);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_MESSAGE);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_HEADER);
	skp_ttlv_begin(&e, KMIP_TAG_PROTOCOL_VERSION);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MINOR, 4);
	skp_ttlv_end(&e);
	skp_ttlv_int(&e, KMIP_TAG_BATCH_COUNT, N);
	skp_ttlv_end(&e);
	for (int i = 0; i < N; i++) {
		skp_ttlv_begin(&e, KMIP_TAG_BATCH_ITEM);
		skp_ttlv_end(&e);
	}
	skp_ttlv_end(&e);
	ASSERT_EQ(0, skp_ttlv_enc_result(&e, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_resp_parse(e.buf, e.len, &resp, &err));
	ASSERT_NE(NULL, strstr(err.msg, "batch item of 0 bytes cannot hold a Result Status")) TH_LOG("%s", err.msg);
	skp_ttlv_enc_free(&e);

	/* 2000 well-formed answers to a one-item request: refused on the count */
	{
		static unsigned char buf[1 << 18];
		static struct ans a[N];
		size_t len;

		for (int i = 0; i < N; i++)
			a[i] = (struct ans){ KMIP_OP_GET, i, KMIP_STATUS_FAILED, NULL };
		len = answer(buf, sizeof(buf), N, a, N);
		ASSERT_NE(0u, len);
		ASSERT_EQ(0, skp_kmip_req_init(&one, &o, &err));
		skp_kmip_add_get(&one, "k0");
		ASSERT_EQ(0, skp_kmip_req_finish(&one, &err));
		ASSERT_EQ(-EPROTO, skp_kmip_resp_parse_req(buf, len, &one, &resp, &err));
		ASSERT_NE(NULL, strstr(err.msg, "2000 answers to a request of 1")) TH_LOG("%s", err.msg);
		ASSERT_EQ(NULL, resp.items);
		skp_kmip_req_free(&one);
	}
}

/* A Get answer for uid "k": Key Block of the given format holding `key`; transparent:
 * Key Material is a structure holding Key. */
static size_t get_answer(unsigned char *out, uint32_t fmt, int transparent, const unsigned char *key,
			 size_t klen)
{
	struct skp_ttlv_enc e;
	size_t len;

	skp_ttlv_enc_init(&e, 0);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_MESSAGE);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_HEADER);
	skp_ttlv_begin(&e, KMIP_TAG_PROTOCOL_VERSION);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MAJOR, 1);
	skp_ttlv_int(&e, KMIP_TAG_PROTOCOL_VERSION_MINOR, 4);
	skp_ttlv_end(&e);
	skp_ttlv_int(&e, KMIP_TAG_BATCH_COUNT, 1);
	skp_ttlv_end(&e);
	skp_ttlv_begin(&e, KMIP_TAG_BATCH_ITEM);
	skp_ttlv_enum(&e, KMIP_TAG_OPERATION, KMIP_OP_GET);
	skp_ttlv_enum(&e, KMIP_TAG_RESULT_STATUS, KMIP_STATUS_SUCCESS);
	skp_ttlv_begin(&e, KMIP_TAG_RESPONSE_PAYLOAD);
	skp_ttlv_enum(&e, KMIP_TAG_OBJECT_TYPE, KMIP_OBJ_SYMMETRIC_KEY);
	skp_ttlv_text(&e, KMIP_TAG_UNIQUE_IDENTIFIER, "k");
	skp_ttlv_begin(&e, KMIP_TAG_SYMMETRIC_KEY);
	skp_ttlv_begin(&e, KMIP_TAG_KEY_BLOCK);
	skp_ttlv_enum(&e, KMIP_TAG_KEY_FORMAT_TYPE, fmt);
	skp_ttlv_begin(&e, KMIP_TAG_KEY_VALUE);
	if (transparent) {
		skp_ttlv_begin(&e, KMIP_TAG_KEY_MATERIAL);
		skp_ttlv_bytes(&e, KMIP_TAG_KEY, key, klen);
		skp_ttlv_end(&e);
	} else {
		skp_ttlv_bytes(&e, KMIP_TAG_KEY_MATERIAL, key, klen);
	}
	skp_ttlv_end(&e);
	skp_ttlv_enum(&e, KMIP_TAG_CRYPTO_ALGORITHM, KMIP_ALG_AES);
	skp_ttlv_int(&e, KMIP_TAG_CRYPTO_LENGTH, (int32_t)klen * 8);
	skp_ttlv_end(&e);
	skp_ttlv_end(&e);
	skp_ttlv_end(&e);
	skp_ttlv_end(&e);
	skp_ttlv_end(&e);
	len = e.len;
	memcpy(out, e.buf, len);
	skp_ttlv_enc_free(&e);
	return len;
}

TEST(response_get_formats)
{
	unsigned char key[32], buf[1024], *k = NULL;
	size_t n, kl = 0;
	struct skp_kmip_resp resp;
	struct skp_err err = { 0 };

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(0xA0 + i);
	/* Transparent Symmetric Key: Key Material { Key } */
	n = get_answer(buf, KMIP_KEYFMT_TRANSPARENT_SYMMETRIC, 1, key, sizeof(key));
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(0, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(sizeof(key), kl);
	ASSERT_EQ(0, memcmp(key, k, kl));
	skp_secmem_free(k, kl);
	skp_kmip_resp_free(&resp);
	/* Raw with the same shape (a structure): refused, and the reverse */
	n = get_answer(buf, KMIP_KEYFMT_RAW, 1, key, sizeof(key));
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err));
	skp_kmip_resp_free(&resp);
	n = get_answer(buf, KMIP_KEYFMT_TRANSPARENT_SYMMETRIC, 0, key, sizeof(key));
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err));
	skp_kmip_resp_free(&resp);
	/* Raw */
	n = get_answer(buf, KMIP_KEYFMT_RAW, 0, key, sizeof(key));
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(0, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err));
	ASSERT_EQ(0, memcmp(key, k, kl));
	skp_secmem_free(k, kl);
	skp_kmip_resp_free(&resp);
	/* Opaque (2) is not a format skp reads */
	n = get_answer(buf, 2, 0, key, sizeof(key));
	ASSERT_EQ(0, skp_kmip_resp_parse(buf, n, &resp, &err));
	ASSERT_EQ(-EPROTO, skp_kmip_parse_get_key(&resp.items[0], &k, &kl, &err));
	ASSERT_NE(NULL, strstr(err.msg, "key format type 2")) TH_LOG("%s", err.msg);
	skp_kmip_resp_free(&resp);
}

/* Every Result Reason of KMIP 1.0 to 1.4 has its name (KMIP 1.4 section 9.1.3.2.29). */
TEST(reason_names)
{
	uint32_t reason;

	for (reason = 0x01; reason <= 0x18; reason++) {
		ASSERT_STRNE("Unknown Reason", skp_kmip_reason_name(reason)) TH_LOG("reason 0x%02X", reason);
	}
	ASSERT_STREQ("Encoding Option Error", skp_kmip_reason_name(0x12));
	ASSERT_STREQ("Key Value Not Present", skp_kmip_reason_name(0x13));
	ASSERT_STREQ("Attestation Required", skp_kmip_reason_name(0x14));
	ASSERT_STREQ("Attestation Failed", skp_kmip_reason_name(0x15));
	ASSERT_STREQ("Sensitive", skp_kmip_reason_name(0x16));
	ASSERT_STREQ("Not Extractable", skp_kmip_reason_name(0x17));
	ASSERT_STREQ("Object Already Exists", skp_kmip_reason_name(0x18));
	ASSERT_STREQ("General Failure", skp_kmip_reason_name(0x100));
	ASSERT_STREQ("Unknown Reason", skp_kmip_reason_name(0x19));	/* KMIP 2.0 */
	ASSERT_STREQ("Unknown Reason", skp_kmip_reason_name(0));
}

TEST_HARNESS_MAIN
