/* SPDX-License-Identifier: GPL-2.0 */
/* What skpctl shows: status, the device list, providers, key counts (text or JSON). */
#ifndef SKPD_REPORT_H
#define SKPD_REPORT_H

#include "err.h"

struct skpd;
struct sbuf;

/* *alarm: a provider alarm or a device problem is raised. */
int rep_status(struct skpd *d, int json, struct sbuf *out, int *alarm);
int rep_list(struct skpd *d, const char *provider, int json, struct sbuf *out, struct skp_err *err);
int rep_providers(struct skpd *d, int json, struct sbuf *out);
int rep_provider_test(struct skpd *d, const char *name, int json, struct sbuf *out,
		      struct skp_err *err);
int rep_keys_count(struct skpd *d, int json, struct sbuf *out);

#endif
