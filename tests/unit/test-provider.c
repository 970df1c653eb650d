// SPDX-License-Identifier: GPL-2.0
/*
 * skp_provider_new: what a provider conf must hold, checked before any connection (no
 * KMS needed).  The exchanges themselves run against PyKMIP in tests/kmip.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "provider.h"

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

TEST_HARNESS_MAIN
