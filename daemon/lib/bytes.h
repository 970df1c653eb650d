/* SPDX-License-Identifier: GPL-2.0 */
/* Fixed-width integers in byte buffers: the on-disk formats are little-endian (header,
 * re-encryption record), the wire and sealed formats big-endian (TTLV, sealed files). */
#ifndef SKP_BYTES_H
#define SKP_BYTES_H

#include <stdint.h>

static inline void skp_put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void skp_put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline void skp_put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint16_t skp_get_le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t skp_get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t skp_get_le64(const unsigned char *p)
{
	return (uint64_t)skp_get_le32(p) | (uint64_t)skp_get_le32(p + 4) << 32;
}

static inline void skp_put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline uint32_t skp_get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t skp_get_be64(const unsigned char *p)
{
	return (uint64_t)skp_get_be32(p) << 32 | skp_get_be32(p + 4);
}

#endif
