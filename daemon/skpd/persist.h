/* SPDX-License-Identifier: GPL-2.0 */
/* key_persistence: the KEKs of open devices kept on this host (warned about at every start). */
#ifndef SKPD_PERSIST_H
#define SKPD_PERSIST_H

struct skpd;

/* The warning, and the persisted KEKs loaded into the cache (or the file removed when off). */
void skpd_persist_start(struct skpd *d);
/* The TPM let go (skpd's exit); nothing is persisted until the next start. */
void skpd_persist_stop(void);
/* The file follows the open devices: rewritten when their set of KEKs changed. */
void skpd_persist_sync(struct skpd *d);

#endif
