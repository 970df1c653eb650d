// SPDX-License-Identifier: GPL-2.0
/* skpctl: administration tool of skp.  Add a command: write cmd-<name>.c with a
 * run function, declare it in skpctl.h and add a row to the table below. */
#include <stdio.h>
#include <string.h>

#include "cmd-skpd.h"
#include "skpctl.h"

static const struct skpctl_cmd commands[] = {
	{ "status", "daemon, provider and node health (--json); exit 3 on alarm", skpctl_cmd_status },
	{ "provider", "list the providers, or test one: provider list | provider test NAME", skpctl_cmd_provider },
	{ "format", "make DEV an encrypted device: format DEV [--provider P] [--label L] [--sector-size N]", skpctl_cmd_format },
	{ "open", "open DEV as /dev/mapper/NAME", skpctl_cmd_open },
	{ "close", "close mapping NAME", skpctl_cmd_close },
	{ "list", "audit of open devices: list [--provider P] [--json]", skpctl_cmd_list },
	{ "rekey", "rekey NAME --shallow [--provider P] | rekey NAME --deep [--shallow] [--rate MiB/s] [--chunk SIZE] [--wait] | rekey NAME --pause|--resume|--status [--wait] | rekey --all --from-provider X --to-provider Y --shallow", skpctl_cmd_rekey },
	{ "keys", "keys count: KEKs in use per provider", skpctl_cmd_keys },
	{ "reload", "re-read skpd.conf (as SIGHUP)", skpctl_cmd_reload },
	{ "dump", "show the header of DEV (no secrets); --udev: as udev properties", skpctl_cmd_dump },
	{ "header", "header backup DEV FILE | header restore DEV FILE [--force]", skpctl_cmd_header },
	{ "kms", "talk to a KMIP key server (test a KMS before configuring it)", skpctl_cmd_kms },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: skpctl <command> [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nexit status: 0 ok, 1 operation failed, 2 usage error\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return SKPCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return SKPCTL_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "skpctl: unknown command '%s' (see skpctl --help)\n", argv[1]);
	return SKPCTL_EXIT_USAGE;
}
