// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include <openssl/err.h>

#include "osslerr.h"

void skp_ossl_errstr(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, buf, size);
	else
		snprintf(buf, size, "unknown error");
	ERR_clear_error();
}
