/* SPDX-License-Identifier: GPL-2.0 */
/* Deep rekey (docs/deep-rekey.md): a new DEK, the data re-encrypted online. */
#ifndef SKPD_REKEY_H
#define SKPD_REKEY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "header.h"

struct skpd;
struct sbuf;
struct device;

int rekey_start(struct skpd *d, const char *name, const char *provider, uint32_t rate_mib,
		uint32_t chunk_kib, struct sbuf *out, struct skp_err *err);
/* flags: SKP_REQ_PAUSE or SKP_REQ_RESUME. */
int rekey_control(struct skpd *d, const char *name, unsigned int flags, uint32_t rate_mib,
		  struct sbuf *out, struct skp_err *err);
/* A header with a NEW slot: recover and map (live = 0), or adopt a live mapping. */
int rekey_open(struct skpd *d, const char *dev, const char *name, const struct skp_header *h,
	       int discard, int live, struct sbuf *out, struct skp_err *err);
int rekey_next_ms(struct skpd *d);	/* -1: no rekey runnable */
void rekey_tick(struct skpd *d);	/* one chunk per running rekey */
/* close: refused while a rekey runs; a paused one is resumed by the next open. */
int rekey_on_close(struct device *v, struct skp_err *err);
void rekey_free(struct device *v);
/* Started and not done (running, paused or stopped on an error). */
int rekey_in_progress(const struct device *v);
struct skp_rekey_progress;
/* Where v's deep rekey is (state NONE if it has none). */
void rekey_progress(const struct device *v, struct skp_rekey_progress *p);

#endif
