// SPDX-License-Identifier: GPL-2.0
/*
 * Mappings outlive skpd: a restart (upgrade, `systemctl restart`) must leave them and the
 * filesystems on them alone.  At system shutdown they are closed instead, after systemd
 * unmounted them (skpd is ordered before remote-fs-pre.target, so it stops after the
 * _netdev mounts), as systemd-cryptsetup's units close their volumes.  The two look the
 * same to skpd (SIGTERM), so it asks the manager for its state on its private socket,
 * which answers while D-Bus itself may already be gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "ops.h"
#include "sbuf.h"
#include "shutdown.h"
#include "skpd.h"

int shutdown_system_stopping(void)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	char *state = NULL;
	int r, stopping = 0;

	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
					       "org.freedesktop.systemd1.Manager", "SystemState", &e, &state);
	if (r >= 0)
		stopping = !strcmp(state, "stopping");
	else if (r != -ENOENT)	/* no systemd: nothing to ask */
		log_msg(LOG_W, "cannot ask systemd whether the system is stopping (%s): mappings left open",
			e.message ? e.message : strerror(-r));
	free(state);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return stopping;
}

void shutdown_close_unused(struct skpd *d)
{
	int closed = 0, left = 0;

	/* op_close removes entries from d->devs: walk from the end. */
	for (size_t i = d->n_devs; i-- > 0;) {
		struct skp_err err = {0};
		struct sbuf out = {0};
		char name[sizeof(d->devs[i].name)];

		snprintf(name, sizeof(name), "%s", d->devs[i].name);
		if (op_close(d, name, &out, &err) < 0) {
			log_msg(LOG_W, "system shutdown: %s left open: %s", name, err.msg);
			left++;
		} else {
			closed++;
		}
		sb_free(&out);
	}
	log_msg(LOG_I, "system shutdown: %d mapping(s) closed, %d left open", closed, left);
}
