// SPDX-License-Identifier: GPL-2.0
/*
 * skpd: holds KEKs for encrypted block devices, opens them through dm-skp, and
 * answers skpctl on a root-only control socket.  The main loop serves requests and runs
 * deep rekeys a chunk at a time; the health and remediation checks ask the KMS on a
 * worker thread (health.c), so a KMS that does not answer never stalls it.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-skp.h>
#include <systemd/sd-daemon.h>

#include "boot.h"
#include "control.h"
#include "dm.h"
#include "fstab.h"
#include "health.h"
#include "log.h"
#include "persist.h"
#include "rekey.h"
#include "sbuf.h"
#include "secmem.h"
#include "manager.h"
#include "skpd.h"
#include "testhooks.h"
#include "uevent.h"

/* How long a stopping skpd waits for a health check in flight (systemd allows 90 s). */
#define HEALTH_STOP_WAIT_MS	3000

static void usage(void)
{
	fprintf(stderr, "usage: skpd [--config PATH] [--socket PATH] [--skptab PATH] [--fstab PATH] [--version]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"skptab", required_argument, NULL, 't'},
		{"fstab", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	static struct skpd d;
	const char *socket_override = NULL, *skptab_override = NULL, *fstab = SKPD_FSTAB;
	struct skp_err err = {0};
	sigset_t mask;
	int c, r, lfd, sfd, ufd, running = 1, ready = 0, stop_signal = 0, worker_left;
	double last_status = 0;
	char status[1200] = "", sent[1200] = "";

	snprintf(d.config_path, sizeof(d.config_path), "/etc/skp/skpd.conf");
	while ((c = getopt_long(argc, argv, "c:s:t:f:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(d.config_path, sizeof(d.config_path), "%s", optarg);
			break;
		case 's':
			socket_override = optarg;
			break;
		case 't':
			skptab_override = optarg;
			break;
		case 'f':
			fstab = optarg;
			break;
		case 'h':
			usage();
			return 0;
		case 'V':
			printf("skpd %s (for the dm-skp target %d.%d)\n", SKP_VERSION, DM_SKP_VERSION_MAJOR, DM_SKP_VERSION_MINOR);
			return 0;
		default:
			usage();
			return 2;
		}
	}
	if (optind != argc) {
		usage();
		return 2;
	}
	log_init(getenv("JOURNAL_STREAM") != NULL);
	umask(077);
	if (geteuid() != 0) {
		log_msg(LOG_E, "must run as root");
		return 1;
	}
	if (skp_secmem_harden_process() < 0) {
		log_msg(LOG_E, "cannot harden the process (not dumpable, no core): %m");
		return 1;
	}
	/* One malloc arena: a second thread would get its own, 64 MiB of address space that
	 * mlockall (below) would hold in RAM as it grows. */
	mallopt(M_ARENA_MAX, 1);
	r = skp_secmem_lock_all();
	if (r < 0) {
		log_msg(LOG_E, "cannot lock skpd's memory (mlockall: %s): KEKs and DEKs pass through all of "
			"it and must never reach swap; skpd needs CAP_IPC_LOCK or a memlock limit "
			"(LimitMEMLOCK=infinity in its systemd unit)", strerror(-r));
		return 1;
	}
	if (skp_config_load(d.config_path, &d.cfg, &err) < 0) {
		log_msg(LOG_E, "%s", err.msg);
		return 1;
	}
	for (size_t i = 0; i < d.cfg.n_warnings; i++)
		log_msg(LOG_W, "%s", d.cfg.warnings[i]);
	if (socket_override)
		snprintf(d.cfg.socket, sizeof(d.cfg.socket), "%s", socket_override);
	if (skptab_override)
		snprintf(d.cfg.skptab, sizeof(d.cfg.skptab), "%s", skptab_override);
	if (skpd_providers_setup(&d, &err) < 0) {
		log_msg(LOG_E, "%s", err.msg);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	lfd = control_listen(d.cfg.socket);
	if (lfd < 0 || sfd < 0)
		return 1;
	d.started = time(NULL);
	log_msg(LOG_I, "listening on %s, %zu provider(s), dm target %s, %s", d.cfg.socket,
		d.cfg.n_providers, d.cfg.target, skp_dm_udev_sync() ? "mappings synchronised with udev" :
		"no udev: device nodes made by skpd");
	/* Before skptab is read: a device that appears meanwhile is not missed. */
	ufd = uevent_open();
	if (ufd < 0)
		log_msg(LOG_W, "no kernel uevents (%s): skptab entries waiting for a device are retried on "
			"their backoff only", strerror(-ufd));
	skpd_persist_start(&d);
	/* The first attempt asks every provider, each bounded by its timeouts but possibly
	 * longer than systemd's start timeout with nodes that do not answer; the loop below
	 * sends the exact wait once it runs. */
	sd_notify(0, "STATUS=opening skptab devices\nEXTEND_TIMEOUT_USEC=300000000");
	boot_load(&d, boot_now());
	fstab_check(&d, fstab);
	skpd_persist_sync(&d);
	if (health_start(&d, &err) < 0) {
		log_msg(LOG_E, "%s", err.msg);
		return 1;
	}
	d.last_health = d.last_remediation = time(NULL);
	health_request_probe(&d);

	while (running) {
		struct pollfd p[4] = {{.fd = lfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN},
				      {.fd = health_fd(&d), .events = POLLIN}, {.fd = ufd, .events = POLLIN}};
		time_t now = time(NULL), next;
		double mono = boot_now(), retry, retry_s, wait_s = 0;
		int timeout, rk_ms;

		/* READY once every skptab entry without nofail is open or has waited its timeout
		 * (crypttab's semantics); until then systemd hears why, and that we are alive. */
		if (!ready) {
			ready = boot_ready(&d, mono, status, sizeof(status), &wait_s);
			if (ready) {
				sd_notify(0, "READY=1\nSTATUS=skptab processed");
			} else if (strcmp(status, sent) || mono >= last_status + 10) {
				sd_notifyf(0, "STATUS=%s\nEXTEND_TIMEOUT_USEC=%llu", status,
					   (unsigned long long)((wait_s + 30) * 1e6));
				snprintf(sent, sizeof(sent), "%s", status);
				last_status = mono;
			}
		}
		next = d.last_health + d.cfg.health_interval;
		if (d.last_remediation + d.cfg.remediation_interval < next)
			next = d.last_remediation + d.cfg.remediation_interval;
		timeout = next > now ? (int)(next - now) * 1000 : 0;
		rk_ms = rekey_next_ms(&d);
		if (rk_ms >= 0 && rk_ms < timeout)
			timeout = rk_ms;
		retry = boot_next(&d);
		if (retry >= 0 && (retry - mono) * 1000 < timeout)
			timeout = retry > mono ? (int)((retry - mono) * 1000) + 1 : 0;
		/* A timeout passing changes READY: look again within a second. */
		if (!ready && timeout > 1000)
			timeout = 1000;
		if (poll(p, 4, timeout) < 0 && errno != EINTR)
			break;
		if (p[3].revents & POLLIN && uevent_drain(ufd))
			boot_kick_devices(&d, boot_now());
		if (p[2].revents & POLLIN) {
			health_collect(&d);
			boot_kick_providers(&d, boot_now());
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					struct sbuf out = {0};

					skp_err_clear(&err);
					if (control_reload(&d, &out, &err) < 0)
						log_msg(LOG_E, "reload: %s (old configuration kept)", err.msg);
					sb_free(&out);
				} else {
					running = 0;
					stop_signal = (int)si.ssi_signo;
				}
			}
		}
		if (p[0].revents & POLLIN) {
			control_serve(&d, lfd);
			skpd_persist_sync(&d);	/* key_persistence follows open/close/rekey */
		}
		/* A retry asks the KMS and may wait for a slow node: systemd hears how long first. */
		if (!ready && (retry_s = boot_retry_max_s(&d, boot_now())) > 0)
			sd_notifyf(0, "EXTEND_TIMEOUT_USEC=%llu", (unsigned long long)((retry_s + 30) * 1e6));
		if (boot_retry(&d, boot_now()) > 0)
			skpd_persist_sync(&d);
		rekey_tick(&d);
		now = time(NULL);
		/* Asked, not waited for: the worker's answers come through health_fd. */
		if (now >= d.last_health + d.cfg.health_interval) {
			d.last_health = now;
			health_request_probe(&d);
		}
		if (now >= d.last_remediation + d.cfg.remediation_interval) {
			d.last_remediation = now;
			health_request_remediation(&d);
		}
	}
	sd_notify(0, "STOPPING=1");
	if (stop_signal == SIGTERM && manager_system_stopping())
		manager_close_unused(&d);
	else
		log_msg(LOG_I, "stopping; open devices stay open (their keys are in the kernel)");
	unlink(d.cfg.socket);
	/* Devices stay mapped, but their rekey state goes: a paused or running deep rekey holds
	 * both DEKs in secmem, wiped here (the next skpd resumes from the disk's records). */
	/* A probe in flight must end before exit() tears OpenSSL down under it. */
	worker_left = health_stop(&d, HEALTH_STOP_WAIT_MS) < 0;
	if (worker_left)
		log_msg(LOG_W, "a health check is still waiting for its KMS node: not waiting longer");
	for (size_t i = 0; i < d.n_devs; i++)
		rekey_free(&d.devs[i]);
	free(d.devs);
	boot_free(&d);
	kek_cache_free(&d);
	skpd_persist_stop();
	skpd_providers_free(&d);
	skp_config_free(&d.cfg);
	test_stop("exit");
	if (worker_left) {
		/* Nothing of ours is left to flush but stdio; exit()'s handlers are skipped. */
		fflush(NULL);
		_exit(0);
	}
	return 0;
}
