// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libdevmapper.h>

#include "dm.h"

/* libdevmapper prints by default; the library never prints, so keep its last error. */
static __thread char dm_last[200];

static void dm_log(int level, const char *file, int line, int dm_errno_or_class,
		   const char *f, ...) __attribute__((format(printf, 5, 6)));
static void dm_log(int level, const char *file, int line, int dm_errno_or_class,
		   const char *f, ...)
{
	va_list ap;

	(void)file; (void)line; (void)dm_errno_or_class;
	if ((level & 7) > 3)	/* _LOG_ERR and worse only */
		return;
	va_start(ap, f);
	vsnprintf(dm_last, sizeof(dm_last), f, ap);
	va_end(ap);
}

/* 1 when each create, resume and remove waits for udev to have handled it. */
static int udev_sync;

/* The rule that releases the cookie's semaphore once udev has handled a dm event: without
 * it dm_udev_wait would never return. */
static int dm_notify_rule(void)
{
	static const char *const p[] = {"/etc/udev/rules.d/95-dm-notify.rules",
					"/lib/udev/rules.d/95-dm-notify.rules",
					"/usr/lib/udev/rules.d/95-dm-notify.rules"};

	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (access(p[i], F_OK) == 0)
			return 1;
	return 0;
}

static void dm_setup(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	dm_log_with_errno_init(dm_log);
	/*
	 * With udev running, its rules make /dev/mapper/NAME and the by-* links (blkid of what
	 * the mapping holds), and each change waits for them: when skpd says a device is
	 * open, it can be mounted by any of its names.  libdevmapper says whether udev is
	 * running.  Without udev (an initramfs without it, the test VM) the library makes
	 * the nodes itself, as before.
	 */
	dm_udev_set_sync_support(1);
	udev_sync = dm_udev_get_sync_support() && dm_notify_rule();
	if (!udev_sync) {
		dm_udev_set_sync_support(0);
		dm_udev_set_checking(0);
	}
}

/* Before dm_task_run of a task that makes uevents (create, resume, remove). */
static int cookie_set(struct dm_task *dmt, uint32_t *cookie, struct skp_err *err)
{
	*cookie = 0;
	if (!udev_sync)
		return 0;
	/* udev makes the nodes: the library must not race it with its own. */
	if (!dm_task_set_cookie(dmt, cookie, DM_UDEV_DISABLE_LIBRARY_FALLBACK))
		return skp_err_set(err, -EIO, "device-mapper: cannot set a udev cookie: %s",
				   dm_last[0] ? dm_last : "semaphore limit?");
	return 0;
}

/* After dm_task_run, whether it worked or not (a failed task releases its cookie itself,
 * and the wait then only removes the semaphore): waits for udev, or makes the nodes. */
static void nodes_done(uint32_t cookie)
{
	if (udev_sync)
		dm_udev_wait(cookie);
	else
		dm_task_update_nodes();
}

int skp_dm_udev_sync(void)
{
	dm_setup();
	return udev_sync;
}

static int dm_fail(struct skp_err *err, const char *what, const char *name)
{
	int code = -EIO;

	if (strstr(dm_last, "No such device") || strstr(dm_last, "not exist"))
		code = -ENODEV;
	else if (strstr(dm_last, "File exists") || strstr(dm_last, "already exists"))
		code = -EEXIST;
	else if (strstr(dm_last, "busy"))
		code = -EBUSY;
	return skp_err_set(err, code, "device-mapper %s of %s failed: %s", what, name,
			   dm_last[0] ? dm_last : "unknown error");
}

static struct dm_task *task(int type, const char *name, struct skp_err *err)
{
	struct dm_task *dmt;

	dm_setup();
	dm_last[0] = '\0';
	dmt = dm_task_create(type);
	if (!dmt) {
		skp_err_set(err, -ENOMEM, "device-mapper: cannot create task");
		return NULL;
	}
	if (!dm_task_set_name(dmt, name)) {
		dm_task_destroy(dmt);
		skp_err_set(err, -EINVAL, "device-mapper: bad mapping name");
		return NULL;
	}
	return dmt;
}

static int add_table(struct dm_task *dmt, const struct skp_dm_table *t, struct skp_err *err)
{
	struct skp_dm_table rt = *t;
	char params[512], devno[32], shown[SKP_DM_NAME_MAX];
	struct stat st;
	int r;

	/* The kernel takes major:minor as well as a path, and a path may hold a space or a
	 * control character that would split the table line. */
	skp_str_escape(shown, sizeof(shown), t->dev, strlen(t->dev));
	if (stat(t->dev, &st) < 0)
		return skp_err_set(err, -errno, "%s: %s", shown, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return skp_err_set(err, -ENOTBLK, "%s is not a block device", shown);
	snprintf(devno, sizeof(devno), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	rt.dev = devno;
	r = skp_target_params(&rt, params, sizeof(params));
	if (r == -EINVAL)
		return skp_err_set(err, r, "device-mapper table: a key description has a space or a control character");
	if (r < 0)
		return skp_err_set(err, -ENAMETOOLONG, "device-mapper table line too long");
	if (!dm_task_add_target(dmt, 0, rt.len_sectors, rt.target, params))
		return skp_err_set(err, -ENOMEM, "device-mapper: cannot add target");
	return 0;
}

int skp_dm_create(const char *name, const char *dm_uuid, const struct skp_dm_table *t,
		  struct skp_err *err)
{
	struct dm_task *dmt = task(DM_DEVICE_CREATE, name, err);
	uint32_t cookie = 0;
	int r;

	if (!dmt)
		return err ? err->code : -ENOMEM;
	r = add_table(dmt, t, err);
	if (r == 0 && dm_uuid && !dm_task_set_uuid(dmt, dm_uuid))
		r = skp_err_set(err, -EINVAL, "device-mapper: bad uuid");
	if (r == 0 && t->read_only && !dm_task_set_ro(dmt))
		r = skp_err_set(err, -ENOMEM, "device-mapper: cannot set read-only");
	if (r == 0)
		r = cookie_set(dmt, &cookie, err);
	if (r == 0) {
		dm_task_set_add_node(dmt, DM_ADD_NODE_ON_CREATE);
		if (!dm_task_run(dmt))
			r = dm_fail(err, "create", name);
		nodes_done(cookie);
	}
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_remove(const char *name, struct skp_err *err)
{
	struct dm_task *dmt = task(DM_DEVICE_REMOVE, name, err);
	uint32_t cookie = 0;
	int r;

	if (!dmt)
		return err ? err->code : -ENOMEM;
	r = cookie_set(dmt, &cookie, err);
	if (r == 0) {
		if (!dm_task_run(dmt))
			r = dm_fail(err, "remove", name);
		nodes_done(cookie);
	}
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_info(const char *name, struct skp_dm_info *ret, struct skp_err *err)
{
	struct dm_task *dmt = task(DM_DEVICE_INFO, name, err);
	struct dm_info info;
	const char *uuid;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	if (!dmt)
		return err ? err->code : -ENOMEM;
	if (!dm_task_run(dmt) || !dm_task_get_info(dmt, &info)) {
		r = dm_fail(err, "info", name);
	} else if (info.exists) {
		ret->exists = 1;
		ret->suspended = info.suspended;
		ret->open_count = (uint32_t)info.open_count;
		ret->major = info.major;
		ret->minor = info.minor;
		uuid = dm_task_get_uuid(dmt);
		snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid ? uuid : "");
	}
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_status(const char *name, int table, char *type, size_t type_size,
		  char *params, size_t params_size, struct skp_err *err)
{
	struct dm_task *dmt = task(table ? DM_DEVICE_TABLE : DM_DEVICE_STATUS, name, err);
	uint64_t start, len;
	char *ttype = NULL, *p = NULL;
	int r = 0;

	if (!dmt)
		return err ? err->code : -ENOMEM;
	if (!dm_task_run(dmt)) {
		r = dm_fail(err, table ? "table" : "status", name);
	} else {
		dm_get_next_target(dmt, NULL, &start, &len, &ttype, &p);
		if (!ttype)
			r = skp_err_set(err, -ENXIO, "mapping %s has no table", name);
		else {
			snprintf(type, type_size, "%s", ttype);
			snprintf(params, params_size, "%s", p ? p : "");
		}
	}
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_message(const char *name, const char *msg, char *resp, size_t resp_size,
		   struct skp_err *err)
{
	struct dm_task *dmt = task(DM_DEVICE_TARGET_MSG, name, err);
	const char *out;
	int r = 0;

	if (!dmt)
		return err ? err->code : -ENOMEM;
	if (!dm_task_set_sector(dmt, 0) || !dm_task_set_message(dmt, msg))
		r = skp_err_set(err, -ENOMEM, "device-mapper: cannot build message");
	else if (!dm_task_run(dmt))
		r = dm_fail(err, "message", name);
	else if (resp && resp_size) {
		out = dm_task_get_message_response(dmt);
		snprintf(resp, resp_size, "%s", out ? out : "");
	}
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_reload(const char *name, const struct skp_dm_table *t, struct skp_err *err)
{
	struct dm_task *dmt = task(DM_DEVICE_RELOAD, name, err);
	int r;

	if (!dmt)
		return err ? err->code : -ENOMEM;
	r = add_table(dmt, t, err);
	if (r == 0 && !dm_task_run(dmt))
		r = dm_fail(err, "reload", name);
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_suspend(const char *name, int suspend, struct skp_err *err)
{
	struct dm_task *dmt = task(suspend ? DM_DEVICE_SUSPEND : DM_DEVICE_RESUME, name, err);
	uint32_t cookie = 0;
	int r = 0;

	if (!dmt)
		return err ? err->code : -ENOMEM;
	/* A resume makes a change event (udev runs blkid again); a suspend makes none. */
	if (!suspend)
		r = cookie_set(dmt, &cookie, err);
	if (r == 0) {
		if (!dm_task_run(dmt))
			r = dm_fail(err, suspend ? "suspend" : "resume", name);
		if (suspend)
			dm_task_update_nodes();
		else
			nodes_done(cookie);
	}
	dm_task_destroy(dmt);
	return r;
}

int skp_dm_target_version(const char *target, uint32_t version[3], struct skp_err *err)
{
	struct dm_task *dmt;
	struct dm_versions *v, *last;
	int r = -ENOENT;

	dm_setup();
	dm_last[0] = '\0';
	dmt = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	if (!dmt)
		return skp_err_set(err, -ENOMEM, "device-mapper: cannot create task");
	if (!dm_task_run(dmt)) {
		r = dm_fail(err, "version list", "the kernel");
		goto out;
	}
	v = dm_task_get_versions(dmt);
	do {
		last = v;
		if (!strcmp(v->name, target)) {
			memcpy(version, v->version, 3 * sizeof(uint32_t));
			r = 0;
			break;
		}
		v = (struct dm_versions *)((char *)v + v->next);
	} while (last != v);
	if (r)
		skp_err_set(err, r, "device-mapper target %s is not loaded", target);
out:
	dm_task_destroy(dmt);
	return r;
}
