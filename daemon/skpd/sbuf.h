/* SPDX-License-Identifier: GPL-2.0 */
/* Growable text for control-socket responses; bounded by the protocol's body limit. */
#ifndef SKPD_SBUF_H
#define SKPD_SBUF_H

#include <stddef.h>

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;			/* an append failed: the response is refused whole */
};

void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(struct sbuf *b, const char *s);
void sb_free(struct sbuf *b);

#endif
