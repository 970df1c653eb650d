// SPDX-License-Identifier: GPL-2.0
/* skpd.conf and skptab parsing: file:line errors, limits, security refusals. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "config.h"

static char dir[] = "/tmp/skp-test-conf.XXXXXX";

static void files(void)
{
	char p[128];
	int fd;

	if (strchr(dir, 'X')) {
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(p, sizeof(p), "%s/ca.pem", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644); close(fd);
	snprintf(p, sizeof(p), "%s/c.pem", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644); close(fd);
	snprintf(p, sizeof(p), "%s/k.key", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0600); close(fd);
	chmod(p, 0600);
	snprintf(p, sizeof(p), "%s/open.key", dir);
	fd = open(p, O_CREAT | O_WRONLY, 0644); close(fd);
	chmod(p, 0644);
}

static char *provider(char *buf, size_t size, const char *name, int def, const char *key)
{
	snprintf(buf, size, "[provider \"%s\"]\nserver = kms1.example.com:5696\nserver = kms2\n"
		 "ca = %s/ca.pem\ncert = %s/c.pem\nkey = %s/%s\ndefault = %s\n", name, dir, dir, dir,
		 key, def ? "true" : "false");
	return buf;
}

static int parse(const char *text, struct skp_config *cfg, struct skp_err *err)
{
	return skp_config_parse("t.conf", text, cfg, err);
}

TEST(good_config)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p1[1024], p2[1024], text[4096];

	files();
	snprintf(text, sizeof(text), "# comment\n[skpd]\nsocket = /run/x/s.sock\nhealth_interval = 5\n"
		 "remediation_interval = 7  # trailing\ncolour = blue\n%s%s", provider(p1, sizeof(p1), "corp-kms", 1, "k.key"),
		 provider(p2, sizeof(p2), "dr", 0, "k.key"));
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("/run/x/s.sock", cfg.socket);
	ASSERT_EQ(5, cfg.health_interval);
	ASSERT_EQ(7, cfg.remediation_interval);
	ASSERT_EQ(2, cfg.n_providers);
	ASSERT_EQ(2, cfg.providers[0].n_servers);
	ASSERT_STREQ("kms2:5696", cfg.providers[0].servers[1]);
	ASSERT_STREQ("corp-kms", skp_config_default(&cfg)->name);
	ASSERT_EQ(1, cfg.n_warnings);
	ASSERT_NE(NULL, strstr(cfg.warnings[0], "t.conf:6: unknown setting 'colour'"));
	skp_config_free(&cfg);
}

TEST(limits_and_defaults)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	static char text[65536];
	char p[1024];
	size_t n = 0;

	files();
	for (int i = 0; i < 33; i++) {
		char name[16];

		snprintf(name, sizeof(name), "p%d", i);
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", provider(p, sizeof(p), name, i == 0, "k.key"));
	}
	ASSERT_EQ(-E2BIG, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:225: more than 32 providers")) TH_LOG("%s", err.msg);
	/* 32 is fine */
	*strstr(text, "[provider \"p32\"]") = '\0';
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(32, cfg.n_providers);
	skp_config_free(&cfg);
	/* two defaults, zero defaults */
	snprintf(text, sizeof(text), "%s", provider(p, sizeof(p), "a", 1, "k.key"));
	strcat(text, provider(p, sizeof(p), "b", 1, "k.key"));
	ASSERT_EQ(-EINVAL, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "2 providers marked default"));
	snprintf(text, sizeof(text), "%s", provider(p, sizeof(p), "a", 0, "k.key"));
	strcat(text, provider(p, sizeof(p), "b", 0, "k.key"));
	ASSERT_EQ(-EINVAL, parse(text, &cfg, &err));
	/* duplicate name */
	snprintf(text, sizeof(text), "%s", provider(p, sizeof(p), "a", 1, "k.key"));
	strcat(text, provider(p, sizeof(p), "a", 0, "k.key"));
	ASSERT_EQ(-EEXIST, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:8:"));
}

TEST(security_refusals)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p[1024], *ca;

	files();
	ASSERT_EQ(-EPERM, parse(provider(p, sizeof(p), "a", 1, "open.key"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "readable by group or others"));
	provider(p, sizeof(p), "a", 1, "k.key");
	ca = strstr(p, "ca = ");
	memcpy(ca, "#a", 2);
	ASSERT_EQ(-EPERM, parse(p, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "has no ca"));
	ASSERT_EQ(0, parse("[skpd]\nkey_persistence = true\nkey_persistence_dir = /var/lib/skp\n", &cfg, &err));
	ASSERT_EQ(1, cfg.key_persistence);
	skp_config_free(&cfg);
	ASSERT_EQ(-EINVAL, parse("[skpd]\nkey_persistence_dir = relative\n", &cfg, &err));
}

TEST(line_numbers)
{
	static struct skp_config cfg;
	struct skp_err err = {0};

	ASSERT_EQ(-EINVAL, parse("[skpd]\n\nhealth_interval = 0\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:3:"));
	ASSERT_EQ(-EINVAL, parse("[skpd]\nnonsense\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:2: expected"));
	ASSERT_EQ(-EINVAL, parse("socket = /x\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:1: setting outside"));
	ASSERT_EQ(-EINVAL, parse("[skpd\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[other]\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider x]\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\nserver = h:0\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\nserver = h:12x\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\ntimeout = 0\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\nprotocol = 3.0\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\nca = relative\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[skpd]\ntarget = linear\n", &cfg, &err));
}

TEST(skptab)
{
	struct skptab tab;
	struct skp_err err = {0};

	ASSERT_EQ(0, skptab_parse("tab", "# boot devices\n\ndata UUID=0f8e8e52-6f3e-4c57-9a55-3a1c2b7d9e01 nofail,discard\n"
				  "logs /dev/vdb\nscratch /dev/vdc -\n", &tab, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(3, tab.n);
	ASSERT_EQ(1, tab.e[0].by_uuid);
	ASSERT_EQ(0x0f, tab.e[0].uuid[0]);
	ASSERT_EQ(1, tab.e[0].nofail);
	ASSERT_EQ(1, tab.e[0].discard);
	ASSERT_EQ(3, tab.e[0].line);
	ASSERT_STREQ("/dev/vdb", tab.e[1].source);
	skptab_free(&tab);
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "a UUID=nope\n", &tab, &err));
	ASSERT_NE(NULL, strstr(err.msg, "tab:1: bad UUID"));
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "\na relative\n", &tab, &err));
	ASSERT_NE(NULL, strstr(err.msg, "tab:2:"));
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "a /dev/x bogus\n", &tab, &err));
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "a /dev/x - extra\n", &tab, &err));
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "a\n", &tab, &err));
	ASSERT_EQ(-EEXIST, skptab_parse("tab", "a /dev/x\na /dev/y\n", &tab, &err));
	ASSERT_NE(NULL, strstr(err.msg, "already on line 1"));
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "bad/name /dev/x\n", &tab, &err));
}

TEST_HARNESS_MAIN
