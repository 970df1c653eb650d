/* SPDX-License-Identifier: GPL-2.0 */
/* A software TPM for unit tests: swtpm with its state in a new directory, a fresh TPM
 * (another "host" when a test starts two).  tests/deps installs swtpm and tpm2-tools;
 * without them the test fails, it is not skipped. */
#ifndef SKP_TEST_SWTPM_H
#define SKP_TEST_SWTPM_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tpm.h"

struct swtpm {
	pid_t pid;
	char dir[64], tcti[128];
};

/* Opens w's TPM, retried for 5 s (swtpm needs a moment after a start or a command). */
static inline int swtpm_open(struct swtpm *w, struct skp_tpm **t)
{
	struct skp_err err = {0};

	for (int i = 0; i < 100; i++) {
		if (skp_tpm_open(w->tcti, t, &err) == 0)
			return 0;
		usleep(50000);
	}
	fprintf(stderr, "swtpm: %s\n", err.msg);
	return -1;
}

/* Starts it on Unix sockets in its directory (no port to pick, nothing shared with other
 * tests) and waits until it answers.  0, or -1 with the reason on stderr. */
static inline int swtpm_start(struct swtpm *w)
{
	char srv[128], ctl[128], st[96];
	struct skp_tpm *t;

	w->pid = -1;
	if (system("command -v swtpm >/dev/null && command -v tpm2_pcrextend >/dev/null")) {
		fprintf(stderr, "swtpm or tpm2-tools not installed (tests/deps installs them)\n");
		return -1;
	}
	snprintf(w->dir, sizeof(w->dir), "/tmp/skp-swtpm.XXXXXX");
	if (!mkdtemp(w->dir))
		return -1;
	snprintf(srv, sizeof(srv), "type=unixio,path=%s/sock", w->dir);
	snprintf(ctl, sizeof(ctl), "type=unixio,path=%s/sock.ctrl", w->dir);
	snprintf(st, sizeof(st), "dir=%s", w->dir);
	snprintf(w->tcti, sizeof(w->tcti), "swtpm:path=%s/sock", w->dir);
	w->pid = fork();
	if (w->pid == 0) {
		/* Its chatter ("Data client disconnected") is not the test's. */
		if (!freopen("/dev/null", "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(127);
		execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", st, "--server", srv,
		       "--ctrl", ctl, "--flags", "not-need-init,startup-clear", (char *)NULL);
		_exit(127);
	}
	if (w->pid < 0 || swtpm_open(w, &t) < 0)
		return -1;
	skp_tpm_close(t);
	return 0;
}

/* Stops it and removes its state; nothing to do for one that never started. */
static inline void swtpm_stop(struct swtpm *w)
{
	char cmd[128];

	if (w->pid <= 0)
		return;
	kill(w->pid, SIGTERM);
	waitpid(w->pid, NULL, 0);
	w->pid = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", w->dir);
	if (system(cmd))
		return;
}

#endif
