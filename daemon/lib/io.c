// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "io.h"

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

int skp_private_dir(const char *dir, struct skp_err *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return skp_err_set(err, -errno, "cannot create %s: %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0)
		return skp_err_set(err, -EPERM, "%s is not a directory owned by root", dir);
	if ((st.st_mode & 07777) != 0700 && chmod(dir, 0700) < 0)
		return skp_err_set(err, -errno, "cannot chmod 0700 %s: %s", dir, strerror(errno));
	return 0;
}
