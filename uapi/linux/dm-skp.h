/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * dm-skp: names and limits shared by the kernel target and userspace.
 * Only fixed-width types; this header is included by both sides.
 */
#ifndef _UAPI_LINUX_DM_SKP_H
#define _UAPI_LINUX_DM_SKP_H

#define DM_SKP_TARGET_NAME	"skp"
#define DM_SKP_VERSION_MAJOR	0
#define DM_SKP_VERSION_MINOR	1
#define DM_SKP_VERSION_PATCH	0

#endif /* _UAPI_LINUX_DM_SKP_H */
