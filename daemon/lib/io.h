/* SPDX-License-Identifier: GPL-2.0 */
/* Whole-buffer positioned I/O on devices and files: short transfers and EINTR retried. */
#ifndef SKP_IO_H
#define SKP_IO_H

#include <stddef.h>
#include <stdint.h>

/* 0, or a negative errno (-EIO for end of device before len bytes). */
int skp_pread_full(int fd, void *buf, size_t len, uint64_t off);
int skp_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Whole-buffer stream I/O on sockets (control protocol): 0, or -errno (-EPIPE at EOF).
 * Sending never raises SIGPIPE. */
int skp_send_full(int fd, const void *buf, size_t len);
int skp_recv_full(int fd, void *buf, size_t len);
struct skp_err;
/* skpd's own directory: created 0700 if missing.  An existing one (say /run, for a
 * socket at /run/x.sock) is used as it is, never chmod'ed; it is refused (-EPERM) if it
 * is not a directory owned by root or skpd's user, or if group or others can write it. */
int skp_private_dir(const char *dir, struct skp_err *err);

/*
 * Files skpd trusts must be owned by root or skpd's user (its euid) and writable by no
 * one else: whoever can write the CA or skpd.conf can point skpd at a fake KMS that
 * hands out a KEK at format time.  Secrets (private keys, passwords) must also be
 * unreadable by group and others and are never opened through a symbolic link.  The
 * checks are made on the descriptor that is read (no race with a swapped path).
 */
enum skp_file_kind {
	SKP_FILE_TRUSTED,	/* skpd.conf, skptab, CA and certificate files */
	SKP_FILE_SECRET,	/* private keys, password files */
};
/* A read-only descriptor of path if it is a regular file that passes the checks of its
 * kind; else -errno with err saying what is wrong and how to fix it. */
int skp_open_file(const char *path, enum skp_file_kind kind, struct skp_err *err);
/* All of such a file (at most max bytes, no NUL inside), NUL-terminated, in *ret of
 * *size bytes: secmem for SKP_FILE_SECRET (skp_secmem_free(*ret, *size)), else free(). */
int skp_read_file(const char *path, enum skp_file_kind kind, size_t max, char **ret, size_t *size,
		  struct skp_err *err);
/* Size in bytes of a block device or regular file; -ENOTBLK for anything else. */
int skp_dev_size(int fd, uint64_t *ret);
/* open(path, flags | O_CLOEXEC) of a block device or image file and its size: the
 * descriptor, or -errno with err saying why (EBUSY: mounted or mapped, with O_EXCL). */
int skp_dev_open(const char *path, int flags, uint64_t *size, struct skp_err *err);

#endif
