// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "io.h"
#include "secmem.h"

enum io_op { IO_PREAD, IO_PWRITE, IO_SEND, IO_RECV };

/* The one transfer loop: short transfers and EINTR retried; eof is the error at EOF. */
static int io_full(enum io_op op, int fd, void *buf, size_t len, uint64_t off, int eof)
{
	size_t done = 0;

	while (done < len) {
		char *p = (char *)buf + done;
		size_t l = len - done;
		off_t o = (off_t)(off + done);
		ssize_t n;

		switch (op) {
		case IO_PREAD:
			n = pread(fd, p, l, o);
			break;
		case IO_PWRITE:
			n = pwrite(fd, p, l, o);
			break;
		case IO_SEND:
			n = send(fd, p, l, MSG_NOSIGNAL);
			break;
		default:
			n = read(fd, p, l);
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return eof;
		done += (size_t)n;
	}
	return 0;
}

int skp_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return io_full(IO_PREAD, fd, buf, len, off, -EIO);
}

int skp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return io_full(IO_PWRITE, fd, (void *)buf, len, off, -EIO);
}

int skp_send_full(int fd, const void *buf, size_t len)
{
	return io_full(IO_SEND, fd, (void *)buf, len, 0, -EPIPE);
}

int skp_recv_full(int fd, void *buf, size_t len)
{
	return io_full(IO_RECV, fd, buf, len, 0, -EPIPE);
}

int skp_dev_size(int fd, uint64_t *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISBLK(st.st_mode))
		return ioctl(fd, BLKGETSIZE64, ret) < 0 ? -errno : 0;
	if (S_ISREG(st.st_mode)) {
		*ret = (uint64_t)st.st_size;
		return 0;
	}
	return -ENOTBLK;
}

int skp_dev_open(const char *path, int flags, uint64_t *size, struct skp_err *err)
{
	int fd = open(path, flags | O_CLOEXEC), r;

	if (fd < 0) {
		int e = errno;

		if (e == EBUSY)
			return skp_err_setc(err, SKP_ERRC_BUSY, -EBUSY, "%s is in use (mounted, or open as a mapping)",
					    path);
		return skp_err_setc(err, e == ENOENT || e == ENXIO || e == ENODEV ? SKP_ERRC_NO_DEVICE : SKP_ERRC_NONE,
				    -e, "%s: %s", path, strerror(e));
	}
	r = skp_dev_size(fd, size);
	if (r < 0) {
		close(fd);
		return skp_err_set(err, r, "%s: not a block device", path);
	}
	return fd;
}

/* Owned by root or by us: anyone else could change it under skpd. */
static int owner_ok(const char *path, const struct stat *st, struct skp_err *err)
{
	uid_t me = geteuid();

	if (st->st_uid == 0 || st->st_uid == me)
		return 0;
	if (me == 0)
		return skp_err_set(err, -EPERM, "%s is owned by uid %u, not root: refusing (chown root %s)",
				   path, (unsigned int)st->st_uid, path);
	return skp_err_set(err, -EPERM, "%s is owned by uid %u, not root or skpd's uid %u: refusing "
			   "(chown it to one of them)", path, (unsigned int)st->st_uid, (unsigned int)me);
}

int skp_private_dir(const char *dir, struct skp_err *err)
{
	struct stat st;
	int r;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno != EEXIST)
		return skp_err_set(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	/* Not ours to change: a chmod would hit /run for a socket at /run/x.sock. */
	if (lstat(dir, &st) < 0)
		return skp_err_set(err, -errno, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return skp_err_set(err, -EPERM, "%s is not a directory", dir);
	r = owner_ok(dir, &st, err);
	if (r < 0)
		return r;
	if (st.st_mode & 022)
		return skp_err_set(err, -EPERM, "%s is writable by group or others (mode %04o): refusing "
				   "(give skpd a directory of its own)", dir, st.st_mode & 07777);
	return 0;
}

int skp_open_file(const char *path, enum skp_file_kind kind, struct skp_err *err)
{
	int secret = kind == SKP_FILE_SECRET;
	/* O_NONBLOCK: a FIFO put in place of the file must not hang skpd at open */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (secret ? O_NOFOLLOW : 0));
	struct stat st;
	int r;

	if (fd < 0 && errno == ELOOP && secret)
		return skp_err_set(err, -ELOOP, "%s is a symbolic link: refusing for a secret (name the file "
				   "itself)", path);
	if (fd < 0)
		return skp_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = skp_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		r = skp_err_set(err, -EINVAL, "%s is not a regular file", path);
		goto fail;
	}
	r = owner_ok(path, &st, err);
	if (r < 0)
		goto fail;
	if (secret && (st.st_mode & 077)) {
		r = skp_err_set(err, -EPERM, "%s is %s by group or others (mode %04o): refusing (chmod 600 %s)",
				path, st.st_mode & 044 ? "readable" : "writable", st.st_mode & 07777, path);
		goto fail;
	}
	if (st.st_mode & 022) {
		r = skp_err_set(err, -EPERM, "%s is writable by group or others (mode %04o): refusing "
				"(chmod go-w %s)", path, st.st_mode & 07777, path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return r;
}

int skp_read_file(const char *path, enum skp_file_kind kind, size_t max, char **ret, size_t *size,
		  struct skp_err *err)
{
	int fd = skp_open_file(path, kind, err);
	struct stat st;
	size_t done = 0, len;
	char *buf;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return skp_err_set(err, -EFBIG, "%s: larger than %zu bytes", path, max);
	}
	len = (size_t)st.st_size + 1;
	buf = kind == SKP_FILE_SECRET ? skp_secmem_alloc(len) : malloc(len);
	if (!buf) {
		close(fd);
		return skp_err_set(err, -ENOMEM, "%s: out of memory", path);
	}
	while (done < len - 1) {
		ssize_t n = read(fd, buf + done, len - 1 - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	buf[done] = '\0';
	if (strlen(buf) != done) {
		if (kind == SKP_FILE_SECRET)
			skp_secmem_free(buf, len);
		else
			free(buf);
		return skp_err_set(err, -EINVAL, "%s: contains a NUL byte", path);
	}
	*ret = buf;
	*size = len;
	return 0;
}
