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
/* A directory only root can enter: created 0700 if missing, its mode fixed to 0700;
 * refused (-EPERM) if it is not a directory owned by root. */
struct skp_err;
int skp_private_dir(const char *dir, struct skp_err *err);
/* Size in bytes of a block device or regular file; -ENOTBLK for anything else. */
int skp_dev_size(int fd, uint64_t *ret);

#endif
