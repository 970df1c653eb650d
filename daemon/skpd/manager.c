// SPDX-License-Identifier: GPL-2.0
/*
 * What skpd asks of the service manager (systemd), on its private socket: it answers
 * as long as systemd runs, while D-Bus itself may be gone (shutdown) or not yet there.
 *
 * Shutdown.  Mappings outlive skpd: a restart (upgrade, `systemctl restart`) must leave
 * them alone.  At system shutdown they are closed instead, after systemd unmounted them
 * (skp-generator orders the _netdev mounts of its mappings after skpd, so skpd stops
 * after them), as
 * systemd-cryptsetup's units close their volumes.  Both arrive as SIGTERM, so skpd asks
 * the manager for its state.
 *
 * Late unlock.  An fstab mount waits for its device only until the device timeout; a
 * device that skpd unlocks later (the KMS came back, the disk appeared) would stay
 * unmounted, so skpd starts the mounts that need it and are part of the boot.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "boot.h"
#include "log.h"
#include "manager.h"
#include "ops.h"
#include "sbuf.h"
#include "skpd.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"

/* NULL and no error when systemd does not run (no private socket). */
static sd_bus *manager_bus(const char *why)
{
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		if (r != -ENOENT)
			log_msg(LOG_W, "cannot reach systemd to %s: %s", why, strerror(-r));
		sd_bus_flush_close_unref(bus);
		return NULL;
	}
	return bus;
}

int manager_system_stopping(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = manager_bus("ask whether the system is stopping (mappings left open)");
	char *state = NULL;
	int stopping = 0;

	if (!bus)
		return 0;
	if (sd_bus_get_property_string(bus, SD_DEST, SD_PATH, SD_MANAGER, "SystemState", &e, &state) >= 0)
		stopping = !strcmp(state, "stopping");
	else
		log_msg(LOG_W, "cannot ask systemd whether the system is stopping (%s): mappings left open",
			e.message ? e.message : "no answer");
	free(state);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return stopping;
}

void manager_close_unused(struct skpd *d)
{
	int closed = 0, left = 0, kept = 0;

	/* op_close removes entries from d->devs: walk from the end. */
	for (size_t i = d->n_devs; i-- > 0;) {
		struct skp_err err = {0};
		char name[sizeof(d->devs[i].name)];
		int r;

		snprintf(name, sizeof(name), "%s", d->devs[i].name);
		/* Root is still mounted (read-only at best) when skpd stops: closing it would
		 * only fail, or pull it from under systemd-shutdown.  The kernel drops the
		 * mapping at power-off, as systemd-cryptsetup leaves root's. */
		if (boot_is_initramfs(d, name)) {
			log_msg(LOG_I, "system shutdown: %s left open (skptab initramfs: the kernel drops it)",
				name);
			kept++;
			continue;
		}
		/* udev probes a device again when it is unmounted: a short busy is not a holder. */
		for (int tries = 0;; tries++) {
			struct sbuf out = {0};

			skp_err_clear(&err);
			r = op_close(d, name, &out, &err);
			sb_free(&out);
			if (r != -EBUSY || tries == 50)
				break;
			nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
		}
		if (r < 0) {
			log_msg(LOG_W, "system shutdown: %s left open: %s", name, err.msg);
			left++;
		} else {
			closed++;
		}
	}
	log_msg(LOG_I, "system shutdown: %d mapping(s) closed, %d left open", closed, left + kept);
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* The object path of a unit, loaded if need be; NULL if systemd cannot load it. */
static char *unit_path(sd_bus *bus, const char *unit)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	const char *p;
	char *ret = NULL;

	if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &e, &m, "s", unit) >= 0 &&
	    sd_bus_message_read(m, "o", &p) >= 0)
		ret = strdup(p);
	sd_bus_message_unref(m);
	sd_bus_error_free(&e);
	return ret;
}

static char **unit_strv(sd_bus *bus, const char *upath, const char *prop)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char **v = NULL;

	if (sd_bus_get_property_strv(bus, SD_DEST, upath, SD_UNIT, prop, &e, &v) < 0)
		v = NULL;
	sd_bus_error_free(&e);
	return v;
}

/* An fstab mount of the boot (not noauto): wanted or required by local-fs or remote-fs. */
static int boot_mount(sd_bus *bus, const char *upath)
{
	static const char *const props[] = {"WantedBy", "RequiredBy"};
	int found = 0;

	for (size_t k = 0; k < 2; k++) {
		char **v = unit_strv(bus, upath, props[k]);

		for (char **p = v; p && *p; p++)
			found |= !strcmp(*p, "local-fs.target") || !strcmp(*p, "remote-fs.target");
		strv_free(v);
	}
	return found;
}

static int unit_inactive(sd_bus *bus, const char *upath)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *state = NULL;
	int r = 0;

	if (sd_bus_get_property_string(bus, SD_DEST, upath, SD_UNIT, "ActiveState", &e, &state) >= 0)
		r = !strcmp(state, "inactive") || !strcmp(state, "failed");
	free(state);
	sd_bus_error_free(&e);
	return r;
}

static void start_mounts_of(sd_bus *bus, const char *name)
{
	static const char *const props[] = {"RequiredBy", "BoundBy"};
	char unit[3 * SKP_DM_NAME_MAX + 32], *dev_path;
	size_t o;

	/* The device unit's name is its escaped path: mapping names are [A-Za-z0-9._-], of
	 * which only "-" needs escaping. */
	o = (size_t)snprintf(unit, sizeof(unit), "dev-mapper-");
	for (const char *c = name; *c && o + 5 < sizeof(unit); c++)
		o += (size_t)snprintf(unit + o, sizeof(unit) - o, *c == '-' ? "\\x2d" : "%c", *c);
	snprintf(unit + o, sizeof(unit) - o, ".device");
	dev_path = unit_path(bus, unit);
	for (size_t k = 0; dev_path && k < 2; k++) {
		char **v = unit_strv(bus, dev_path, props[k]);

		for (char **p = v; p && *p; p++) {
			sd_bus_error e = SD_BUS_ERROR_NULL;
			size_t l = strlen(*p);
			char *mpath;

			if (l < 6 || strcmp(*p + l - 6, ".mount"))
				continue;
			mpath = unit_path(bus, *p);
			if (mpath && boot_mount(bus, mpath) && unit_inactive(bus, mpath)) {
				if (sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "StartUnit", &e, NULL,
						       "ss", *p, "replace") >= 0)
					log_msg(LOG_I, "%s open: started %s", name, *p);
				else
					log_msg(LOG_W, "%s open: cannot start %s: %s", name, *p,
						e.message ? e.message : "no answer");
			}
			free(mpath);
			sd_bus_error_free(&e);
		}
		strv_free(v);
	}
	free(dev_path);
}

void manager_start_mounts(const char *const *names, size_t n)
{
	sd_bus *bus;

	if (!n)
		return;
	bus = manager_bus("start the mounts of the devices it opened");
	if (!bus)
		return;
	for (size_t i = 0; i < n; i++)
		start_mounts_of(bus, names[i]);
	sd_bus_flush_close_unref(bus);
}
