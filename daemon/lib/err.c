// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static int vset(struct skp_err *err, int cls, int code, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->cls = cls;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int skp_err_set(struct skp_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vset(err, SKP_ERRC_NONE, code, fmt, ap);
	va_end(ap);
	return code;
}

int skp_err_setc(struct skp_err *err, int cls, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vset(err, cls, code, fmt, ap);
	va_end(ap);
	return code;
}

void skp_err_class(struct skp_err *err, int cls)
{
	if (err)
		err->cls = cls;
}

int skp_err_wrap(struct skp_err *err, const char *fmt, ...)
{
	char ctx[sizeof(err->msg)], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%.100s: %.150s", ctx, old);
	return err->code;
}

void skp_err_clear(struct skp_err *err)
{
	if (err) {
		err->code = 0;
		err->cls = SKP_ERRC_NONE;
		err->msg[0] = '\0';
	}
}

char *skp_str_escape(char *out, size_t size, const void *in, size_t n)
{
	const unsigned char *p = in;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			if (o + 1 >= size)
				break;
			out[o++] = (char)p[i];
		} else {
			if (o + 4 >= size)
				break;
			snprintf(out + o, 5, "\\x%02x", p[i]);
			o += 4;
		}
	}
	out[o] = '\0';
	return out;
}
