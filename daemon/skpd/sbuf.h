/* SPDX-License-Identifier: GPL-2.0 */
/* Growable control-socket response bodies, text or records; bounded by the protocol's body limit. */
#ifndef SKPD_SBUF_H
#define SKPD_SBUF_H

#include <stddef.h>

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;			/* an append failed: the response is refused whole */
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_put(struct sbuf *b, const void *p, size_t n);
void sb_free(struct sbuf *b);

#endif
