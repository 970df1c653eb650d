/* SPDX-License-Identifier: GPL-2.0 */
/* What skpctl asks of devices: format, open, close, shallow rekey, migration. */
#ifndef SKPD_OPS_H
#define SKPD_OPS_H

#include "err.h"

struct skpd;
struct sbuf;
struct skp_req;

int op_format(struct skpd *d, const struct skp_req *q, struct sbuf *out, struct skp_err *err);
/* flags: SKP_REQ_SUPERSEDED opens read-write a header whose KEK the KMS retired. */
int op_open(struct skpd *d, const char *dev, const char *name, int discard, unsigned int flags,
	    struct sbuf *out, struct skp_err *err);
int op_close(struct skpd *d, const char *name, struct sbuf *out, struct skp_err *err);
int op_rekey(struct skpd *d, const char *name, const char *provider, struct sbuf *out,
	     struct skp_err *err);
int op_migrate(struct skpd *d, const char *from, const char *to, struct sbuf *out,
	       struct skp_err *err);

#endif
