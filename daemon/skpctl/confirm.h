/* SPDX-License-Identifier: GPL-2.0 */
/* Asking before what cannot be undone (format over data, kms destroy and revoke). */
#ifndef SKPCTL_CONFIRM_H
#define SKPCTL_CONFIRM_H

/* Set by the global option --batch (-q): never ask. */
extern int skpctl_batch;

/*
 * what: a sentence saying what will be lost ("This will overwrite data on /dev/vdb
 * irrevocably.").  With --batch: 0.  On a terminal: asks for YES in capitals (as
 * cryptsetup luksFormat does): 0 if typed, -ECANCELED otherwise.  Without a terminal and
 * without --batch: -ENOTTY (a script must say --batch).
 */
int skpctl_confirm(const char *what);

#endif
