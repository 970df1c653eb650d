/* SPDX-License-Identifier: GPL-2.0 */
/* Errors of the skp library: a negative errno plus a message, owned by the caller. */
#ifndef SKP_ERR_H
#define SKP_ERR_H

#include <stddef.h>

/*
 * What kind of failure, for callers that act on it (skpctl's exit codes): set where the
 * failure is known for what it is, kept through skp_err_wrap.  Values are protocol
 * (skp_resp.err_class): append only.
 */
enum skp_err_class {
	SKP_ERRC_NONE = 0,		/* not classified: a failure like any other */
	SKP_ERRC_NO_DEVICE = 1,		/* no such device or mapping, or not an skp device */
	SKP_ERRC_BUSY = 2,		/* in use, already open, or already exists */
	SKP_ERRC_KMS_DOWN = 3,		/* no KMS node of the provider answered */
	SKP_ERRC_KEY_REFUSED = 4,	/* the KMS refused: key revoked, destroyed, permission denied */
	SKP_ERRC_PERM = 5,		/* the caller may not do this (not root) */
	SKP_ERRC_MAX = SKP_ERRC_PERM,
};

struct skp_err {
	int code;		/* negative errno, 0 when no error */
	int cls;		/* enum skp_err_class */
	char msg[256];		/* one line, never holds key material */
};

/* Sets err (if not NULL) and returns code, so callers write `return skp_err_set(...)`. */
int skp_err_set(struct skp_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* skp_err_set with a class (enum skp_err_class). */
int skp_err_setc(struct skp_err *err, int cls, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Classifies the error err holds (if not NULL). */
void skp_err_class(struct skp_err *err, int cls);
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
