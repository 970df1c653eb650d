// SPDX-License-Identifier: GPL-2.0
/* Foreign signatures through libblkid, as wipefs(8) and cryptsetup find and erase them. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <blkid/blkid.h>

#include "io.h"
#include "probe.h"

/* Bounds against a prober that keeps answering: far more than any real device holds. */
#define MAX_FINDS	256
#define MAX_PASSES	8

/* Every chain that names what a device holds, with the magic string and its offset. */
static blkid_probe new_probe(int fd, struct skp_err *err)
{
	blkid_probe pr = blkid_new_probe();

	if (!pr) {
		skp_err_set(err, -ENOMEM, "out of memory for libblkid");
		return NULL;
	}
	if (blkid_probe_set_device(pr, fd, 0, 0)) {
		blkid_free_probe(pr);
		skp_err_set(err, -EIO, "libblkid cannot probe the device");
		return NULL;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE |
					  BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID | BLKID_SUBLKS_BADCSUM);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);
	return pr;
}

static void value(blkid_probe pr, const char *name, char *out, size_t size)
{
	const char *v = NULL;

	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		skp_str_escape(out, size, v, strlen(v));
}

/* The signature blkid_do_probe just found: 1, or 0 if it names none (a chain without one). */
static int take_sig(blkid_probe pr, struct skp_sig *s)
{
	const char *off = NULL;
	size_t len = 0;
	int pt;

	memset(s, 0, sizeof(*s));
	/* Each chain's values are reset when it probes: TYPE is a superblock's, PTTYPE a table's. */
	if (blkid_probe_has_value(pr, "TYPE"))
		pt = 0;
	else if (blkid_probe_has_value(pr, "PTTYPE"))
		pt = 1;
	else
		return 0;
	value(pr, pt ? "PTTYPE" : "TYPE", s->type, sizeof(s->type));
	if (pt) {
		snprintf(s->usage, sizeof(s->usage), "partition table");
		value(pr, "PTUUID", s->uuid, sizeof(s->uuid));
	} else {
		value(pr, "USAGE", s->usage, sizeof(s->usage));
		value(pr, "LABEL", s->label, sizeof(s->label));
		value(pr, "UUID", s->uuid, sizeof(s->uuid));
	}
	if (blkid_probe_lookup_value(pr, pt ? "PTMAGIC_OFFSET" : "SBMAGIC_OFFSET", &off, NULL) == 0 && off &&
	    blkid_probe_lookup_value(pr, pt ? "PTMAGIC" : "SBMAGIC", NULL, &len) == 0) {
		errno = 0;
		s->offset = strtoull(off, NULL, 10);
		s->len = errno ? 0 : (uint32_t)len;
	}
	return 1;
}

static void add(struct skp_sigs *l, const struct skp_sig *s)
{
	if (l->n < SKP_SIGS_MAX)
		l->sig[l->n++] = *s;
	else
		l->more = 1;
}

static int probe_failed(struct skp_err *err)
{
	int r = errno > 0 ? -errno : -EIO;

	return skp_err_set(err, r, "probing for signatures: %s", strerror(-r));
}

int skp_probe_sigs(int fd, struct skp_sigs *ret, struct skp_err *err)
{
	blkid_probe pr;
	int r, finds = 0;

	memset(ret, 0, sizeof(*ret));
	pr = new_probe(fd, err);
	if (!pr)
		return err ? err->code : -ENOMEM;
	errno = 0;
	while ((r = blkid_do_probe(pr)) == 0) {
		struct skp_sig s;

		if (++finds > MAX_FINDS) {
			blkid_free_probe(pr);
			return skp_err_set(err, -ELOOP, "libblkid keeps finding signatures");
		}
		if (!take_sig(pr, &s))
			continue;
		add(ret, &s);
		/* Hide this magic string in the probe's buffers and run its prober again: it may
		 * find another copy (wipefs does the same to list what -a would erase). */
		if (s.len && blkid_probe_hide_range(pr, s.offset, s.len) == 0)
			blkid_probe_step_back(pr);
		errno = 0;
	}
	if (r < 0)
		r = probe_failed(err);
	blkid_free_probe(pr);
	return r < 0 ? r : 0;
}

int skp_probe_sigs_dev(const char *path, struct skp_sigs *ret, struct skp_err *err)
{
	uint64_t size;
	int fd = skp_dev_open(path, O_RDONLY, &size, err), r;

	if (fd < 0)
		return fd;
	r = skp_probe_sigs(fd, ret, err);
	close(fd);
	return r < 0 ? skp_err_wrap(err, "%s", path) : 0;
}

/* One pass: every signature found is erased as soon as it is found; *ret_n how many. */
static int wipe_pass(blkid_probe pr, struct skp_sigs *wiped, int *ret_n, int *ret_pt, struct skp_err *err)
{
	int r;

	*ret_n = 0;
	errno = 0;
	while ((r = blkid_do_probe(pr)) == 0) {
		struct skp_sig s;

		if (!take_sig(pr, &s))
			continue;
		if (!s.len)
			return skp_err_set(err, -EOPNOTSUPP, "%s at 0x%" PRIx64 ": libblkid gives no magic string "
					   "to erase", s.type, s.offset);
		if (++*ret_n > MAX_FINDS)
			return skp_err_set(err, -ELOOP, "libblkid keeps finding signatures");
		/* Zeroes the magic string, then steps back: the same prober runs again. */
		errno = 0;
		if (blkid_do_wipe(pr, 0)) {
			r = errno > 0 ? -errno : -EIO;
			return skp_err_set(err, r, "erasing %s at 0x%" PRIx64 ": %s", s.type, s.offset, strerror(-r));
		}
		add(wiped, &s);
		if (!strcmp(s.usage, "partition table"))
			*ret_pt = 1;
		errno = 0;
	}
	return r < 0 ? probe_failed(err) : 0;
}

int skp_probe_wipe(int fd, struct skp_sigs *ret_wiped, struct skp_err *err)
{
	struct skp_sigs found, local;
	struct stat st;
	blkid_probe pr;
	int r, n, pass, pt = 0, whole;

	if (!ret_wiped)
		ret_wiped = &local;
	memset(ret_wiped, 0, sizeof(*ret_wiped));
	r = skp_probe_sigs(fd, &found, err);
	if (r < 0)
		return r;
	/* All or nothing where it can be known in advance. */
	for (unsigned int i = 0; i < found.n; i++)
		if (!found.sig[i].len)
			return skp_err_set(err, -EOPNOTSUPP, "%s at 0x%" PRIx64 ": libblkid gives no magic string to "
					   "erase; nothing wiped", found.sig[i].type, found.sig[i].offset);
	/* Until a whole pass finds nothing: a wipe can uncover what a chain passed before. */
	for (pass = 0;; pass++) {
		if (pass == MAX_PASSES)
			return skp_err_set(err, -EIO, "signatures still found after %d passes of wiping", pass);
		pr = new_probe(fd, err);
		if (!pr)
			return err ? err->code : -ENOMEM;
		whole = blkid_probe_is_wholedisk(pr);
		r = wipe_pass(pr, ret_wiped, &n, &pt, err);
		blkid_free_probe(pr);
		if (r < 0)
			return r;
		if (!n)
			break;
	}
	if (ret_wiped->n && fsync(fd))
		return skp_err_set(err, -errno, "flushing the wiped device: %s", strerror(errno));
	/* As wipefs: the kernel drops the partitions of a table that is gone.  EINVAL: the
	 * device takes no partitions (a loop device without partscan). */
	if (pt && whole && fstat(fd, &st) == 0 && S_ISBLK(st.st_mode) && ioctl(fd, BLKRRPART) &&
	    errno != EINVAL)
		ret_wiped->rrpart = -errno;
	return 0;
}

char *skp_sigs_describe(const struct skp_sigs *s, unsigned int flags, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < s->n; i++) {
		const struct skp_sig *g = &s->sig[i];
		char one[320], at[32] = "";
		int dup = 0, n;

		for (unsigned int j = 0; j < i && !(flags & SKP_SIGS_OFFSETS); j++)
			dup |= !strcmp(g->type, s->sig[j].type) && !strcmp(g->label, s->sig[j].label) &&
			       !strcmp(g->uuid, s->sig[j].uuid);
		if (dup)
			continue;
		if (flags & SKP_SIGS_OFFSETS)
			snprintf(at, sizeof(at), " at 0x%" PRIx64, g->offset);
		if (g->label[0] && g->uuid[0])
			n = snprintf(one, sizeof(one), "%s%s%s (label \"%s\", UUID %s)", o ? ", " : "", g->type, at,
				     g->label, g->uuid);
		else if (g->label[0] || g->uuid[0])
			n = snprintf(one, sizeof(one), "%s%s%s (%s %s%s%s)", o ? ", " : "", g->type, at,
				     g->label[0] ? "label" : "UUID", g->label[0] ? "\"" : "",
				     g->label[0] ? g->label : g->uuid, g->label[0] ? "\"" : "");
		else
			n = snprintf(one, sizeof(one), "%s%s%s", o ? ", " : "", g->type, at);
		if (n < 0 || o + (size_t)n + 6 >= size) {
			snprintf(buf + o, size - o, "%s...", o ? ", " : "");
			return buf;
		}
		memcpy(buf + o, one, (size_t)n + 1);
		o += (size_t)n;
	}
	if (s->more && o + 6 < size)
		snprintf(buf + o, size - o, ", ...");
	return buf;
}
