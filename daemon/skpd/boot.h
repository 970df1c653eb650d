/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skptab: every entry opened with one batched KEK request per provider; an entry that
 * cannot be opened yet stays pending and is tried again (backoff, device and KMS kicks),
 * and READY waits for the entries without nofail, each up to its timeout.
 */
#ifndef SKPD_BOOT_H
#define SKPD_BOOT_H

#include "config.h"
#include "header.h"

struct skpd;

/* Backoff between the attempts of a pending entry: 1 s, doubling, at most 60 s; each wait
 * is drawn between half the step and the step (boot.c: attempt_jitter). */
#define BOOT_BACKOFF_MIN 1.0
#define BOOT_BACKOFF_MAX 60.0

enum boot_wait {
	BOOT_WAIT_NONE,			/* open */
	BOOT_WAIT_DEVICE,		/* no such device yet, or its header cannot be read */
	BOOT_WAIT_PROVIDER,		/* provider not configured, or its KMS did not deliver */
	BOOT_WAIT_OTHER,		/* the open itself failed */
};

struct boot_ent {
	struct skptab_entry e;
	enum boot_wait wait;
	char provider[SKP_PROVIDER_MAX];	/* BOOT_WAIT_PROVIDER: which one */
	char reason[300];
	char logged[300];		/* the reason last logged: a repeat is not logged again */
	unsigned int attempts;
	double added;			/* monotonic seconds: when skptab named it */
	double last_at, next_at;	/* last attempt, next one (pending only) */
	double backoff;
};

/* Monotonic seconds (the clock the functions below are given). */
double boot_now(void);
/* Reads skptab (again, on reload): new entries pending, removed ones forgotten (never
 * closed), kept ones keep their state; then tries every pending entry. */
int boot_load(struct skpd *d, double now);
/* Tries the pending entries due at now, batched; returns how many opened. */
int boot_retry(struct skpd *d, double now);
/* NAME is an skptab entry with the initramfs option (root, opened in early boot). */
int boot_is_initramfs(const struct skpd *d, const char *name);
/* The longest boot_retry at now can block, in seconds: 0 when nothing is due.  Every
 * provider is counted for every due entry (their headers are not read yet). */
double boot_retry_max_s(const struct skpd *d, double now);
/* Monotonic time of the next attempt due, or -1 when nothing is pending. */
double boot_next(const struct skpd *d);
/* A block device appeared: entries waiting for a device are due at once. */
void boot_kick_devices(struct skpd *d, double now);
/* Providers the health worker found reachable again (prov.up_kick): their entries are due. */
void boot_kick_providers(struct skpd *d, double now);
/*
 * READY: 1 when every entry without nofail is open or has waited its timeout.  status
 * (may be NULL) gets "waiting for N device(s): NAME (reason), ..." otherwise; *wait_s the
 * longest wait left, in seconds.
 */
int boot_ready(const struct skpd *d, double now, char *status, size_t size, double *wait_s);
void boot_free(struct skpd *d);

/* skptab once at start, as before retries: boot_load at now; 0, or -1 if any entry is
 * still pending or a line was bad (each logged with its skptab line). */
int skpd_boot_open(struct skpd *d);

#endif
