/* SPDX-License-Identifier: GPL-2.0 */
/* Test vectors are written in hex; spaces between bytes are allowed. */
#ifndef SKP_TEST_HEX_H
#define SKP_TEST_HEX_H

#include <stdio.h>

/* Decodes hex into out (large enough); returns the number of bytes. */
static inline size_t unhex(const char *s, unsigned char *out)
{
	size_t n = 0;

	while (*s) {
		unsigned int b;

		while (*s == ' ')
			s++;
		if (!s[0] || !s[1] || sscanf(s, "%2x", &b) != 1)
			break;
		out[n++] = (unsigned char)b;
		s += 2;
	}
	return n;
}

#endif
