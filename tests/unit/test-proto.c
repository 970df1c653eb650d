// SPDX-License-Identifier: GPL-2.0
/* Control protocol: every request is validated before dispatch. */
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
	q.flags = SKP_REQ_JSON;
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err));
	skp_req_init(&q, SKP_CMD_FORMAT);
	strcpy(q.dev, "/dev/vdb");
	q.sector_size = 512;
	ASSERT_EQ(0, skp_req_validate(&q, sizeof(q), &err));
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
	q.version = 2;
	ASSERT_EQ(-EPROTONOSUPPORT, skp_req_validate(&q, sizeof(q), &err));
	q.version = SKP_PROTO_VERSION;
	q.cmd = 0;
	ASSERT_EQ(-EOPNOTSUPP, skp_req_validate(&q, sizeof(q), &err));
	q.cmd = SKP_CMD_MAX + 1;
	ASSERT_EQ(-EOPNOTSUPP, skp_req_validate(&q, sizeof(q), &err));
	q.cmd = SKP_CMD_CLOSE;
	q.flags = SKP_REQ_JSON;		/* close takes no flags */
	ASSERT_EQ(-EINVAL, skp_req_validate(&q, sizeof(q), &err));
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
	r.reserved = 1;
	ASSERT_EQ(-EBADMSG, skp_resp_validate(&r, SKP_CMD_LIST, &err));
}

TEST_HARNESS_MAIN
