// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the KMIP response decoder and every payload reader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "kmip.h"
#include "secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skp_kmip_resp resp;
	struct skp_err err;
	uint32_t i;

	if (skp_kmip_resp_parse(data, size, &resp, &err))
		return 0;
	for (i = 0; i < resp.count; i++) {
		const struct skp_kmip_result *r = &resp.items[i];
		char uid[SKP_UID_MAX], uids[4][SKP_UID_MAX];
		struct skp_key_attrs a;
		struct skp_kmip_query q;
		struct skp_kmip_version v[4];
		unsigned char *key = NULL;
		size_t n, kl = 0;
		int64_t located;

		skp_kmip_resp_find(&resp, i);
		skp_kmip_result_check(r, r->op, &err);
		skp_kmip_parse_uid(r, uid, sizeof(uid), &err);
		if (!skp_kmip_parse_get_key(r, &key, &kl, &err))
			skp_secmem_free(key, kl);
		skp_kmip_parse_attrs(r, &a, &err);
		skp_kmip_parse_locate(r, uids, 4, &n, &located, &err);
		skp_kmip_parse_query(r, &q, &err);
		if (!skp_kmip_parse_versions(r, v, 4, &n, &err))
			skp_kmip_pick_version(v, n);
	}
	skp_kmip_resp_free(&resp);
	return 0;
}
