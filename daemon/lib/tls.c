// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bytes.h"
#include "io.h"
#include "kmip.h"
#include "osslerr.h"
#include "secmem.h"
#include "tls.h"
#include "tpmkey.h"

struct skp_tls_ctx {
	SSL_CTX *ssl_ctx;
	struct skp_tpmkey *tpmkey;	/* key = tpm:...: the key, in a library context of its own */
};

struct skp_tls_conn {
	int fd;
	SSL *ssl;
	char peer[300];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum pem_kind { PEM_CA, PEM_CERT, PEM_KEY };

/* OpenSSL's default asks for a key's passphrase on the terminal: a daemon has none, and a
 * prompt would hang skpctl.  Say that the key is encrypted instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *encrypted)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)encrypted = 1;
	return -1;
}

/* Loads a CA bundle, a certificate chain or a private key from the bytes of a file read
 * once through skp_read_file, so its owner and mode checks cover what OpenSSL parses. */
static int load_pem(SSL_CTX *sc, const char *path, enum pem_kind kind, struct skp_err *err)
{
	static const char *const what[] = { "CA", "client certificate", "client key" };
	char *text = NULL, e[200];
	size_t size, n = 0;
	X509 *x;
	BIO *bio;
	int r;

	r = skp_read_file(path, kind == PEM_KEY ? SKP_FILE_SECRET : SKP_FILE_TRUSTED, 1 << 20, &text, &size, err);
	if (r < 0)
		return skp_err_wrap(err, "TLS: %s", what[kind]);
	bio = BIO_new_mem_buf(text, (int)(size - 1));
	if (!bio) {
		r = skp_err_set(err, -ENOMEM, "TLS: out of memory");
		goto out;
	}
	r = -EINVAL;
	if (kind == PEM_KEY) {
		int encrypted = 0;
		EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, &encrypted);

		if (k && SSL_CTX_use_PrivateKey(sc, k) == 1)
			r = 0;
		EVP_PKEY_free(k);
		if (!k && encrypted) {
			ERR_clear_error();
			r = skp_err_set(err, -EINVAL, "TLS: client key %s is encrypted: skp reads no "
					"passphrase; give it an unencrypted PEM key (root-only, 0600)", path);
			goto out;
		}
	} else if (kind == PEM_CERT) {
		/* as SSL_CTX_use_certificate_chain_file: the leaf, then its chain */
		x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
		if (x && SSL_CTX_use_certificate(sc, x) == 1) {
			r = 0;
			X509_free(x);
			while (r == 0 && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
				if (SSL_CTX_add0_chain_cert(sc, x) != 1) {
					X509_free(x);
					r = -EINVAL;
				}
		} else {
			X509_free(x);
		}
	} else {
		X509_STORE *store = SSL_CTX_get_cert_store(sc);

		while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
			if (X509_STORE_add_cert(store, x) == 1)
				n++;
			X509_free(x);
		}
		r = n ? 0 : -EINVAL;
	}
	if (r == 0) {
		ERR_clear_error();	/* the end of the PEM text */
	} else {
		skp_ossl_errstr(e, sizeof(e));
		skp_err_set(err, -EINVAL, "TLS: cannot load %s %s: %s", what[kind], path, e);
	}
out:
	BIO_free(bio);
	if (kind == PEM_KEY)
		skp_secmem_free(text, size);
	else
		free(text);
	return r;
}

/*
 * The client key: "tpm:..." in the TPM (tpmkey.c: OpenSSL asks the TPM for each signature,
 * the private key never enters this process; loaded with the SSL_CTX, which lives in its
 * library context), else a PEM file.
 */
static int load_key(struct skp_tls_ctx *ctx, const struct skp_tls_cfg *cfg, struct skp_err *err)
{
	char e[200];

	if (!skp_tpmkey_is(cfg->key))
		return load_pem(ctx->ssl_ctx, cfg->key, PEM_KEY, err);
	if (SSL_CTX_use_PrivateKey(ctx->ssl_ctx, skp_tpmkey_pkey(ctx->tpmkey)) != 1) {
		skp_ossl_errstr(e, sizeof(e));
		return skp_err_set(err, -EINVAL, "TLS: cannot use client key %s: %s", cfg->key, e);
	}
	return 0;
}

struct skp_tls_ctx *skp_tls_ctx_new(const struct skp_tls_cfg *cfg, struct skp_err *err)
{
	struct skp_tls_ctx *ctx;
	char e[200];

	if (!cfg->ca || !cfg->cert || !cfg->key) {
		skp_err_set(err, -EINVAL, "TLS: a CA, a client certificate and a key are required");
		return NULL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		skp_err_set(err, -ENOMEM, "TLS: out of memory");
		return NULL;
	}
	ERR_clear_error();
	if (skp_tpmkey_is(cfg->key)) {
		/* TLS with a key in the TPM runs in the key's library context (tpmkey.h) */
		if (skp_tpmkey_load(cfg->key, cfg->tpm_tcti, &ctx->tpmkey, err) < 0) {
			skp_err_wrap(err, "TLS: client key");
			goto fail;
		}
		ctx->ssl_ctx = SSL_CTX_new_ex(skp_tpmkey_libctx(ctx->tpmkey), SKP_TPMKEY_PROPQ, TLS_client_method());
	} else {
		ctx->ssl_ctx = SSL_CTX_new(TLS_client_method());
	}
	if (!ctx->ssl_ctx) {
		skp_ossl_errstr(e, sizeof(e));
		skp_err_set(err, -ENOMEM, "TLS: cannot create context: %s", e);
		goto fail;
	}
	SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx->ssl_ctx, SSL_MODE_RELEASE_BUFFERS);
	/* Responses carry KEKs: OpenSSL wipes the decrypted record once we have read it and its
	 * buffers when it frees them, so the only copy is the caller's secmem. */
	SSL_CTX_set_options(ctx->ssl_ctx, SSL_OP_CLEANSE_PLAINTEXT);
	/* Only the configured CA: never the system store, a KMS has a private PKI. */
	if (load_pem(ctx->ssl_ctx, cfg->ca, PEM_CA, err) < 0 ||
	    load_pem(ctx->ssl_ctx, cfg->cert, PEM_CERT, err) < 0 ||
	    load_key(ctx, cfg, err) < 0)
		goto fail;
	if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1) {
		skp_ossl_errstr(e, sizeof(e));
		skp_err_set(err, -EINVAL, "TLS: client key %s does not match certificate %s: %s", cfg->key,
			    cfg->cert, e);
		goto fail;
	}
	return ctx;
fail:
	skp_tls_ctx_free(ctx);
	return NULL;
}

void skp_tls_ctx_free(struct skp_tls_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	skp_tpmkey_free(ctx->tpmkey);	/* after the SSL_CTX, which holds the key */
	free(ctx);
}

/* Waits for events on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 0;	/* readiness or error: the next call tells which */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* SIGPIPE would kill a daemon when a KMS drops the connection mid-write: block it
 * for this thread around writes and swallow one it raised. */
struct sigpipe_guard {
	sigset_t old;
	int was_pending;
};

static void sigpipe_block(struct sigpipe_guard *g)
{
	sigset_t s, pend;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	sigemptyset(&pend);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &s, &g->old);
}

static void sigpipe_restore(struct sigpipe_guard *g)
{
	sigset_t s, pend;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	sigemptyset(&pend);
	if (!g->was_pending && !sigpending(&pend) && sigismember(&pend, SIGPIPE) == 1) {
		struct timespec zero = { 0, 0 };

		while (sigtimedwait(&s, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* The error of a failed SSL call (se = SSL_get_error) as an errno and message. */
static int ssl_fail(struct skp_tls_conn *c, int se, int handshake, const char *what, size_t done,
		    size_t n, struct skp_err *err)
{
	char e[200];

	switch (se) {
	case SSL_ERROR_ZERO_RETURN:
		return skp_err_set(err, -ECONNRESET, "%s: server closed the connection during %s (%zu of %zu bytes)",
				   c->peer, what, done, n);
	case SSL_ERROR_SYSCALL:
		if (errno && errno != EAGAIN)
			return skp_err_set(err, -errno, "%s: %s: %s", c->peer, what, strerror(errno));
		return skp_err_set(err, -ECONNRESET, "%s: connection closed by server during %s (%zu of %zu bytes)",
				   c->peer, what, done, n);
	default:
		if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return skp_err_set(err, -ECONNRESET,
					   "%s: connection closed by server during %s (%zu of %zu bytes)",
					   c->peer, what, done, n);
		}
		if (handshake) {
			long v = SSL_get_verify_result(c->ssl);

			if (v != X509_V_OK)
				return skp_err_set(err, -EKEYREJECTED, "%s: server certificate rejected: %s",
						   c->peer, X509_verify_cert_error_string(v));
		}
		skp_ossl_errstr(e, sizeof(e));
		return skp_err_set(err, -EPROTO, "%s: TLS error during %s: %s", c->peer, what, e);
	}
}

/* One SSL call in a loop with poll: op 0 handshake, 1 read, 2 write. */
static int ssl_loop(struct skp_tls_conn *c, int op, void *buf, size_t n, int64_t deadline,
		    size_t *done, const char *what, struct skp_err *err)
{
	*done = 0;
	for (;;) {
		size_t k = 0;
		int ok, se, r;

		ERR_clear_error();
		errno = 0;
		if (op == 0)
			ok = SSL_connect(c->ssl) == 1;
		else if (op == 1)
			ok = SSL_read_ex(c->ssl, (unsigned char *)buf + *done, n - *done, &k);
		else
			ok = SSL_write_ex(c->ssl, (const unsigned char *)buf + *done, n - *done, &k);
		if (ok) {
			*done += k;
			if (op == 0 || *done == n)
				return 0;
			continue;
		}
		se = SSL_get_error(c->ssl, 0);
		if (se == SSL_ERROR_WANT_READ)
			r = wait_fd(c->fd, POLLIN, deadline);
		else if (se == SSL_ERROR_WANT_WRITE)
			r = wait_fd(c->fd, POLLOUT, deadline);
		else
			return ssl_fail(c, se, op == 0, what, *done, n, err);
		if (r == -ETIMEDOUT && !n)
			return skp_err_set(err, -ETIMEDOUT, "%s: timed out during %s", c->peer, what);
		if (r == -ETIMEDOUT)
			return skp_err_set(err, -ETIMEDOUT, "%s: timed out during %s (%zu of %zu bytes)", c->peer,
					   what, *done, n);
		if (r)
			return skp_err_set(err, r, "%s: poll: %s", c->peer, strerror(-r));
	}
}

static int is_ip(const char *host)
{
	unsigned char b[16];

	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

/* SSL object for c, with the peer check: an IP must match an IP SAN (and SNI carries
 * names only, RFC 6066), a name must match a DNS SAN. */
static int ssl_setup(struct skp_tls_ctx *ctx, struct skp_tls_conn *c, const char *host, struct skp_err *err)
{
	X509_VERIFY_PARAM *vp;

	c->ssl = SSL_new(ctx->ssl_ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
		return skp_err_set(err, -ENOMEM, "%s: cannot set up TLS", c->peer);
	vp = SSL_get0_param(c->ssl);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
			return skp_err_set(err, -EINVAL, "%s: bad IP address", c->peer);
	} else if (SSL_set1_host(c->ssl, host) != 1 || SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		return skp_err_set(err, -EINVAL, "%s: bad host name", c->peer);
	}
	return 0;
}

/* One connection being set up by skp_tls_connect_many. */
/*
 * getaddrinfo has no timeout (a DNS server that drops packets holds it for
 * resolv.conf's timeout x attempts, per name): names are resolved with getaddrinfo_a
 * and waited for until the connect deadline.  A lookup still running then is left to
 * glibc's resolver thread, whose completion callback drops the last reference.
 */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	char port[16];
	atomic_int refs;		/* the caller's and the completion callback's */
};

static void lookup_put(struct lookup *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	if (l->cb.ar_result)
		freeaddrinfo(l->cb.ar_result);
	free((char *)l->cb.ar_name);
	free(l);
}

static void lookup_done(union sigval sv)
{
	lookup_put(sv.sival_ptr);
}

/*
 * Starts resolving host: an address is resolved at once (*res set, *ret NULL), a name
 * through getaddrinfo_a (*ret set; lookup_poll tells when it is done).  0 or an EAI_*.
 */
static int lookup_start(const char *host, unsigned int port, struct addrinfo **res, struct lookup **ret)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST };
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = lookup_done };
	struct gaicb *list[1];
	struct lookup *l;
	char ps[16];
	int r;

	*ret = NULL;
	snprintf(ps, sizeof(ps), "%u", port);
	/* Most KMS nodes are configured by address: no lookup, no thread. */
	r = getaddrinfo(host, ps, &hints, res);
	if (r != EAI_NONAME)
		return r;
	*res = NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return EAI_MEMORY;
	l->hints = (struct addrinfo){ .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	snprintf(l->port, sizeof(l->port), "%u", port);
	l->cb.ar_name = strdup(host);
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	atomic_init(&l->refs, 2);
	sev.sigev_value.sival_ptr = l;
	list[0] = &l->cb;
	if (!l->cb.ar_name || getaddrinfo_a(GAI_NOWAIT, list, 1, &sev)) {
		free((char *)l->cb.ar_name);
		free(l);
		return EAI_MEMORY;
	}
	*ret = l;
	return 0;
}

/* EAI_INPROGRESS while running; else its result (*res on 0) and l is released. */
static int lookup_poll(struct lookup *l, struct addrinfo **res)
{
	int r = gai_error(&l->cb);

	if (r == EAI_INPROGRESS)
		return r;
	if (r == 0) {
		*res = l->cb.ar_result;
		l->cb.ar_result = NULL;
	}
	lookup_put(l);
	return r;
}

/* The deadline passed: a queued lookup is canceled (no callback comes), a running one
 * is left to its callback. */
static void lookup_abandon(struct lookup *l)
{
	if (gai_cancel(&l->cb) == EAI_CANCELED)
		lookup_put(l);
	lookup_put(l);
}

struct pending {
	struct skp_tls_conn *c;
	const char *host;
	struct addrinfo *res, *ai;	/* addresses, the one being tried */
	struct lookup *lk;		/* name resolution under way */
	enum { P_RESOLVE, P_TCP, P_TLS, P_DONE, P_FAILED } state;
	short events;			/* what poll must wait for */
	int last;			/* last connect error */
};

/* Starts TCP connects from p->ai on until one is under way or done (then TLS starts). */
static void pend_tcp(struct skp_tls_ctx *ctx, struct pending *p, struct skp_err *err);

/* One step of the TLS handshake. */
static void pend_tls(struct pending *p, struct skp_err *err)
{
	int se;

	ERR_clear_error();
	errno = 0;
	if (SSL_connect(p->c->ssl) == 1) {
		p->state = P_DONE;
		return;
	}
	se = SSL_get_error(p->c->ssl, 0);
	if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
		p->events = se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return;
	}
	ssl_fail(p->c, se, 1, "TLS handshake", 0, 0, err);
	p->state = P_FAILED;
}

static void pend_connected(struct skp_tls_ctx *ctx, struct pending *p, struct skp_err *err)
{
	p->state = P_TLS;
	if (ssl_setup(ctx, p->c, p->host, err)) {
		p->state = P_FAILED;
		return;
	}
	pend_tls(p, err);
}

static void pend_tcp(struct skp_tls_ctx *ctx, struct pending *p, struct skp_err *err)
{
	for (; p->ai; p->ai = p->ai->ai_next) {
		struct addrinfo *ai = p->ai;
		int one = 1, fd;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			p->last = -errno;
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			p->c->fd = fd;
			pend_connected(ctx, p, err);
			return;
		}
		if (errno == EINPROGRESS) {
			p->c->fd = fd;
			p->state = P_TCP;
			p->events = POLLOUT;
			return;
		}
		p->last = -errno;
		close(fd);
	}
	skp_err_set(err, p->last, "%s: connect failed: %s", p->c->peer, strerror(-p->last));
	p->state = P_FAILED;
}

/* fd of a P_TCP connection is ready: connected, or on to the next address. */
static void pend_tcp_ready(struct skp_tls_ctx *ctx, struct pending *p, struct skp_err *err)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(p->c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (!soerr) {
		pend_connected(ctx, p, err);
		return;
	}
	p->last = -soerr;
	close(p->c->fd);
	p->c->fd = -1;
	p->ai = p->ai->ai_next;
	pend_tcp(ctx, p, err);
}

#define LOOKUP_SLICE_MS 20

/* Lookups that ended start their TCP connects; at the deadline the others fail. */
static void resolve_step(struct skp_tls_ctx *ctx, struct pending *pend, size_t n, int64_t deadline,
			struct skp_err *errs)
{
	int expired = now_ms() >= deadline;

	for (size_t i = 0; i < n; i++) {
		struct pending *p = &pend[i];
		int r;

		if (p->state != P_RESOLVE)
			continue;
		r = expired ? EAI_INPROGRESS : lookup_poll(p->lk, &p->res);
		if (r == EAI_INPROGRESS) {
			if (!expired)
				continue;
			lookup_abandon(p->lk);
			p->lk = NULL;
			p->state = P_FAILED;
			skp_err_set(&errs[i], -ETIMEDOUT, "%s: name resolution timed out", p->c->peer);
			continue;
		}
		p->lk = NULL;
		if (r) {
			p->state = P_FAILED;
			skp_err_set(&errs[i], -EHOSTUNREACH, "%s: cannot resolve: %s", p->c->peer, gai_strerror(r));
			continue;
		}
		p->state = P_FAILED;	/* pend_tcp sets what follows */
		p->ai = p->res;
		pend_tcp(ctx, p, &errs[i]);
	}
}

int skp_tls_connect_many(struct skp_tls_ctx *ctx, const struct skp_tls_target *t, size_t n, int timeout_ms,
			 struct skp_tls_conn **conns, struct skp_err *errs)
{
	struct pending pend[SKP_TLS_MANY_MAX];
	struct pollfd pfd[SKP_TLS_MANY_MAX];
	int64_t deadline = now_ms() + timeout_ms;	/* TCP and TLS handshake share one deadline */
	size_t i, ok = 0;

	if (n > SKP_TLS_MANY_MAX)
		n = SKP_TLS_MANY_MAX;
	memset(pend, 0, sizeof(pend));
	for (i = 0; i < n; i++) {
		struct pending *p = &pend[i];
		int r;

		conns[i] = NULL;
		p->state = P_FAILED;
		p->host = t[i].host;
		p->last = -ECONNREFUSED;
		p->c = calloc(1, sizeof(*p->c));
		if (!p->c) {
			skp_err_set(&errs[i], -ENOMEM, "TLS: out of memory");
			continue;
		}
		p->c->fd = -1;
		snprintf(p->c->peer, sizeof(p->c->peer), strchr(t[i].host, ':') ? "[%s]:%u" : "%s:%u",
			 t[i].host, t[i].port);
		r = lookup_start(t[i].host, t[i].port, &p->res, &p->lk);
		if (r) {
			skp_err_set(&errs[i], -EHOSTUNREACH, "%s: cannot resolve: %s", p->c->peer, gai_strerror(r));
			continue;
		}
		if (p->lk) {
			p->state = P_RESOLVE;
			continue;
		}
		p->ai = p->res;
		pend_tcp(ctx, p, &errs[i]);
	}
	for (;;) {
		size_t np = 0, nr = 0, idx[SKP_TLS_MANY_MAX];
		int64_t left = deadline - now_ms();
		int r;

		for (i = 0; i < n; i++) {
			nr += pend[i].state == P_RESOLVE;
			if (pend[i].state != P_TCP && pend[i].state != P_TLS)
				continue;
			pfd[np] = (struct pollfd){ .fd = pend[i].c->fd, .events = pend[i].events };
			idx[np++] = i;
		}
		if (!np && !nr)
			break;
		/* Lookups have no descriptor: while one runs, poll in short slices and ask. */
		if (nr && left > LOOKUP_SLICE_MS)
			left = LOOKUP_SLICE_MS;
		if (left <= 0)
			r = 0;
		else
			r = poll(pfd, np, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (nr)
			resolve_step(ctx, pend, n, deadline, errs);
		if (r == 0 && now_ms() < deadline)
			continue;	/* the end of a slice */
		if (r <= 0) {
			int e = r < 0 ? -errno : -ETIMEDOUT;

			for (i = 0; i < np; i++) {
				struct pending *p = &pend[idx[i]];

				if (e != -ETIMEDOUT)
					skp_err_set(&errs[idx[i]], e, "%s: poll: %s", p->c->peer, strerror(-e));
				else if (p->state == P_TCP)
					skp_err_set(&errs[idx[i]], e, "%s: TCP connect timed out", p->c->peer);
				else
					skp_err_set(&errs[idx[i]], e, "%s: timed out during TLS handshake", p->c->peer);
				p->state = P_FAILED;
			}
			break;
		}
		for (i = 0; i < np; i++) {
			struct pending *p = &pend[idx[i]];

			if (!pfd[i].revents)
				continue;
			if (p->state == P_TCP)
				pend_tcp_ready(ctx, p, &errs[idx[i]]);
			else
				pend_tls(p, &errs[idx[i]]);
		}
	}
	for (i = 0; i < n; i++) {
		struct pending *p = &pend[i];

		if (p->lk)
			lookup_abandon(p->lk);
		if (p->res)
			freeaddrinfo(p->res);
		if (p->state == P_DONE) {
			conns[i] = p->c;
			ok++;
		} else {
			skp_tls_close(p->c);
		}
	}
	return (int)ok;
}

int skp_tls_connect(struct skp_tls_ctx *ctx, const char *host, unsigned int port, int timeout_ms,
		    struct skp_tls_conn **ret_conn, struct skp_err *err)
{
	struct skp_tls_target t = { host, port };
	struct skp_err e = { 0 };

	if (skp_tls_connect_many(ctx, &t, 1, timeout_ms, ret_conn, &e) == 1)
		return 0;
	*err = e;
	return e.code ? e.code : -EIO;
}

void skp_tls_close(struct skp_tls_conn *c)
{
	if (!c)
		return;
	if (c->ssl) {
		struct sigpipe_guard g;

		/* Best effort close_notify; never wait for the peer's. */
		sigpipe_block(&g);
		SSL_shutdown(c->ssl);
		sigpipe_restore(&g);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	free(c);
}

int skp_tls_check_idle(struct skp_tls_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };

	if (SSL_pending(c->ssl) > 0)
		return -ECONNRESET;
	if (poll(&pfd, 1, 0) != 0)	/* readable (EOF, alert, stray data) or error */
		return -ECONNRESET;
	return 0;
}

int skp_tls_send(struct skp_tls_conn *c, const void *buf, size_t len, int timeout_ms, int *sent_any,
		 struct skp_err *err)
{
	struct sigpipe_guard g;
	size_t done = 0;
	int r;

	sigpipe_block(&g);
	r = ssl_loop(c, 2, (void *)buf, len, now_ms() + timeout_ms, &done, "sending request", err);
	sigpipe_restore(&g);
	if (sent_any)
		*sent_any = done > 0 || r == -ETIMEDOUT || r == -ECONNRESET;
	return r;
}

int skp_tls_wait_answer(struct skp_tls_conn *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		unsigned char b;
		size_t k = 0;
		int se, r;

		if (SSL_pending(c->ssl) > 0)
			return 0;
		/* A peek processes records that carry no data (a TLS 1.3 session ticket)
		 * without counting them as the answer. */
		ERR_clear_error();
		errno = 0;
		if (SSL_peek_ex(c->ssl, &b, 1, &k))
			return 0;
		se = SSL_get_error(c->ssl, 0);
		if (se != SSL_ERROR_WANT_READ && se != SSL_ERROR_WANT_WRITE)
			return 0;
		r = wait_fd(c->fd, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
		if (r)
			return r;
	}
}

struct conn_reader {
	struct skp_tls_conn *c;
	int64_t deadline;
};

static int conn_read_exact(void *ctx, unsigned char *buf, size_t n, struct skp_err *err)
{
	struct conn_reader *cr = ctx;
	size_t done;

	return ssl_loop(cr->c, 1, buf, n, cr->deadline, &done, "reading response", err);
}

int skp_tls_recv(struct skp_tls_conn *c, size_t max, int timeout_ms, unsigned char **ret_buf,
		 size_t *ret_len, struct skp_err *err)
{
	struct conn_reader cr = { c, now_ms() + timeout_ms };

	return skp_kmip_read_frame(conn_read_exact, &cr, max, ret_buf, ret_len, err);
}

int skp_kmip_read_frame(skp_read_exact_fn read_exact, void *ctx, size_t max, unsigned char **ret_buf,
			size_t *ret_len, struct skp_err *err)
{
	unsigned char hdr[SKP_TTLV_HDR], *buf;
	uint32_t len;
	size_t total;
	int r;

	if (!max || max > SKP_TTLV_MAX_MSG)
		max = SKP_TTLV_MAX_MSG;
	r = read_exact(ctx, hdr, sizeof(hdr), err);
	if (r)
		return r;
	if (hdr[0] != 0x42 || hdr[1] != 0x00 || hdr[2] != 0x7B || hdr[3] != SKP_TTLV_STRUCT)
		return skp_err_set(err, -EPROTO, "KMIP: response does not start with a Response Message (%02X%02X%02X %02X)",
				   hdr[0], hdr[1], hdr[2], hdr[3]);
	len = skp_get_be32(hdr + 4);
	if (len % 8)
		return skp_err_set(err, -EPROTO, "KMIP: response length %u is not a multiple of 8", len);
	if (len > max - SKP_TTLV_HDR)
		return skp_err_set(err, -EMSGSIZE, "KMIP: response of %u bytes exceeds the %zu byte limit",
				   len, max);
	total = SKP_TTLV_HDR + (size_t)len;
	/* Responses carry key material: receive into locked, wiped-on-free memory. */
	buf = skp_secmem_alloc(total);
	if (!buf)
		return skp_err_set(err, -ENOMEM, "KMIP: cannot allocate %zu bytes of locked memory", total);
	memcpy(buf, hdr, sizeof(hdr));
	if (len) {
		r = read_exact(ctx, buf + SKP_TTLV_HDR, len, err);
		if (r) {
			skp_secmem_free(buf, total);
			return r;
		}
	}
	*ret_buf = buf;
	*ret_len = total;
	return 0;
}
