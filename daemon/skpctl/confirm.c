// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "confirm.h"

int skpctl_batch;

int skpctl_confirm(const char *what)
{
	char line[16];

	if (skpctl_batch)
		return 0;
	if (!isatty(STDIN_FILENO))
		return -ENOTTY;
	fprintf(stderr, "\nWARNING!\n========\n%s\n\nAre you sure? (Type 'yes' in capital letters): ", what);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return -ECANCELED;
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, "YES") ? -ECANCELED : 0;
}
