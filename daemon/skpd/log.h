/* SPDX-License-Identifier: GPL-2.0 */
/* skpd's log: stderr, which journald reads with "<N>" priority prefixes under systemd. */
#ifndef SKPD_LOG_H
#define SKPD_LOG_H

#define LOG_E 3
#define LOG_W 4
#define LOG_I 6

/* journal: stderr goes to journald (JOURNAL_STREAM is set), else to a terminal. */
void log_init(int journal);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
