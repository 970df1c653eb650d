/* SPDX-License-Identifier: GPL-2.0 */
/* Errors of the skp library: a negative errno plus a message, owned by the caller. */
#ifndef SKP_ERR_H
#define SKP_ERR_H

#include <stddef.h>

struct skp_err {
	int code;		/* negative errno, 0 when no error */
	char msg[256];		/* one line, never holds key material */
};

/* Sets err (if not NULL) and returns code, so callers write `return skp_err_set(...)`. */
int skp_err_set(struct skp_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefixes the existing message with context: "context: old message". */
int skp_err_wrap(struct skp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void skp_err_clear(struct skp_err *err);

/*
 * Untrusted text (what a KMS sends) made safe to print or log: bytes below 0x20, 0x7f
 * and above, and '\\' become \xNN, so a peer cannot inject terminal escapes or fake log
 * lines.  n bytes of in into out (size > 0), cut at a whole character, NUL-terminated.
 * Returns out.
 */
char *skp_str_escape(char *out, size_t size, const void *in, size_t n);

#endif
