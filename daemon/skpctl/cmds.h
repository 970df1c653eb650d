/* SPDX-License-Identifier: GPL-2.0 */
/* skpctl's commands: served by skpd (cmd-skpd.c), on headers (cmd-header.c), on a KMS
 * directly (cmd-kms.c).  Each runs one row of main.c's table. */
#ifndef SKPCTL_CMDS_H
#define SKPCTL_CMDS_H

struct cli;

int skpctl_cmd_status(const struct cli *c);
int skpctl_cmd_provider_list(const struct cli *c);
int skpctl_cmd_provider_test(const struct cli *c);
int skpctl_cmd_provider_backup(const struct cli *c);
int skpctl_cmd_provider_restore(const struct cli *c);
int skpctl_cmd_format(const struct cli *c);
int skpctl_cmd_open(const struct cli *c);
int skpctl_cmd_close(const struct cli *c);
int skpctl_cmd_list(const struct cli *c);
int skpctl_cmd_rekey(const struct cli *c);
int skpctl_cmd_keys_count(const struct cli *c);
int skpctl_cmd_reload(const struct cli *c);
int skpctl_cmd_dump(const struct cli *c);
int skpctl_cmd_header_backup(const struct cli *c);
int skpctl_cmd_header_restore(const struct cli *c);
int skpctl_cmd_kms(const struct cli *c);
int skpctl_cmd_tpm_key_create(const struct cli *c);
int skpctl_cmd_tpm_key_csr(const struct cli *c);

#endif
