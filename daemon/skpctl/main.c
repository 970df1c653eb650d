// SPDX-License-Identifier: GPL-2.0
/* skpctl: administration tool of skp.  Add a command: write cmd-<name>.c with a
 * run function, declare it in skpctl.h and add a row to the table below. */
#include <stdio.h>
#include <string.h>

#include "skpctl.h"

static const struct skpctl_cmd commands[] = {
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
