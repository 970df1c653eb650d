/* SPDX-License-Identifier: GPL-2.0 */
/* OpenSSL's reason for a failure, for skp_err messages. */
#ifndef SKP_OSSLERR_H
#define SKP_OSSLERR_H

#include <stddef.h>

/* The last OpenSSL error of this thread as text ("unknown error" if none), its error
 * queue then cleared so the next failure is not blamed on this one. */
void skp_ossl_errstr(char *buf, size_t size);

#endif
