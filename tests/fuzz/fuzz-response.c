// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: the KMIP response decoder and every payload reader on arbitrary bytes,
 * read as any response and as the answer to a few fixed requests (the matching of
 * answers to requests: counts, batch item IDs, operations, Unique Identifiers).
 */
#include <stddef.h>
#include <stdint.h>

#include "kmip.h"
#include "secmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void readers(const struct skp_kmip_resp *resp)
{
	struct skp_err err;

	for (uint32_t i = 0; i < resp->count; i++) {
		const struct skp_kmip_result *r = &resp->items[i];
		char uid[SKP_UID_MAX], uids[4][SKP_UID_MAX];
		struct skp_key_attrs a;
		struct skp_kmip_query q;
		struct skp_kmip_version v[4];
		unsigned char *key = NULL;
		size_t n, kl = 0;
		int64_t located;

		skp_kmip_resp_find(resp, i);
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
}

/* 0: Get "1"; 1: Get k0, Get Attributes k1, Activate k2, Revoke k3, Destroy k4, Locate;
 * 2: Create, Activate of it (ID Placeholder). */
#define N_REQS 3
static struct skp_kmip_req reqs[N_REQS];

static void build_requests(void)
{
	static const struct skp_kmip_opts o = { .major = 1, .minor = 4 };
	static int built;

	if (built)
		return;
	built = 1;
	for (int i = 0; i < N_REQS; i++)
		skp_kmip_req_init(&reqs[i], &o, NULL);
	skp_kmip_add_get(&reqs[0], "1");
	skp_kmip_add_get(&reqs[1], "k0");
	skp_kmip_add_get_attrs(&reqs[1], "k1", NULL, 0);
	skp_kmip_add_activate(&reqs[1], "k2");
	skp_kmip_add_revoke(&reqs[1], "k3", KMIP_REVOKE_CESSATION, NULL);
	skp_kmip_add_destroy(&reqs[1], "k4");
	skp_kmip_add_locate(&reqs[1], "n", 0, 0, 0);
	skp_kmip_add_create(&reqs[2], KMIP_ALG_AES, 256, SKP_KMIP_KEK_USAGE_MASK, "n");
	skp_kmip_add_activate(&reqs[2], NULL);
	for (int i = 0; i < N_REQS; i++)
		skp_kmip_req_finish(&reqs[i], NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skp_kmip_resp resp;
	struct skp_err err;

	build_requests();
	if (!skp_kmip_resp_parse(data, size, &resp, &err)) {
		readers(&resp);
		skp_kmip_resp_free(&resp);
	}
	for (int i = 0; i < N_REQS; i++) {
		if (skp_kmip_resp_parse_req(data, size, &reqs[i], &resp, &err))
			continue;
		/* a match answers every item of the request, each in its place */
		if (resp.count != reqs[i].n_items)
			__builtin_trap();
		readers(&resp);
		skp_kmip_resp_free(&resp);
	}
	return 0;
}
