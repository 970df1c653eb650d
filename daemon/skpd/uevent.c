// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel uevents straight from netlink: the kernel's own messages (group 1), before udev
 * has handled them, which is enough to know that a block device appeared (boot.c then
 * reads /dev/NAME itself); no libudev, and it works where udev is not running (an
 * initramfs, the test VM).
 */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uevent.h"

int uevent_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = 1};
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int uevent_is_block_add(const char *buf, size_t len)
{
	int add = 0, block = 0;

	/* Fields are NUL-separated KEY=VALUE after the "action@devpath" header. */
	for (size_t o = 0; o < len;) {
		const char *f = buf + o;
		size_t l = strnlen(f, len - o);

		if ((l == 10 && !memcmp(f, "ACTION=add", 10)) || (l == 13 && !memcmp(f, "ACTION=change", 13)))
			add = 1;
		else if (l == 15 && !memcmp(f, "SUBSYSTEM=block", 15))
			block = 1;
		o += l + 1;
	}
	return add && block;
}

int uevent_drain(int fd)
{
	char buf[8192];
	int found = 0;
	ssize_t n;

	/* An overrun (ENOBUFS) lost events: take it as one that matters. */
	while ((n = recv(fd, buf, sizeof(buf), 0)) != 0) {
		if (n < 0) {
			if (errno == ENOBUFS) {
				found = 1;
				continue;
			}
			break;
		}
		found |= uevent_is_block_add(buf, (size_t)n);
	}
	return found;
}
