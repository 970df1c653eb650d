/* SPDX-License-Identifier: GPL-2.0 */
/* skpctl: one file per group of commands (cmd-*.c), rows of main.c's table (cli.h). */
#ifndef SKPCTL_H
#define SKPCTL_H

#include "err.h"

/* Exit codes of every command (skpctl(8), EXIT STATUS); 4 and 5 as cryptsetup's. */
#define SKPCTL_EXIT_OK		0	/* done */
#define SKPCTL_EXIT_FAIL	1	/* the operation failed (message on stderr) */
#define SKPCTL_EXIT_USAGE	2	/* bad command line */
#define SKPCTL_EXIT_ALARM	3	/* status: a health alarm or device problem is raised */
#define SKPCTL_EXIT_NO_DEVICE	4	/* no such device or mapping, or not an skp device */
#define SKPCTL_EXIT_BUSY	5	/* busy, already open, or already exists */
#define SKPCTL_EXIT_KMS_DOWN	6	/* no KMS node of the provider answered */
#define SKPCTL_EXIT_KEY_REFUSED	7	/* the KMS refused: revoked, destroyed, permission denied */
#define SKPCTL_EXIT_NO_DAEMON	8	/* skpd is not running (or not at --socket) */
#define SKPCTL_EXIT_PERM	9	/* permission denied: not root */

/* The exit code of a failure of class cls (enum skp_err_class). */
static inline int skpctl_exit_code(unsigned int cls)
{
	switch (cls) {
	case SKP_ERRC_NO_DEVICE: return SKPCTL_EXIT_NO_DEVICE;
	case SKP_ERRC_BUSY: return SKPCTL_EXIT_BUSY;
	case SKP_ERRC_KMS_DOWN: return SKPCTL_EXIT_KMS_DOWN;
	case SKP_ERRC_KEY_REFUSED: return SKPCTL_EXIT_KEY_REFUSED;
	case SKP_ERRC_PERM: return SKPCTL_EXIT_PERM;
	default: return SKPCTL_EXIT_FAIL;
	}
}

#endif
