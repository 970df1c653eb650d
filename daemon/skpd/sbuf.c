// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sbuf.h"

/* Room for n more bytes; sets oom (the response is then refused whole) if there is none. */
static int sb_room(struct sbuf *b, size_t n)
{
	size_t ncap;
	char *ns;

	if (b->oom)
		return -1;
	if (n < b->cap - b->len)
		return 0;
	ncap = (b->cap ? b->cap * 2 : 4096) + n;
	ns = ncap <= SKP_PROTO_MAX_BODY ? realloc(b->s, ncap) : NULL;
	if (!ns) {
		b->oom = 1;
		return -1;
	}
	b->s = ns;
	b->cap = ncap;
	return 0;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	/* n + 1: vsnprintf writes its NUL, which the next append overwrites */
	if (n < 0 || sb_room(b, (size_t)n + 1) < 0) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_put(struct sbuf *b, const void *p, size_t n)
{
	if (sb_room(b, n) < 0)
		return;
	memcpy(b->s + b->len, p, n);
	b->len += n;
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}
