// SPDX-License-Identifier: GPL-2.0
/* skpctl dump / header backup / header restore: work on the device directly (no skpd). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "cli.h"
#include "cmds.h"
#include "header.h"
#include "io.h"
#include "show.h"
#include "skpctl.h"

/* The device open, or -1 with the message printed and *rc its exit code. */
static int dev_open(const char *path, int flags, uint64_t *size, int *rc)
{
	struct skp_err err = {0};
	int fd = skp_dev_open(path, flags, size, &err);

	if (fd < 0) {
		fprintf(stderr, "skpctl: %s\n", err.msg);
		*rc = skpctl_exit_code((unsigned int)err.cls);
		return -1;
	}
	return fd;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

/*
 * A udev property value as blkid writes it: _ENC escapes every byte outside udev's safe
 * set as \xNN; the plain one replaces it with '_'.  Nothing read from the disk can then
 * end the line and add a property of its own.
 */
static void udev_value(const char *s, char *out, size_t size, int enc)
{
	size_t o = 0;

	for (; *s && o + 5 < size; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strchr("#+-.:=@_", c))
			out[o++] = (char)c;
		else if (enc)
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
		else
			out[o++] = '_';
	}
	out[o] = '\0';
}

/* What udev imports (60-skp.rules): blkid's properties for a format it does not know. */
static void dump_udev(const struct skp_header *h)
{
	char u[37], l[SKP_LABEL_MAX], le[4 * SKP_LABEL_MAX + 1];

	skp_uuid_format(h->uuid, u);
	printf("ID_FS_TYPE=skp\nID_FS_USAGE=crypto\nID_FS_UUID=%s\nID_FS_UUID_ENC=%s\nID_FS_VERSION=%u.%u\n",
	       u, u, h->version_major, h->version_minor);
	if (h->label[0]) {
		udev_value(h->label, l, sizeof(l), 0);
		udev_value(h->label, le, sizeof(le), 1);
		printf("ID_FS_LABEL=%s\nID_FS_LABEL_ENC=%s\n", l, le);
	}
}

static void dump_json(const char *dev, const struct skp_header *h, const struct skp_header_info *info)
{
	char u[37], mac[2 * SKP_MAC_LEN + 1];

	skp_uuid_format(h->uuid, u);
	printf("{\"device\":");
	show_json_str(stdout, dev);
	printf(",\"format\":\"%u.%u\",\"uuid\":\"%s\",\"label\":", h->version_major, h->version_minor, u);
	show_json_str(stdout, h->label);
	printf(",\"cipher\":");
	show_json_str(stdout, h->cipher);
	printf(",\"sector_size\":%u,\"data_offset\":%llu,\"data_length\":%llu,\"resilience_offset\":%llu,"
	       "\"resilience_size\":%llu,\"sequence\":%llu,\"copy_in_use\":\"%c\",\"copies\":[",
	       h->sector_size, (unsigned long long)h->data_offset, (unsigned long long)h->data_length,
	       (unsigned long long)h->resil_offset, (unsigned long long)h->resil_size, (unsigned long long)h->seq,
	       'A' + info->used);
	for (int i = 0; i < 2; i++) {
		printf("%s{\"copy\":\"%c\",\"valid\":%s,\"error\":", i ? "," : "", 'A' + i,
		       info->copy_ok[i] ? "true" : "false");
		if (info->copy_ok[i])
			printf("null}");
		else
			show_json_str(stdout, info->copy_err[i]), printf("}");
	}
	printf("],\"slots\":[");
	for (int i = 0; i < SKP_SLOTS; i++) {
		const struct skp_slot *s = &h->slot[i];

		printf("%s{\"slot\":%d,\"state\":\"%s\"", i ? "," : "", i,
		       s->state == SKP_SLOT_EMPTY ? "empty" : s->state == SKP_SLOT_ACTIVE ? "active" : "new");
		if (s->state != SKP_SLOT_EMPTY) {
			hex(s->mac, SKP_MAC_LEN, mac);
			printf(",\"dek_generation\":%llu,\"provider\":", (unsigned long long)s->generation);
			show_json_str(stdout, s->provider);
			printf(",\"kek_uid\":");
			show_json_str(stdout, s->kek_uid);
			printf(",\"kek_name\":");
			show_json_str(stdout, s->kek_name);
			printf(",\"wrapped_dek_bytes\":%u,\"header_mac\":\"%s\"", s->wrapped_len, mac);
		}
		printf("}");
	}
	printf("]}\n");
}

int skpctl_cmd_dump(const struct cli *c)
{
	struct skp_header h;
	struct skp_header_info info;
	struct skp_err err = {0};
	uint64_t size = 0;
	char u[37], mac[2 * SKP_MAC_LEN + 1];
	const char *dev = c->args[0];
	int fd, r, rc, udev = cli_has(c, OPT_UDEV);

	if (udev && cli_has(c, OPT_JSON)) {
		fprintf(stderr, "skpctl: dump: --udev or --json, not both\n");
		return SKPCTL_EXIT_USAGE;
	}
	fd = dev_open(dev, O_RDONLY, &size, &rc);
	if (fd < 0)
		return rc;
	r = skp_header_read(fd, size, &h, &info, &err);
	close(fd);
	/* udev asks about every block device: one without skp's magic is not worth a word. */
	if (r == -ENODATA && udev)
		return SKPCTL_EXIT_NO_DEVICE;
	if (r < 0) {
		fprintf(stderr, "skpctl: %s: %s\n", dev, err.msg);
		return skpctl_exit_code((unsigned int)err.cls);
	}
	if (udev) {
		dump_udev(&h);
		return SKPCTL_EXIT_OK;
	}
	if (cli_has(c, OPT_JSON)) {
		dump_json(dev, &h, &info);
		return SKPCTL_EXIT_OK;
	}
	skp_uuid_format(h.uuid, u);
	printf("device:        %s\n", dev);
	printf("format:        %u.%u\n", h.version_major, h.version_minor);
	printf("uuid:          %s\n", u);
	printf("label:         %s\n", h.label);
	printf("cipher:        %s\n", h.cipher);
	printf("sector size:   %u\n", h.sector_size);
	printf("data offset:   %llu\n", (unsigned long long)h.data_offset);
	printf("data length:   %llu\n", (unsigned long long)h.data_length);
	printf("resilience:    %llu + %llu\n", (unsigned long long)h.resil_offset, (unsigned long long)h.resil_size);
	printf("sequence:      %llu (copy %c in use)\n", (unsigned long long)h.seq, 'A' + info.used);
	for (int i = 0; i < 2; i++)
		printf("copy %c:        %s%s\n", 'A' + i, info.copy_ok[i] ? "valid" : "INVALID: ",
		       info.copy_ok[i] ? "" : info.copy_err[i]);
	for (int i = 0; i < SKP_SLOTS; i++) {
		const struct skp_slot *s = &h.slot[i];

		if (s->state == SKP_SLOT_EMPTY) {
			printf("slot %d:        empty\n", i);
			continue;
		}
		hex(s->mac, SKP_MAC_LEN, mac);
		printf("slot %d:        %s\n", i, s->state == SKP_SLOT_ACTIVE ? "active" : "new");
		printf("  generation:  %llu\n", (unsigned long long)s->generation);
		printf("  provider:    %s\n", s->provider);
		printf("  kek uid:     %s\n", s->kek_uid);
		printf("  kek name:    %s\n", s->kek_name);
		printf("  wrapped DEK: %u bytes (RFC 5649, not shown)\n", s->wrapped_len);
		printf("  header MAC:  %s\n", mac);
	}
	return SKPCTL_EXIT_OK;
}

static int backup(const char *dev, const char *file)
{
	unsigned char *area = calloc(1, SKP_HDR_AREA_SIZE);
	struct skp_header h;
	struct skp_err err = {0};
	uint64_t size = 0;
	int fd, out, rc = SKPCTL_EXIT_FAIL;

	fd = dev_open(dev, O_RDONLY, &size, &rc);
	if (fd < 0 || !area)
		goto done;
	if (skp_pread_full(fd, area, SKP_HDR_AREA_SIZE, 0) < 0) {
		fprintf(stderr, "skpctl: %s: cannot read the header area\n", dev);
		goto done;
	}
	if (skp_header_check_area(area, SKP_HDR_AREA_SIZE, size, &h, &err) < 0) {
		fprintf(stderr, "skpctl: %s: %s\n", dev, err.msg);
		goto done;
	}
	out = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		fprintf(stderr, "skpctl: %s: %s\n", file, strerror(errno));
		goto done;
	}
	if (skp_pwrite_full(out, area, SKP_HDR_AREA_SIZE, 0) < 0 || fsync(out) < 0) {
		fprintf(stderr, "skpctl: %s: write failed\n", file);
		close(out);
		unlink(file);
		goto done;
	}
	close(out);
	printf("header of %s saved to %s (%u bytes; holds wrapped keys only)\n", dev, file, SKP_HDR_AREA_SIZE);
	rc = SKPCTL_EXIT_OK;
done:
	if (fd >= 0)
		close(fd);
	free(area);
	return rc;
}

static int restore(const char *dev, const char *file, int force)
{
	unsigned char *area = calloc(1, SKP_HDR_AREA_SIZE);
	struct skp_header h, cur;
	struct skp_err err = {0};
	struct stat st;
	uint64_t size = 0;
	char u[37];
	int fd = -1, in, r, rc = SKPCTL_EXIT_FAIL;

	in = open(file, O_RDONLY | O_CLOEXEC);
	if (in < 0 || !area) {
		fprintf(stderr, "skpctl: %s: %s\n", file, strerror(errno));
		goto done;
	}
	if (fstat(in, &st) < 0 || st.st_size != SKP_HDR_AREA_SIZE ||
	    skp_pread_full(in, area, SKP_HDR_AREA_SIZE, 0) < 0) {
		close(in);
		fprintf(stderr, "skpctl: %s: not a header backup (%u bytes expected)\n", file, SKP_HDR_AREA_SIZE);
		goto done;
	}
	close(in);
	/* O_EXCL: never rewrite the header under an open mapping. */
	fd = dev_open(dev, O_RDWR | O_EXCL, &size, &rc);
	if (fd < 0)
		goto done;
	if (skp_header_check_area(area, SKP_HDR_AREA_SIZE, size, &h, &err) < 0) {
		fprintf(stderr, "skpctl: %s: %s; device untouched\n", file, err.msg);
		goto done;
	}
	skp_uuid_format(h.uuid, u);
	/*
	 * A backup of another device would make this one's data unreadable; an older backup
	 * of this one would roll back a rekey (one taken mid-rekey names records that a
	 * finished rekey erased).  A header that cannot be read is what restore is for.
	 */
	if (skp_header_read(fd, size, &cur, NULL, NULL) == 0 && (r = skp_header_restore_check(&h, &cur, &err)) < 0) {
		if (r != -ESTALE) {
			fprintf(stderr, "skpctl: %s: %s; device untouched\n", dev, err.msg);
			goto done;
		}
		if (!force) {
			fprintf(stderr, "skpctl: %s: %s; device untouched (--force restores it anyway, if the data "
				"is known to be under the backup's keys)\n", dev, err.msg);
			goto done;
		}
		fprintf(stderr, "skpctl: warning: %s: %s; restoring it (--force)\n", dev, err.msg);
		openlog("skpctl", LOG_PID, LOG_AUTHPRIV);
		syslog(LOG_WARNING, "header restore --force on %s (UUID %s) from %s: %s", dev, u, file, err.msg);
		closelog();
	}
	if (skp_pwrite_full(fd, area, SKP_HDR_AREA_SIZE, 0) < 0 || fdatasync(fd) < 0) {
		fprintf(stderr, "skpctl: %s: write failed: %s\n", dev, strerror(errno));
		goto done;
	}
	printf("header of %s restored from %s (UUID %s)\n", dev, file, u);
	rc = SKPCTL_EXIT_OK;
done:
	if (fd >= 0)
		close(fd);
	free(area);
	return rc;
}

int skpctl_cmd_header_backup(const struct cli *c)
{
	return backup(c->args[0], c->args[1]);
}

int skpctl_cmd_header_restore(const struct cli *c)
{
	return restore(c->args[0], c->args[1], cli_has(c, OPT_FORCE));
}
