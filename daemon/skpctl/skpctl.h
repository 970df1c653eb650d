/* SPDX-License-Identifier: GPL-2.0 */
/* skpctl: one file per command (cmd-<name>.c), dispatched from main.c's table. */
#ifndef SKPCTL_H
#define SKPCTL_H

/* Exit codes of every command. */
#define SKPCTL_EXIT_OK		0	/* done */
#define SKPCTL_EXIT_FAIL	1	/* the operation failed (message on stderr) */
#define SKPCTL_EXIT_USAGE	2	/* bad command line */
#define SKPCTL_EXIT_NOT_SKP	4	/* dump --udev: the device holds no skp header */

struct skpctl_cmd {
	const char *name;
	const char *summary;
	/* argv[0] is the command name; returns an exit code above. */
	int (*run)(int argc, char **argv);
};

int skpctl_cmd_kms(int argc, char **argv);

#endif
