// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static int journal;

void log_init(int to_journal)
{
	journal = to_journal;
}

void log_msg(int prio, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* journald reads "<N>" as the priority; a terminal gets a plain word. */
	if (journal)
		fprintf(stderr, "<%d>%s\n", prio, line);
	else
		fprintf(stderr, "skpd: %s%s\n", prio <= LOG_E ? "error: " : prio == LOG_W ? "warning: " : "", line);
}
