// SPDX-License-Identifier: GPL-2.0
/*
 * One remediation pass of skpd, against a real KMS (tests/bench/remediation.sh, and
 * tests/kmip/12-remediation.sh for the findings):
 *
 *   remediation-pass SKPD_CONF LIST        LIST: lines "NAME PROVIDER KEK_UID"
 *
 * Linked from skpd's own objects (all but main.o: health.c's worker and remediation,
 * providers.c, devices.c) and libskp as built (provider, kmip, tls): the KMS exchanges
 * are the daemon's.  The one stand-in is device-mapper: the host cannot load dm-skp, so
 * each device is registered with dev_add as op_open does once its table is loaded, but
 * without a mapping; remediation reads only that list.
 *
 * Like skpd: configuration and providers are loaded, the health worker is started and
 * probes once (connections up, versions negotiated, as the probes every health_interval
 * leave them), then one pass runs as main.c's loop does it (request, wait for the
 * worker's pipe, collect).  Prints "pass SECONDS", "requests N" (the request messages
 * sent to the KMS during the pass: every one goes through skp_tls_send, wrapped here
 * with -Wl,--wrap=skp_tls_send), "usable U of N", and one line per device with a
 * finding: "NAME: FINDING".
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "health.h"
#include "skpd.h"
#include "tls.h"

#define UNANSWERED "(not answered)"

static unsigned long n_sent;

int __real_skp_tls_send(struct skp_tls_conn *c, const void *buf, size_t len, int timeout_ms, int *sent_any,
			struct skp_err *err);
int __wrap_skp_tls_send(struct skp_tls_conn *c, const void *buf, size_t len, int timeout_ms, int *sent_any,
			struct skp_err *err);

/* The health worker's thread sends; main reads the count once the pass is collected. */
int __wrap_skp_tls_send(struct skp_tls_conn *c, const void *buf, size_t len, int timeout_ms, int *sent_any,
			struct skp_err *err)
{
	__atomic_add_fetch(&n_sent, 1, __ATOMIC_SEQ_CST);
	return __real_skp_tls_send(c, buf, len, timeout_ms, sent_any, err);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What main.c's loop does when the worker's pipe is readable. */
static int wait_answer(struct skpd *d, int timeout_ms)
{
	struct pollfd p = {.fd = health_fd(d), .events = POLLIN};

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	health_collect(d);
	return 0;
}

static int add_devices(struct skpd *d, FILE *in, struct skp_err *err)
{
	char line[1024], name[SKP_DM_NAME_MAX], prov[SKP_PROVIDER_MAX], uid[SKP_KEK_UID_MAX];

	while (fgets(line, sizeof(line), in)) {
		struct skp_header h;

		if (sscanf(line, "%127s %63s %255s", name, prov, uid) != 3)
			return skp_err_set(err, -EINVAL, "bad device line: %.100s", line);
		memset(&h, 0, sizeof(h));
		snprintf(h.slot[0].provider, sizeof(h.slot[0].provider), "%s", prov);
		snprintf(h.slot[0].kek_uid, sizeof(h.slot[0].kek_uid), "%s", uid);
		if (dev_add(d, name, "-", &h, 0, err) < 0)
			return err->code;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct skpd *d = calloc(1, sizeof(*d));
	struct skp_err err = {0};
	size_t usable = 0;
	FILE *list;
	double t;

	if (argc != 3 || !d) {
		fprintf(stderr, "usage: remediation-pass SKPD_CONF LIST\n");
		return 2;
	}
	list = fopen(argv[2], "r");
	if (!list) {
		fprintf(stderr, "remediation-pass: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	snprintf(d->config_path, sizeof(d->config_path), "%s", argv[1]);
	if (skp_config_load(d->config_path, &d->cfg, &err) < 0 || skpd_providers_setup(d, &err) < 0 ||
	    add_devices(d, list, &err) < 0 || health_start(d, &err) < 0) {
		fprintf(stderr, "remediation-pass: %s\n", err.msg);
		return 1;
	}
	health_request_probe(d);
	if (wait_answer(d, 120000) < 0) {
		fprintf(stderr, "remediation-pass: no probe answer\n");
		return 1;
	}
	for (size_t i = 0; i < d->n_devs; i++)
		snprintf(d->devs[i].problem, sizeof(d->devs[i].problem), UNANSWERED);
	__atomic_store_n(&n_sent, 0, __ATOMIC_SEQ_CST);
	t = now_s();
	health_request_remediation(d);
	if (wait_answer(d, 600000) < 0) {
		fprintf(stderr, "remediation-pass: no answer in 600 s\n");
		return 1;
	}
	t = now_s() - t;
	printf("pass %.3f\n", t);
	printf("requests %lu\n", __atomic_load_n(&n_sent, __ATOMIC_SEQ_CST));
	for (size_t i = 0; i < d->n_devs; i++)
		usable += !d->devs[i].problem[0];
	printf("usable %zu of %zu\n", usable, d->n_devs);
	for (size_t i = 0; i < d->n_devs; i++)
		if (d->devs[i].problem[0])
			printf("%s: %s\n", d->devs[i].name, d->devs[i].problem);
	health_stop(d, 5000);
	return 0;
}
