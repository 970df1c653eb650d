/* SPDX-License-Identifier: GPL-2.0 */
/* The control socket: root-only, one request per connection (lib/proto.h). */
#ifndef SKPD_CONTROL_H
#define SKPD_CONTROL_H

#include "err.h"

struct skpd;
struct sbuf;

/* The listening socket at path, in a directory only root can reach; -1 (logged) on error. */
int control_listen(const char *path);
/* Accepts one connection on lfd and answers its request. */
void control_serve(struct skpd *d, int lfd);
/* Reload (SIGHUP or skpctl reload): the configuration, then the providers' health. */
int control_reload(struct skpd *d, struct sbuf *out, struct skp_err *err);

#endif
