/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TLS transport to a KMIP server (OpenSSL 3): mutual TLS 1.2+, the server verified
 * against one configured CA with its host name or IP checked (SNI sent for names),
 * non-blocking sockets with poll() deadlines for connect, handshake and each
 * exchange, complete short-read/short-write loops and bounded KMIP framing.
 * SIGPIPE is blocked around writes (per thread) so a dropped peer is an error, not
 * a signal.  One connection per thread at a time; no global state.
 */
#ifndef SKP_TLS_H
#define SKP_TLS_H

#include <stddef.h>

#include "err.h"

struct skp_tls_cfg {
	const char *ca;		/* PEM file of the CA(s) that sign KMS certificates */
	const char *cert;	/* client certificate chain, PEM */
	const char *key;	/* client private key: a PEM file, or tpm:... (tpmkey.h) */
	const char *tpm_tcti;	/* the TPM of a tpm: key (NULL or "": the default) */
};

struct skp_tls_ctx;
struct skp_tls_conn;

struct skp_tls_ctx *skp_tls_ctx_new(const struct skp_tls_cfg *cfg, struct skp_err *err);
void skp_tls_ctx_free(struct skp_tls_ctx *ctx);

/*
 * TCP connect then TLS handshake, each bounded by timeout_ms.  Errors: -ETIMEDOUT,
 * -ECONNREFUSED and other connect errnos, -EKEYREJECTED when the server certificate
 * fails verification (wrong CA, wrong host name), -EPROTO for other TLS failures.
 */
int skp_tls_connect(struct skp_tls_ctx *ctx, const char *host, unsigned int port, int timeout_ms,
		    struct skp_tls_conn **ret_conn, struct skp_err *err);
/*
 * The same for n (<= SKP_TLS_MANY_MAX) servers at once: the TCP connects and TLS
 * handshakes run interleaved under one poll() and one deadline of timeout_ms, so n
 * servers take as long as the slowest, not the sum.  conns[i] is the connection or
 * NULL with errs[i] set as skp_tls_connect would.  Returns how many connected.
 */
#define SKP_TLS_MANY_MAX 16
struct skp_tls_target {
	const char *host;
	unsigned int port;
};
int skp_tls_connect_many(struct skp_tls_ctx *ctx, const struct skp_tls_target *t, size_t n, int timeout_ms,
			 struct skp_tls_conn **conns, struct skp_err *errs);
void skp_tls_close(struct skp_tls_conn *c);
/* 0 if an idle connection still looks usable; -ECONNRESET if the peer closed it or
 * sent something unasked (both mean: reconnect). */
int skp_tls_check_idle(struct skp_tls_conn *c);

/* Sends all of buf within timeout_ms.  *sent_any tells whether any byte left. */
int skp_tls_send(struct skp_tls_conn *c, const void *buf, size_t len, int timeout_ms, int *sent_any,
		 struct skp_err *err);
/* Waits up to timeout_ms for the server's answer to begin: 0 once response bytes (or a
 * close, or an error, which skp_tls_recv then reports) are there, -ETIMEDOUT if none
 * came.  Nothing is consumed, so a wait that timed out can be waited again. */
int skp_tls_wait_answer(struct skp_tls_conn *c, int timeout_ms);
/* Receives one KMIP message (<= max bytes) within timeout_ms into secmem:
 * the caller frees *ret_buf with skp_secmem_free(*ret_buf, *ret_len). */
int skp_tls_recv(struct skp_tls_conn *c, size_t max, int timeout_ms, unsigned char **ret_buf,
		 size_t *ret_len, struct skp_err *err);

/*
 * KMIP framing over any byte source: read_exact must fill exactly n bytes or fail.
 * Reads the 8-byte header, checks it opens a Response Message structure with a
 * sane length <= max, then reads the rest into secmem.
 */
typedef int (*skp_read_exact_fn)(void *ctx, unsigned char *buf, size_t n, struct skp_err *err);
int skp_kmip_read_frame(skp_read_exact_fn read_exact, void *ctx, size_t max, unsigned char **ret_buf,
			size_t *ret_len, struct skp_err *err);

#endif
