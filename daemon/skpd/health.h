/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Provider health (alarms) and device remediation (is each open device's KEK still
 * usable?), asked on a worker thread: the main loop only posts requests and applies
 * the answers, so a KMS node that never answers cannot stall it.
 */
#ifndef SKPD_HEALTH_H
#define SKPD_HEALTH_H

#include "err.h"

struct skpd;

/* A worker with its own connections to d's providers (a running one is replaced: reload). */
int health_start(struct skpd *d, struct skp_err *err);
/*
 * The worker goes; one in the middle of a probe finishes it first, on its own.  With
 * wait_ms > 0, waits that long for it to end: -ETIMEDOUT if it is still in an exchange
 * (then the process must not run exit()'s handlers, which tear down OpenSSL under it).
 */
int health_stop(struct skpd *d, int wait_ms);
/* Readable when answers are ready: then call health_collect.  -1 without a worker. */
int health_fd(const struct skpd *d);
void health_request_probe(struct skpd *d);
void health_request_remediation(struct skpd *d);
/* Applies the answers that came: node states and alarms, device problems (logged). */
void health_collect(struct skpd *d);

#endif
