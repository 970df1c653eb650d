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
#include "io.h"

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
	/* defaults of a provider: protocol negotiated, 10 s, one retry */
	ASSERT_EQ(-1, cfg.providers[0].protocol_minor);
	ASSERT_EQ(10000, cfg.providers[0].timeout_ms);
	ASSERT_EQ(1, cfg.providers[0].retries);
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
	ASSERT_EQ(SKP_PERSIST_AUTO, cfg.key_persistence);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse("[skpd]\nkey_persistence = tpm\ntpm_pcrs = 0,7\ntpm_tcti = swtpm:path=/x\n", &cfg, &err));
	ASSERT_EQ(SKP_PERSIST_TPM, cfg.key_persistence);
	ASSERT_EQ(0x81u, cfg.tpm_pcrs);
	ASSERT_STREQ("swtpm:path=/x", cfg.tpm_tcti);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse("[skpd]\nkey_persistence = file\n", &cfg, &err));
	ASSERT_EQ(SKP_PERSIST_FILE, cfg.key_persistence);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse("[skpd]\nkey_persistence = off\n", &cfg, &err));
	ASSERT_EQ(SKP_PERSIST_OFF, cfg.key_persistence);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse("[skpd]\nkey_persistence = false\n", &cfg, &err));
	ASSERT_EQ(SKP_PERSIST_OFF, cfg.key_persistence);
	skp_config_free(&cfg);
	ASSERT_EQ(-EINVAL, parse("[skpd]\n\nkey_persistence = sealed\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:3: key_persistence must be tpm, file or off"));
	ASSERT_EQ(-EINVAL, parse("[skpd]\ntpm_pcrs = 7,24\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:2: tpm_pcrs"));
	ASSERT_EQ(-EINVAL, parse("[skpd]\nkey_persistence_dir = relative\n", &cfg, &err));
}

/* key = tpm:FILE or tpm:handle:0x81......: a key in the TPM; bad forms name file:line. */
static int parse_key(const char *key, struct skp_config *cfg, struct skp_err *err)
{
	char text[1024];

	/* [skpd] after the provider: its tpm_tcti still reaches the provider */
	snprintf(text, sizeof(text), "[provider \"a\"]\nserver = kms1\nca = %s/ca.pem\ncert = %s/c.pem\n"
		 "key = %s\n[skpd]\ntpm_tcti = swtpm:path=/run/t.sock\n", dir, dir, key);
	return parse(text, cfg, err);
}

TEST(tpm_key)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char k[256];

	files();
	snprintf(k, sizeof(k), "tpm:%s/k.key", dir);
	ASSERT_EQ(0, parse_key(k, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ(k, cfg.providers[0].key);
	ASSERT_STREQ("swtpm:path=/run/t.sock", cfg.providers[0].tpm_tcti);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse_key("tpm:handle:0x81000101", &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("tpm:handle:0x81000101", cfg.providers[0].key);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse_key("tpm:handle:0x81ffffff", &cfg, &err)) TH_LOG("%s", err.msg);
	skp_config_free(&cfg);
	/* a handle outside the persistent range, or not in hex */
	ASSERT_EQ(-EINVAL, parse_key("tpm:handle:0x80000001", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key: bad TPM key 'tpm:handle:0x80000001': a persistent "
			       "handle is tpm:handle:0x81000000 to 0x81FFFFFF")) TH_LOG("%s", err.msg);
	ASSERT_EQ(-EINVAL, parse_key("tpm:handle:81000101", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key: bad TPM key")) TH_LOG("%s", err.msg);
	ASSERT_EQ(-EINVAL, parse_key("tpm:handle:0x81000101x", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse_key("tpm:handle:0x", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse_key("tpm:handle:0x181000101", &cfg, &err));
	/* neither a handle nor an absolute path */
	ASSERT_EQ(-EINVAL, parse_key("tpm:client.tss2", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key: bad TPM key 'tpm:client.tss2': expected tpm:/PATH"))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(-EINVAL, parse_key("tpm:", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key: bad TPM key")) TH_LOG("%s", err.msg);
	/* the key file: as a PEM key's, root's alone, and there */
	snprintf(k, sizeof(k), "tpm:%s/open.key", dir);
	ASSERT_EQ(-EPERM, parse_key(k, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key")) TH_LOG("%s", err.msg);
	ASSERT_NE(NULL, strstr(err.msg, "readable by group or others")) TH_LOG("%s", err.msg);
	snprintf(k, sizeof(k), "tpm:%s/missing.tss2", dir);
	ASSERT_EQ(-ENOENT, parse_key(k, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key")) TH_LOG("%s", err.msg);
	/* a relative PEM key names the TPM forms too */
	ASSERT_EQ(-EINVAL, parse_key("client.key", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:5: key must be an absolute path (or tpm:/PATH"))
		TH_LOG("%s", err.msg);
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
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\nprotocol = 1.5\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[provider \"a\"]\nca = relative\n", &cfg, &err));
	ASSERT_EQ(-EINVAL, parse("[skpd]\ntarget = linear\n", &cfg, &err));
}

TEST(provider_protocol)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p[1024], text[2048];

	files();
	snprintf(text, sizeof(text), "%sprotocol = 1.0\n", provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, cfg.providers[0].protocol_minor);	/* literal, 1.0 included */
	skp_config_free(&cfg);
	snprintf(text, sizeof(text), "%sprotocol = auto\n", provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(-1, cfg.providers[0].protocol_minor);
	skp_config_free(&cfg);
}

/* type = native: no KMS settings, a store under native_dir; kmip stays the default. */
TEST(provider_type_native)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p[1024], text[2048];

	files();
	snprintf(text, sizeof(text), "[skpd]\nnative_dir = /srv/skp-native\n%s[provider \"local\"]\ntype = native\n",
		 provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(SKP_PROVIDER_KMIP, cfg.providers[0].type);
	ASSERT_EQ(SKP_PROVIDER_NATIVE, cfg.providers[1].type);
	ASSERT_STREQ("/srv/skp-native", cfg.native_dir);
	skp_config_free(&cfg);
	ASSERT_EQ(0, parse("[provider \"local\"]\ntype = native\n", &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("/var/lib/skp/native", cfg.native_dir);
	ASSERT_EQ(1, cfg.providers[0].is_default);
	skp_config_free(&cfg);
	ASSERT_EQ(-EINVAL, parse("[provider \"local\"]\ntype = native\nserver = kms1\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:1: provider \"local\" is type = native: it takes no server"))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(-EINVAL, parse("[provider \"local\"]\n\ntype = tpm\n", &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:3: type must be kmip or native")) TH_LOG("%s", err.msg);
	ASSERT_EQ(-EINVAL, parse("[skpd]\nnative_dir = relative\n", &cfg, &err));
}

/* Settings put on every Create: stored as written, each refusal names file:line. */
TEST(provider_create_settings)
{
	static const struct { const char *line, *msg; int code; } bad[] = {
		{ "operation_policy_name = a\x01b", "operation_policy_name must be 1..127 printable", -EINVAL },
		{ "object_group = caf\xc3\xa9", "object_group must be 1..127 printable", -EINVAL },
		{ "attribute = x-site", "attribute must be 'NAME: VALUE'", -EINVAL },
		{ "attribute = x-site:", "attribute must be 'NAME: VALUE'", -EINVAL },
		{ "attribute = : fra1", "attribute must be 'NAME: VALUE'", -EINVAL },
		{ "attribute = x-: v", "bad attribute name 'x-'", -EINVAL },
		{ "attribute = x-a/b: v", "bad attribute name 'x-a/b'", -EINVAL },
		{ "attribute = y-site: v", "y- names are the server's own", -EINVAL },
		{ "attribute = Name: other", "attribute 'Name' is set by skp", -EINVAL },
		{ "attribute = Cryptographic Length: 128", "is set by skp", -EINVAL },
		{ "attribute = Object Group: g", "attribute 'Object Group': use object_group", -EINVAL },
		{ "attribute = Operation Policy Name: p", "use operation_policy_name", -EINVAL },
		{ "attribute = Sensitive: true", "attribute 'Sensitive' not supported", -EINVAL },
		{ "attribute = x-site: \x7f", "value of attribute 'x-site' must be", -EINVAL },
	};
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p[1024], text[4096], big[200];
	const struct skp_provider_conf *c;

	files();
	snprintf(text, sizeof(text), "%soperation_policy_name = skp-kek policy\nobject_group = disks\n"
		 "attribute = x-site:fra1\nattribute =  Contact Information :  ops@example.com, desk 4  \n"
		 "attribute = x-cost center: 4711: a\n", provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	c = &cfg.providers[0];
	ASSERT_STREQ("skp-kek policy", c->operation_policy_name);
	ASSERT_STREQ("disks", c->object_group);
	ASSERT_EQ(3, c->n_attrs);
	ASSERT_STREQ("x-site", c->attrs[0].name);
	ASSERT_STREQ("fra1", c->attrs[0].value);
	ASSERT_STREQ("Contact Information", c->attrs[1].name);
	ASSERT_STREQ("ops@example.com, desk 4", c->attrs[1].value);
	ASSERT_STREQ("x-cost center", c->attrs[2].name);	/* the first colon ends the name */
	ASSERT_STREQ("4711: a", c->attrs[2].value);
	ASSERT_EQ(0, cfg.n_warnings);	/* known settings, not "unknown ... ignored" */
	skp_config_free(&cfg);
	/* none set: nothing extra on a Create */
	snprintf(text, sizeof(text), "%s", provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("", cfg.providers[0].operation_policy_name);
	ASSERT_STREQ("", cfg.providers[0].object_group);
	ASSERT_EQ(0, cfg.providers[0].n_attrs);
	skp_config_free(&cfg);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s\n%s\n", provider(p, sizeof(p), "a", 1, "k.key"), bad[i].line);
		ASSERT_EQ(bad[i].code, parse(text, &cfg, &err)) TH_LOG("%s", bad[i].line);
		ASSERT_NE(NULL, strstr(err.msg, "t.conf:9: ")) TH_LOG("%s: %s", bad[i].line, err.msg);
		ASSERT_NE(NULL, strstr(err.msg, bad[i].msg)) TH_LOG("%s: %s", bad[i].line, err.msg);
	}
	/* each once; at most 8 attributes; 127 characters */
	snprintf(text, sizeof(text), "%sobject_group = a\nobject_group = b\n", provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(-EEXIST, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:9: object_group given twice")) TH_LOG("%s", err.msg);
	snprintf(text, sizeof(text), "%sattribute = x-a: 1\nattribute = x-a: 2\n", provider(p, sizeof(p), "a", 1, "k.key"));
	ASSERT_EQ(-EEXIST, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:9: attribute 'x-a' given twice")) TH_LOG("%s", err.msg);
	provider(text, sizeof(text), "a", 1, "k.key");
	for (int i = 0; i < 9; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "attribute = x-a%d: v\n", i);
	ASSERT_EQ(-E2BIG, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:16: more than 8 attributes")) TH_LOG("%s", err.msg);
	memset(big, 'v', 127);
	big[127] = '\0';
	snprintf(text, sizeof(text), "%sobject_group = %s\n", provider(p, sizeof(p), "a", 1, "k.key"), big);
	ASSERT_EQ(0, parse(text, &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(127, strlen(cfg.providers[0].object_group));
	skp_config_free(&cfg);
	snprintf(text, sizeof(text), "%sattribute = x-a: %sv\n", provider(p, sizeof(p), "a", 1, "k.key"), big);
	ASSERT_EQ(-EINVAL, parse(text, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:8: value of attribute 'x-a' must be 1..127")) TH_LOG("%s", err.msg);
	/* skpctl kms's options go through the same check, without a file */
	struct skp_provider_conf pc;

	skp_provider_conf_init(&pc, "skpctl");
	ASSERT_EQ(0, skp_provider_conf_create_setting(&pc, "attribute", "x-site: fra1", &err));
	ASSERT_EQ(-EINVAL, skp_provider_conf_create_setting(&pc, "attribute", "Name: x", &err));
	ASSERT_STREQ("attribute 'Name' is set by skp", err.msg);
	ASSERT_EQ(-ENOENT, skp_provider_conf_create_setting(&pc, "username", "x", &err));
	skp_provider_conf_free(&pc);
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

/* timeout=SECONDS bounds how long READY waits for an entry (docs/man/skptab.5). */
TEST(skptab_timeout)
{
	static const char *const bad[] = {"timeout=0", "timeout=3601", "timeout=", "timeout=5s", "timeout=-1",
					  "timeout=99999999999999999999", "timeout"};
	struct skptab tab;
	struct skp_err err = {0};

	ASSERT_EQ(0, skptab_parse("tab", "a /dev/x\nb /dev/y nofail,timeout=5\nc /dev/z timeout=3600\n"
				  "d /dev/w timeout=1,discard\n", &tab, &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(4, tab.n);
	ASSERT_EQ(SKPTAB_TIMEOUT_DEFAULT, tab.e[0].timeout);
	ASSERT_EQ(90, tab.e[0].timeout);
	ASSERT_EQ(5, tab.e[1].timeout);
	ASSERT_EQ(1, tab.e[1].nofail);
	ASSERT_EQ(3600, tab.e[2].timeout);
	ASSERT_EQ(1, tab.e[3].timeout);
	ASSERT_EQ(1, tab.e[3].discard);
	skptab_free(&tab);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[128];

		snprintf(text, sizeof(text), "ok /dev/v\na /dev/x %s\n", bad[i]);
		ASSERT_EQ(-EINVAL, skptab_parse("tab", text, &tab, &err)) TH_LOG("%s", bad[i]);
		ASSERT_NE(NULL, strstr(err.msg, "tab:2:")) TH_LOG("%s", err.msg);
	}
}

/* initramfs marks the entries the early-boot script opens (root); others have it off. */
TEST(skptab_initramfs)
{
	struct skptab tab;
	struct skp_err err = {0};

	ASSERT_EQ(0, skptab_parse("tab", "root /dev/vda initramfs,timeout=60\ndata /dev/vdb\n", &tab, &err))
		TH_LOG("%s", err.msg);
	ASSERT_EQ(2, tab.n);
	ASSERT_EQ(1, tab.e[0].initramfs);
	ASSERT_EQ(60, tab.e[0].timeout);
	ASSERT_EQ(0, tab.e[1].initramfs);
	skptab_free(&tab);
	ASSERT_EQ(-EINVAL, skptab_parse("tab", "root /dev/vda initramfs=1\n", &tab, &err));
	ASSERT_NE(NULL, strstr(err.msg, "initramfs, timeout=SECONDS")) TH_LOG("%s", err.msg);
}

/* A path under the test directory. */
static const char *tpath(const char *name)
{
	static char p[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void put(const char *name, const char *text, mode_t mode)
{
	int fd;

	unlink(tpath(name));
	fd = open(tpath(name), O_CREAT | O_WRONLY | O_TRUNC, mode);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	chmod(tpath(name), mode);
}

/* Files skpd trusts: owner and mode checked, key files never through a symlink. */
TEST(file_owner_mode_symlink)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p[1024];
	struct skptab tab;

	files();
	/* a CA others can write would let a fake KMS hand out a KEK at format time */
	chmod(tpath("ca.pem"), 0666);
	ASSERT_EQ(-EPERM, parse(provider(p, sizeof(p), "a", 1, "k.key"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:4: ca: ")) TH_LOG("%s", err.msg);
	ASSERT_NE(NULL, strstr(err.msg, "chmod go-w")) TH_LOG("%s", err.msg);
	chmod(tpath("ca.pem"), 0620);
	ASSERT_EQ(-EPERM, parse(provider(p, sizeof(p), "a", 1, "k.key"), &cfg, &err));
	chmod(tpath("ca.pem"), 0644);
	chmod(tpath("c.pem"), 0646);
	ASSERT_EQ(-EPERM, parse(provider(p, sizeof(p), "a", 1, "k.key"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "c.pem")) TH_LOG("%s", err.msg);
	chmod(tpath("c.pem"), 0644);
	/* owned by someone else */
	ASSERT_EQ(0, chown(tpath("ca.pem"), 4321, 4321));
	ASSERT_EQ(-EPERM, parse(provider(p, sizeof(p), "a", 1, "k.key"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "owned by uid 4321")) TH_LOG("%s", err.msg);
	ASSERT_NE(NULL, strstr(err.msg, "chown")) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, chown(tpath("ca.pem"), 0, 0));
	ASSERT_EQ(0, chown(tpath("k.key"), 4321, 0));
	ASSERT_EQ(-EPERM, parse(provider(p, sizeof(p), "a", 1, "k.key"), &cfg, &err));
	ASSERT_EQ(0, chown(tpath("k.key"), 0, 0));
	/* a key through a symlink is refused even if the target is fine */
	unlink(tpath("link.key"));
	ASSERT_EQ(0, symlink(tpath("k.key"), tpath("link.key")));
	ASSERT_GT(0, parse(provider(p, sizeof(p), "a", 1, "link.key"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "symbolic link")) TH_LOG("%s", err.msg);
	/* the same CA and key are fine again */
	ASSERT_EQ(0, parse(provider(p, sizeof(p), "a", 1, "k.key"), &cfg, &err)) TH_LOG("%s", err.msg);
	skp_config_free(&cfg);
	/* password file: the key rule */
	put("pw", "secret\n", 0600);
	snprintf(p, sizeof(p), "[provider \"a\"]\nserver = k\nusername = u\npassword_file = %s\n"
		 "ca = %s\ncert = %s\nkey = %s\n", tpath("pw-link"), tpath("ca.pem"), tpath("c.pem"), tpath("k.key"));
	unlink(tpath("pw-link"));
	ASSERT_EQ(0, symlink(tpath("pw"), tpath("pw-link")));
	ASSERT_GT(0, parse(p, &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "t.conf:4:")) TH_LOG("%s", err.msg);
	/* skpd.conf and skptab themselves */
	put("skpd.conf", "[skpd]\nhealth_interval = 5\n", 0664);
	ASSERT_EQ(-EPERM, skp_config_load(tpath("skpd.conf"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "chmod go-w")) TH_LOG("%s", err.msg);
	chmod(tpath("skpd.conf"), 0644);
	ASSERT_EQ(0, skp_config_load(tpath("skpd.conf"), &cfg, &err)) TH_LOG("%s", err.msg);
	skp_config_free(&cfg);
	ASSERT_EQ(0, chown(tpath("skpd.conf"), 4321, 0));
	ASSERT_EQ(-EPERM, skp_config_load(tpath("skpd.conf"), &cfg, &err));
	put("skptab", "data /dev/vdb\n", 0602);
	ASSERT_EQ(-EPERM, skptab_load(tpath("skptab"), &tab, &err));
	ASSERT_NE(NULL, strstr(err.msg, "skptab")) TH_LOG("%s", err.msg);
	chmod(tpath("skptab"), 0644);
	ASSERT_EQ(0, skptab_load(tpath("skptab"), &tab, &err)) TH_LOG("%s", err.msg);
	skptab_free(&tab);
}

/*
 * The generator reads the [skpd] section only: a provider's password file is not read
 * into memory, and a provider skpd would refuse does not cost the boot order.
 */
TEST(skpd_section_only)
{
	static struct skp_config cfg;
	struct skp_err err = {0};
	char p[1024];

	files();
	put("pw-open", "secret\n", 0644);
	snprintf(p, sizeof(p), "[skpd]\nskptab = /etc/skp/other\n[provider \"a\"]\nserver = k\n"
		 "username = u\npassword_file = %s\nbogus line\n[skpd]\nhealth_interval = 7\n",
		 tpath("pw-open"));
	put("only.conf", p, 0644);
	ASSERT_GT(0, skp_config_load(tpath("only.conf"), &cfg, &err));
	ASSERT_EQ(0, skp_config_load_skpd(tpath("only.conf"), &cfg, &err)) TH_LOG("%s", err.msg);
	ASSERT_STREQ("/etc/skp/other", cfg.skptab);
	ASSERT_EQ(7, cfg.health_interval);
	ASSERT_EQ(0, cfg.n_providers);
	skp_config_free(&cfg);
	/* the [skpd] section itself is still checked, with its line */
	put("only.conf", "[provider \"a\"]\nx\n[skpd]\nskptab = relative\n", 0644);
	ASSERT_EQ(-EINVAL, skp_config_load_skpd(tpath("only.conf"), &cfg, &err));
	ASSERT_NE(NULL, strstr(err.msg, "only.conf:4: skptab")) TH_LOG("%s", err.msg);
}

/* skp_private_dir creates a missing directory 0700 and never changes an existing one. */
TEST(private_dir)
{
	struct skp_err err = {0};
	struct stat st;

	files();
	rmdir(tpath("new"));
	ASSERT_EQ(0, skp_private_dir(tpath("new"), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, stat(tpath("new"), &st));
	ASSERT_EQ(0700, st.st_mode & 07777);
	/* a shared directory such as /run: used as it is, not chmod'ed */
	rmdir(tpath("shared"));
	ASSERT_EQ(0, mkdir(tpath("shared"), 0755));
	chmod(tpath("shared"), 0755);
	ASSERT_EQ(0, skp_private_dir(tpath("shared"), &err)) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, stat(tpath("shared"), &st));
	ASSERT_EQ(0755, st.st_mode & 07777);
	/* others can write: refused, left alone */
	chmod(tpath("shared"), 01777);
	ASSERT_EQ(-EPERM, skp_private_dir(tpath("shared"), &err));
	ASSERT_NE(NULL, strstr(err.msg, "writable")) TH_LOG("%s", err.msg);
	ASSERT_EQ(0, stat(tpath("shared"), &st));
	ASSERT_EQ(01777, st.st_mode & 07777);
	/* someone else's: refused */
	chmod(tpath("shared"), 0700);
	ASSERT_EQ(0, chown(tpath("shared"), 4321, 0));
	ASSERT_EQ(-EPERM, skp_private_dir(tpath("shared"), &err));
	ASSERT_NE(NULL, strstr(err.msg, "owned by uid 4321")) TH_LOG("%s", err.msg);
}

TEST_HARNESS_MAIN
