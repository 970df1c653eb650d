// SPDX-License-Identifier: GPL-2.0
/*
 * A cached KEK that does not unwrap the DEK of the header (daemon/skpd/keks.c,
 * kek_unwrap_slot: every unwrap of skpd goes there): a wrong copy served by a node, or
 * one loaded from key_persistence, is dropped from the cache, logged (device, KEK UID,
 * where it came from; never key bytes) and fetched again, from another node when the
 * provider has one; a fresh copy that fails too is an error naming both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "env.h"
#include "fake-kms.h"
#include "keks.h"
#include "ops.h"
#include "providers.h"
#include "sbuf.h"
#include "skpd.h"

FIXTURE(keks) {
	struct env e;
	char dev[PATH_MAX + 32];
	char uid[SKP_KEK_UID_MAX];
	char log[4096];
	struct fake_kms_key *k;
	struct skp_err err;
};

FIXTURE_SETUP(keks)
{
	static const char *const provs[] = {"kms"};
	unsigned char dek[SKP_DEK_LEN];
	struct skp_header h;

	ASSERT_EQ(0, env_init(&self->e, provs, 1, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_dev(&self->e, "d", 1, self->dev, sizeof(self->dev)));
	ASSERT_EQ(0, env_format(&self->e, self->dev, NULL, 0, &self->err)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, env_dek(self->dev, 0, dek, &h));
	snprintf(self->uid, sizeof(self->uid), "%s", h.slot[0].kek_uid);
	self->k = fake_kms_key(fake_kms("kms"), self->uid);
	ASSERT_NE(NULL, self->k);
	/* a fresh skpd: empty cache */
	env_stop(&self->e);
	ASSERT_EQ(0, env_start(&self->e, &self->err)) TH_LOG("%s", self->err.msg);
	fake_kms("kms")->n_get = 0;
}

FIXTURE_TEARDOWN(keks)
{
	env_cleanup(&self->e);
}

/* op_open with skpd's log (stderr) caught in self->log. */
static int open_logged(struct _test_data_keks *self)
{
	char path[PATH_MAX + 16];
	struct sbuf out = {0};
	int saved = dup(2), fd, r;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/log", self->e.dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || saved < 0)
		return -EIO;
	fflush(stderr);
	dup2(fd, 2);
	skp_err_clear(&self->err);
	r = op_open(self->e.d, self->dev, "d", 0, 0, &out, &self->err);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, self->log, sizeof(self->log) - 1, 0);
	self->log[n > 0 ? n : 0] = '\0';
	close(fd);
	sb_free(&out);
	/* control.c answers with an error whenever err is set, whatever op_open returned. */
	if (r == 0 && self->err.code)
		return -EPROTO;
	return r;
}

/* The cache holds the KMS's true KEK. */
static int cached_right(struct _test_data_keks *self)
{
	const unsigned char *c = kek_cache_get(self->e.d, "kms", self->uid);

	return c && !memcmp(c, self->k->key, SKP_KEK_LEN);
}

TEST_F(keks, bad_copy_from_a_node_fetched_from_another)
{
	char want[PATH_MAX + 600];

	self->k->bad_nodes = 1u << 0;	/* node 0 (127.0.0.1) serves it wrong */
	ASSERT_EQ(0, open_logged(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(2, fake_kms("kms")->n_get);
	ASSERT_EQ(1, fake_kms("kms")->last_node);
	snprintf(want, sizeof(want), "%s: KEK %s of provider \"kms\" (from node 127.0.0.1:", self->dev, self->uid);
	ASSERT_NE(NULL, strstr(self->log, want)) TH_LOG("log: %s", self->log);
	ASSERT_NE(NULL, strstr(self->log, "does not unwrap the DEK of the header: fetching it again"));
	ASSERT_NE(NULL, strstr(self->log, "the copy from node 127.0.0.1:5696 dropped from the cache"))
		TH_LOG("log: %s", self->log);
	ASSERT_NE(NULL, strstr(self->log, "fetched again from node 127.0.0.2:5696 unwraps the DEK"))
		TH_LOG("log: %s", self->log);
	ASSERT_TRUE(cached_right(self));
	ASSERT_NE(NULL, dev_find(self->e.d, "d"));
}

TEST_F(keks, bad_copy_everywhere_is_an_error)
{
	self->k->bad_nodes = 3;		/* both nodes */
	ASSERT_EQ(-EBADMSG, open_logged(self));
	ASSERT_NE(NULL, strstr(self->err.msg, "does not unwrap the header's DEK")) TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->err.msg, "neither the copy from node 127.0.0.1:")) TH_LOG("%s", self->err.msg);
	ASSERT_NE(NULL, strstr(self->err.msg, "nor the one fetched again from node 127.0.0.2:"))
		TH_LOG("%s", self->err.msg);
	/* no wrong copy stays: the next open asks again */
	ASSERT_EQ(NULL, kek_cache_get(self->e.d, "kms", self->uid));
	ASSERT_EQ(NULL, dev_find(self->e.d, "d"));
	self->k->bad_nodes = 0;
	ASSERT_EQ(0, open_logged(self)) TH_LOG("%s", self->err.msg);
	ASSERT_TRUE(cached_right(self));
}

/*
 * A reload that reorders the provider's servers renumbers its nodes: the node that
 * served the wrong copy is still the one avoided (it is kept by address).
 */
TEST_F(keks, wrong_copy_avoids_its_node_after_a_reload)
{
	struct sbuf out = {0};
	unsigned char *c;
	char conf[8192], *at;
	const char *old = "server = 127.0.0.1:5696\nserver = 127.0.0.2:5696\n";
	int fd;
	ssize_t n;

	ASSERT_EQ(0, open_logged(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(0, fake_kms("kms")->last_node);		/* served by 127.0.0.1 */
	ASSERT_EQ(0, op_close(self->e.d, "d", &out, &self->err)) TH_LOG("%s", self->err.msg);
	/* that copy went bad in the cache (as a wrong one served would be) */
	c = (unsigned char *)kek_cache_get(self->e.d, "kms", self->uid);
	ASSERT_NE(NULL, c);
	c[0] ^= 1;
	/* the servers swapped: 127.0.0.1 is node 1 now, and serves the KEK wrong */
	fd = open(self->e.conf, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, conf, sizeof(conf) - 1);
	close(fd);
	ASSERT_LT(0, n);
	conf[n] = '\0';
	at = strstr(conf, old);
	ASSERT_NE(NULL, at);
	memcpy(at, "server = 127.0.0.2:5696\nserver = 127.0.0.1:5696\n", strlen(old));
	ASSERT_EQ(0, env_write_file(self->e.conf, conf));
	ASSERT_EQ(0, skpd_reload(self->e.d, &out, &self->err)) TH_LOG("%s", self->err.msg);
	self->k->bad_nodes = 1u << 1;
	fake_kms("kms")->n_get = 0;
	ASSERT_EQ(0, open_logged(self)) TH_LOG("%s / log: %s", self->err.msg, self->log);
	ASSERT_EQ(1, fake_kms("kms")->n_get);
	ASSERT_EQ(0, fake_kms("kms")->last_node);		/* 127.0.0.2, not the one avoided */
	ASSERT_NE(NULL, strstr(self->log, "the copy from node 127.0.0.1:5696 dropped from the cache"))
		TH_LOG("log: %s", self->log);
	ASSERT_NE(NULL, strstr(self->log, "fetched again from node 127.0.0.2:5696 unwraps the DEK"))
		TH_LOG("log: %s", self->log);
	ASSERT_TRUE(cached_right(self));
	sb_free(&out);
}

/* A KEK loaded from key_persistence (no node) that is wrong: fetched from any node. */
TEST_F(keks, bad_persisted_copy_replaced)
{
	unsigned char wrong[SKP_KEK_LEN];
	char want[PATH_MAX + 600], hex[2 * SKP_KEK_LEN + 1];

	memcpy(wrong, self->k->key, SKP_KEK_LEN);
	wrong[5] ^= 1;
	ASSERT_EQ(0, kek_cache_put(self->e.d, "kms", self->uid, wrong, &self->err));
	ASSERT_EQ(0, open_logged(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(1, fake_kms("kms")->n_get);
	snprintf(want, sizeof(want), "%s: KEK %s of provider \"kms\" (from key_persistence) does not unwrap",
		 self->dev, self->uid);
	ASSERT_NE(NULL, strstr(self->log, want)) TH_LOG("log: %s", self->log);
	/* the log names the key, never its bytes */
	for (int i = 0; i < SKP_KEK_LEN; i++)
		sprintf(hex + 2 * i, "%02x", self->k->key[i]);
	ASSERT_EQ(NULL, strstr(self->log, hex));
	ASSERT_TRUE(cached_right(self));
}

/* The KMS serves the very bytes cached: the KEK is what it holds, the header is what is
 * wrong for it.  And with no fresh copy (KMS down) nothing tells: the cached copy stays
 * (other devices may need it; key_persistence exists for outages). */
TEST_F(keks, same_or_no_fresh_copy_keeps_the_cache)
{
	unsigned char wrong[SKP_KEK_LEN];
	const unsigned char *c;

	memcpy(wrong, self->k->key, SKP_KEK_LEN);
	wrong[0] ^= 1;
	ASSERT_EQ(0, kek_cache_put(self->e.d, "kms", self->uid, wrong, &self->err));
	fake_kms("kms")->down = 1;
	ASSERT_EQ(-EBADMSG, open_logged(self));
	ASSERT_NE(NULL, strstr(self->err.msg, "and fetching it again failed: ")) TH_LOG("%s", self->err.msg);
	c = kek_cache_get(self->e.d, "kms", self->uid);
	ASSERT_TRUE(c && !memcmp(c, wrong, SKP_KEK_LEN));

	fake_kms("kms")->down = 0;
	memcpy(self->k->key, wrong, SKP_KEK_LEN);	/* the KMS holds these bytes too */
	ASSERT_EQ(-EBADMSG, open_logged(self));
	ASSERT_NE(NULL, strstr(self->err.msg, "(the same again from node 127.0.0.1:5696) does not unwrap the "
				      "header's DEK: a damaged header, or not its KEK")) TH_LOG("%s", self->err.msg);
	c = kek_cache_get(self->e.d, "kms", self->uid);
	ASSERT_TRUE(c && !memcmp(c, wrong, SKP_KEK_LEN));
	ASSERT_EQ(NULL, dev_find(self->e.d, "d"));
}

/* A good cached KEK costs nothing. */
TEST_F(keks, good_copy_asks_nothing)
{
	ASSERT_EQ(0, open_logged(self)) TH_LOG("%s", self->err.msg);
	ASSERT_EQ(1, fake_kms("kms")->n_get);
	ASSERT_EQ(NULL, strstr(self->log, "unwrap")) TH_LOG("log: %s", self->log);
	ASSERT_TRUE(cached_right(self));
}

TEST_HARNESS_MAIN
