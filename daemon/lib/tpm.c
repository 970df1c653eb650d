// SPDX-License-Identifier: GPL-2.0
/*
 * TPM 2.0 sealing through tpm2-tss's ESAPI (see tpm.h).  Every command that carries the
 * secret (Create's sensitive data, Unseal's answer) runs in a session salted with the
 * primary key and with parameter encryption, so the secret does not cross the bus in
 * clear.  The primary key is re-created from its fixed template each time (the owner
 * seed makes it the same key): nothing persistent is left in the TPM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "secmem.h"
#include "tpm.h"

struct skp_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *ctx;
};

/* The RC without the handle/session/parameter number of format-one codes. */
static TSS2_RC rc_base(TSS2_RC rc)
{
	rc &= 0xfff;
	return (rc & TPM2_RC_FMT1) ? (rc & 0xbf) : rc;
}

static int tpm_fail(struct skp_err *err, int code, const char *what, TSS2_RC rc)
{
	return skp_err_set(err, code, "TPM: %s failed: %s", what, Tss2_RC_Decode(rc));
}

int skp_tpm_open(const char *tcti, struct skp_tpm **out, struct skp_err *err)
{
	struct skp_tpm *t;
	TSS2_RC rc;

	if (!tcti || !*tcti)
		tcti = SKP_TPM_DEFAULT_TCTI;
	/*
	 * The library never prints: tpm2-tss logs to stderr unless told otherwise (the
	 * failures come back as skp_err).  An admin's own TSS2_LOG is kept, for debugging.
	 */
	setenv("TSS2_LOG", "all+NONE", 0);
	/* A clear answer for the common case, before the TSS logs its own complaint. */
	if (!strncmp(tcti, "device:", 7) && access(tcti + 7, R_OK | W_OK) < 0)
		return skp_err_set(err, -ENODEV, "no TPM: %s: %s", tcti + 7, strerror(errno));
	t = calloc(1, sizeof(*t));
	if (!t)
		return skp_err_set(err, -ENOMEM, "out of memory");
	rc = Tss2_TctiLdr_Initialize(tcti, &t->tcti);
	if (rc != TSS2_RC_SUCCESS) {
		free(t);
		return skp_err_set(err, -ENODEV, "no TPM at %s: %s", tcti, Tss2_RC_Decode(rc));
	}
	rc = Esys_Initialize(&t->ctx, t->tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		Tss2_TctiLdr_Finalize(&t->tcti);
		free(t);
		return skp_err_set(err, -ENODEV, "TPM at %s unusable: %s", tcti, Tss2_RC_Decode(rc));
	}
	*out = t;
	return 0;
}

void skp_tpm_close(struct skp_tpm *t)
{
	if (!t)
		return;
	Esys_Finalize(&t->ctx);
	Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

/* The storage primary key: ECC P-256 (quick to derive) with the usual SRK attributes. */
static int primary(struct skp_tpm *t, ESYS_TR *h, struct skp_err *err)
{
	TPM2B_SENSITIVE_CREATE sens = {0};
	TPM2B_PUBLIC pub = { .publicArea = {
		.type = TPM2_ALG_ECC,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED |
			TPMA_OBJECT_DECRYPT | TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
			TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_NODA,
		.parameters.eccDetail = {
			.symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
			.scheme = { .scheme = TPM2_ALG_NULL },
			.curveID = TPM2_ECC_NIST_P256,
			.kdf = { .scheme = TPM2_ALG_NULL },
		},
	} };
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	TSS2_RC rc;

	rc = Esys_CreatePrimary(t->ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&sens, &pub, &outside, &none, h, NULL, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(err, -EIO, "creating the primary key (owner hierarchy)", rc);
	return 0;
}

static void pcr_selection(uint32_t mask, TPML_PCR_SELECTION *sel)
{
	memset(sel, 0, sizeof(*sel));
	sel->count = 1;
	sel->pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel->pcrSelections[0].sizeofSelect = 3;
	sel->pcrSelections[0].pcrSelect[0] = mask & 0xff;
	sel->pcrSelections[0].pcrSelect[1] = (mask >> 8) & 0xff;
	sel->pcrSelections[0].pcrSelect[2] = (mask >> 16) & 0xff;
}

/* A session salted with the primary key, encrypting the secret-bearing parameters. */
static int session(struct skp_tpm *t, ESYS_TR prim, TPM2_SE type, ESYS_TR *s, struct skp_err *err)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };
	TSS2_RC rc;

	rc = Esys_StartAuthSession(t->ctx, type == TPM2_SE_TRIAL ? ESYS_TR_NONE : prim, ESYS_TR_NONE,
				   ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, NULL, type, &sym,
				   TPM2_ALG_SHA256, s);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(err, -EIO, "starting a session", rc);
	if (type != TPM2_SE_TRIAL) {
		rc = Esys_TRSess_SetAttributes(t->ctx, *s, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
					       TPMA_SESSION_CONTINUESESSION, 0xff);
		if (rc != TSS2_RC_SUCCESS) {
			Esys_FlushContext(t->ctx, *s);
			return tpm_fail(err, -EIO, "setting session attributes", rc);
		}
	}
	return 0;
}

/* The policy digest of "PCRs in mask hold their current values". */
static int pcr_policy(struct skp_tpm *t, uint32_t mask, TPM2B_DIGEST *out, struct skp_err *err)
{
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST any = {0}, *dig = NULL;
	ESYS_TR s;
	TSS2_RC rc;
	int r;

	pcr_selection(mask, &sel);
	r = session(t, ESYS_TR_NONE, TPM2_SE_TRIAL, &s, err);
	if (r < 0)
		return r;
	rc = Esys_PolicyPCR(t->ctx, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &any, &sel);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_PolicyGetDigest(t->ctx, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &dig);
	Esys_FlushContext(t->ctx, s);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail(err, -EIO, "computing the PCR policy (are the PCRs in the SHA-256 bank?)", rc);
	*out = *dig;
	Esys_Free(dig);
	return 0;
}

int skp_tpm_seal(struct skp_tpm *t, uint32_t pcr_mask, const void *secret, size_t len,
		 unsigned char *blob, size_t size, size_t *blob_len, struct skp_err *err)
{
	TPM2B_SENSITIVE_CREATE *sens = NULL;
	TPM2B_PUBLIC pub = { .publicArea = {
		.type = TPM2_ALG_KEYEDHASH,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_NODA,
		.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
	} };
	TPM2B_PUBLIC *opub = NULL;
	TPM2B_PRIVATE *opriv = NULL;
	TPM2B_DATA outside = {0};
	TPML_PCR_SELECTION none = {0};
	ESYS_TR prim = ESYS_TR_NONE, s = ESYS_TR_NONE;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (!len || len > SKP_TPM_SECRET_MAX || pcr_mask >> SKP_TPM_PCR_MAX)
		return skp_err_set(err, -EINVAL, "TPM: a sealed secret holds 1..%d bytes, PCRs 0..%d",
				   SKP_TPM_SECRET_MAX, SKP_TPM_PCR_MAX - 1);
	if (pcr_mask) {
		r = pcr_policy(t, pcr_mask, &pub.publicArea.authPolicy, err);
		if (r < 0)
			return r;
	} else {
		pub.publicArea.objectAttributes |= TPMA_OBJECT_USERWITHAUTH;
	}
	sens = skp_secmem_alloc(sizeof(*sens));
	if (!sens)
		return skp_err_set(err, -ENOMEM, "out of locked memory");
	memset(sens, 0, sizeof(*sens));
	memcpy(sens->sensitive.data.buffer, secret, len);
	sens->sensitive.data.size = (UINT16)len;
	r = primary(t, &prim, err);
	if (r < 0)
		goto out;
	r = session(t, prim, TPM2_SE_HMAC, &s, err);
	if (r < 0)
		goto out;
	rc = Esys_Create(t->ctx, prim, s, ESYS_TR_NONE, ESYS_TR_NONE, sens, &pub, &outside, &none,
			 &opriv, &opub, NULL, NULL, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail(err, -EIO, "sealing", rc);
		goto out;
	}
	if (Tss2_MU_TPM2B_PUBLIC_Marshal(opub, blob, size, &off) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PRIVATE_Marshal(opriv, blob, size, &off) != TSS2_RC_SUCCESS) {
		r = skp_err_set(err, -ENOSPC, "TPM: the sealed object does not fit %zu bytes", size);
		goto out;
	}
	*blob_len = off;
	r = 0;
out:
	Esys_Free(opub);
	Esys_Free(opriv);
	if (s != ESYS_TR_NONE)
		Esys_FlushContext(t->ctx, s);
	if (prim != ESYS_TR_NONE)
		Esys_FlushContext(t->ctx, prim);
	skp_secmem_free(sens, sizeof(*sens));
	return r;
}

int skp_tpm_unseal(struct skp_tpm *t, uint32_t pcr_mask, const unsigned char *blob, size_t blob_len,
		   void *secret, size_t size, size_t *len, struct skp_err *err)
{
	TPM2B_PUBLIC pub = {0};
	TPM2B_PRIVATE priv = {0};
	TPM2B_SENSITIVE_DATA *data = NULL;
	ESYS_TR prim = ESYS_TR_NONE, s = ESYS_TR_NONE, obj = ESYS_TR_NONE;
	size_t off = 0;
	TSS2_RC rc;
	int r;

	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob, blob_len, &off, &pub) != TSS2_RC_SUCCESS ||
	    Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob, blob_len, &off, &priv) != TSS2_RC_SUCCESS || off != blob_len)
		return skp_err_set(err, -EBADMSG, "TPM: the sealed object is malformed");
	r = primary(t, &prim, err);
	if (r < 0)
		return r;
	r = session(t, prim, TPM2_SE_HMAC, &s, err);
	if (r < 0)
		goto out;
	rc = Esys_Load(t->ctx, prim, s, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &obj);
	if (rc != TSS2_RC_SUCCESS) {
		TSS2_RC b = rc_base(rc);

		if (b == TPM2_RC_INTEGRITY || b == TPM2_RC_BINDING || b == TPM2_RC_SIZE || b == TPM2_RC_KEY ||
		    b == TPM2_RC_VALUE)
			r = skp_err_set(err, -EKEYREJECTED, "TPM: the sealed key was not made by this TPM "
					"(another host, or its owner hierarchy was cleared): %s", Tss2_RC_Decode(rc));
		else
			r = tpm_fail(err, -EIO, "loading the sealed key", rc);
		goto out;
	}
	if (pcr_mask) {
		TPML_PCR_SELECTION sel;
		TPM2B_DIGEST any = {0};

		/* The policy session replaces the HMAC one as the authorization of Unseal. */
		Esys_FlushContext(t->ctx, s);
		s = ESYS_TR_NONE;
		r = session(t, prim, TPM2_SE_POLICY, &s, err);
		if (r < 0)
			goto out;
		pcr_selection(pcr_mask, &sel);
		rc = Esys_PolicyPCR(t->ctx, s, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &any, &sel);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_fail(err, -EIO, "the PCR policy", rc);
			goto out;
		}
	}
	rc = Esys_Unseal(t->ctx, obj, s, ESYS_TR_NONE, ESYS_TR_NONE, &data);
	if (rc != TSS2_RC_SUCCESS) {
		if (rc_base(rc) == TPM2_RC_POLICY_FAIL) {
			char pcrs[80];

			skp_tpm_format_pcrs(pcr_mask, pcrs, sizeof(pcrs));
			r = skp_err_set(err, -EACCES, "TPM: refused to unseal: PCR(s) %s changed since sealing "
					"(the PCR policy is not met)", pcrs);
		} else {
			r = tpm_fail(err, -EIO, "unsealing", rc);
		}
		goto out;
	}
	if (data->size > size) {
		r = skp_err_set(err, -EBADMSG, "TPM: the sealed secret is %u bytes, expected at most %zu",
				data->size, size);
		goto out;
	}
	memcpy(secret, data->buffer, data->size);
	*len = data->size;
	r = 0;
out:
	if (data) {
		skp_wipe(data, sizeof(*data));
		Esys_Free(data);
	}
	if (obj != ESYS_TR_NONE)
		Esys_FlushContext(t->ctx, obj);
	if (s != ESYS_TR_NONE)
		Esys_FlushContext(t->ctx, s);
	if (prim != ESYS_TR_NONE)
		Esys_FlushContext(t->ctx, prim);
	return r;
}

int skp_tpm_parse_pcrs(const char *s, uint32_t *mask)
{
	uint32_t m = 0;

	if (!*s || !strcmp(s, "none")) {
		*mask = 0;
		return 0;
	}
	for (;;) {
		char *end;
		long n;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		n = strtol(s, &end, 10);
		if (n >= SKP_TPM_PCR_MAX)
			return -EINVAL;
		m |= 1u << n;
		s = end;
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (*s != ',' && *s != '+')
			return -EINVAL;
		s++;
		while (*s == ' ')
			s++;
	}
	*mask = m;
	return 0;
}

void skp_tpm_format_pcrs(uint32_t mask, char *out, size_t size)
{
	size_t n = 0;

	snprintf(out, size, "none");
	for (int i = 0; i < SKP_TPM_PCR_MAX && n < size; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(out + n, size - n, "%s%d", n ? "," : "", i);
}
