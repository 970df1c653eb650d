/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's state, one instance, owned by main.c.  The modules that work on it, from
 * the bottom up (each calls only those below it; docs/architecture.md):
 *   log, sbuf, testhooks      leaves
 *   devices                   the open devices; the one table load
 *   providers                 KMS providers from the config; reload
 *   keks                      the KEK cache; KEK get, wrap under a new KEK, slot unwrap
 *   health                    provider health and device remediation (a worker thread)
 *   rekey                     deep rekey
 *   ops                       format, open, close, shallow rekey, migration
 *   manager                   asks systemd: shutdown close, mounts of a late unlock
 *   uevent, fstab             kernel block uevents; fstab lines without _netdev
 *   boot, persist, report     skptab (open, retry, READY), key_persistence, what skpctl shows
 *   control                   the control socket
 *   main                      start, the loop, stop
 */
#ifndef SKPD_H
#define SKPD_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "devices.h"
#include "keks.h"
#include "providers.h"

struct boot_ent;

struct skpd {
	char config_path[SKP_PATH_MAX];
	struct skp_config cfg;
	struct prov provs[SKP_MAX_PROVIDERS];
	size_t n_provs;
	struct kek *keks;
	size_t n_keks, cap_keks;
	struct device *devs;
	size_t n_devs, cap_devs;
	time_t started;
	time_t last_health, last_remediation;
	struct health *health;		/* the worker that asks the KMS (health.c) */
	struct boot_ent *boot;		/* skptab entries, open or pending (boot.c) */
	size_t n_boot;
	int boot_bad;			/* skptab lines skipped at the last load */
	unsigned long requests;
};

#endif
