/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The TPM 2.0 (through tpm2-tss's ESAPI): the one place in skp that talks to a TPM.
 * Never prints.  A secret of up to SKP_TPM_SECRET_MAX bytes is sealed under a primary
 * key derived from the owner hierarchy by a fixed template, so only this TPM can unseal
 * it; optionally bound to the current values of a set of SHA-256 PCRs.  The sealed blob
 * (public and private parts of the TPM object) holds nothing usable without that TPM.
 */
#ifndef SKP_TPM_H
#define SKP_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SKP_TPM_DEFAULT_TCTI	"device:/dev/tpmrm0"
#define SKP_TPM_SECRET_MAX	128	/* TPM2B_SENSITIVE_DATA */
#define SKP_TPM_BLOB_MAX	1024	/* a marshalled TPM2B_PUBLIC + TPM2B_PRIVATE */
#define SKP_TPM_PCR_MAX		24

struct skp_tpm;

/*
 * Opens the TPM at tcti (a TSS2 TCTI string, "device:/dev/tpmrm0" when NULL or empty).
 * -ENODEV when there is no TPM there.  0 or -errno.
 */
int skp_tpm_open(const char *tcti, struct skp_tpm **out, struct skp_err *err);
void skp_tpm_close(struct skp_tpm *t);
/*
 * Seals secret (1..SKP_TPM_SECRET_MAX bytes); pcr_mask (bit n = PCR n of the SHA-256
 * bank, 0 = none) binds it to those PCRs' current values.  The blob goes to blob (up to
 * size bytes), its length to *blob_len.  0 or -errno.
 */
int skp_tpm_seal(struct skp_tpm *t, uint32_t pcr_mask, const void *secret, size_t len,
		 unsigned char *blob, size_t size, size_t *blob_len, struct skp_err *err);
/*
 * Unseals a blob of skp_tpm_seal with the same pcr_mask into secret (size bytes, locked
 * memory: the caller's), its length to *len.  -EACCES when the PCRs changed since
 * sealing, -EKEYREJECTED when the blob is not this TPM's (another host, or the owner
 * hierarchy was cleared), -EBADMSG when it is malformed.  0 or -errno.
 */
int skp_tpm_unseal(struct skp_tpm *t, uint32_t pcr_mask, const unsigned char *blob, size_t blob_len,
		   void *secret, size_t size, size_t *len, struct skp_err *err);
/* "7" or "0,2,7" (or "" / "none": 0) into a mask of PCRs 0..23.  0 or -EINVAL. */
int skp_tpm_parse_pcrs(const char *s, uint32_t *mask);
/* The mask as "0,2,7" ("none" when 0). */
void skp_tpm_format_pcrs(uint32_t mask, char *out, size_t size);

#endif
