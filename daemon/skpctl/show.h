/* SPDX-License-Identifier: GPL-2.0 */
/* skpctl prints skpd's state records (docs/protocol.md) as text or JSON. */
#ifndef SKPCTL_SHOW_H
#define SKPCTL_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto.h"

/* cmd's answer, already checked whole by skp_resp_records_check: 0, or -EBADMSG. */
int show_records(FILE *f, uint16_t cmd, const void *body, size_t len, int json, struct skp_err *err);
/* s as a JSON string, quoted and escaped. */
void show_json_str(FILE *f, const char *s);
/* rekey NAME --status: "NAME: state=... percent=..." or its JSON. */
void show_rekey(FILE *f, const struct skp_rec_rekey *r, int json);

#endif
