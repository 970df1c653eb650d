/* SPDX-License-Identifier: GPL-2.0 */
/* skpctl commands that talk to skpd (cmd-skpd.c) or read device headers (cmd-header.c). */
#ifndef SKPCTL_CMD_SKPD_H
#define SKPCTL_CMD_SKPD_H

#define SKPCTL_EXIT_ALARM	3	/* status: a health alarm or device problem is raised */

int skpctl_cmd_status(int argc, char **argv);
int skpctl_cmd_provider(int argc, char **argv);
int skpctl_cmd_format(int argc, char **argv);
int skpctl_cmd_open(int argc, char **argv);
int skpctl_cmd_close(int argc, char **argv);
int skpctl_cmd_list(int argc, char **argv);
int skpctl_cmd_rekey(int argc, char **argv);
int skpctl_cmd_keys(int argc, char **argv);
int skpctl_cmd_reload(int argc, char **argv);
int skpctl_cmd_dump(int argc, char **argv);
int skpctl_cmd_header(int argc, char **argv);

#endif
