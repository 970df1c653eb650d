/* SPDX-License-Identifier: GPL-2.0 */
/* What skpctl shows, as records (docs/protocol.md): skpctl prints them, text or JSON. */
#ifndef SKPD_REPORT_H
#define SKPD_REPORT_H

#include "err.h"

struct skpd;
struct sbuf;

/* *alarm: a provider alarm or a device problem is raised. */
int rep_status(struct skpd *d, struct sbuf *out, int *alarm);
int rep_list(struct skpd *d, const char *provider, struct sbuf *out, struct skp_err *err);
int rep_providers(struct skpd *d, struct sbuf *out);
int rep_provider_test(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err);
int rep_keys_count(struct skpd *d, struct sbuf *out);
/* rekey NAME --status: the progress of name's deep rekey. */
int rep_rekey(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err);

#endif
