// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer: skpd's answer records (docs/protocol.md) as skpctl takes them, on arbitrary
 * bytes: the decoder, then the printer, text and JSON, on what the decoder accepts.
 * Input: one byte picks the command, one the output form, the rest is the body.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "../../daemon/skpctl/show.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct skp_rec_iter it;
	union skp_rec r;
	struct skp_err err;
	unsigned char *body;
	uint16_t cmd;
	int json;

	if (size < 2)
		return 0;
	if (!null)
		null = fopen("/dev/null", "w");
	cmd = (uint16_t)(1 + data[0] % SKP_CMD_MAX);
	json = data[1] & 1;
	size -= 2;
	/* exactly the body's size on the heap: AddressSanitizer sees any read past it */
	body = malloc(size ? size : 1);
	if (!body)
		return 0;
	memcpy(body, data + 2, size);
	skp_rec_iter_init(&it, body, size);
	while (skp_rec_next(&it, &r, &err) == 1)
		;
	if (null)
		show_records(null, cmd, body, size, json, &err);
	free(body);
	return 0;
}
