// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the framing reader fed in fuzzer-chosen chunk sizes, then the decoder. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kmip.h"
#include "secmem.h"
#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t left;
	size_t max;
};

static int rd(void *ctx, unsigned char *buf, size_t n, struct skp_err *err)
{
	struct src *s = ctx;

	if (n > s->left)
		return skp_err_set(err, -104, "closed");
	memcpy(buf, s->p, n);
	s->p += n;
	s->left -= n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s;
	struct skp_err err;
	unsigned char *buf = NULL;
	size_t len = 0;

	if (size < 2)
		return 0;
	/* First two bytes pick the caller's size limit (up to 64 KiB). */
	s.max = ((size_t)data[0] << 8 | data[1]) + 1;
	s.p = data + 2;
	s.left = size - 2;
	while (!skp_kmip_read_frame(rd, &s, s.max, &buf, &len, &err)) {
		struct skp_kmip_resp resp;

		if (!skp_kmip_resp_parse(buf, len, &resp, &err))
			skp_kmip_resp_free(&resp);
		skp_secmem_free(buf, len);
	}
	return 0;
}
