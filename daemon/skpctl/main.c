// SPDX-License-Identifier: GPL-2.0
/*
 * skpctl: administration tool of skp.  Add a command: a run function in a cmd-*.c file,
 * declared in cmds.h, and a row below (cli.h: its words, arguments, options).
 */
#include "cli.h"
#include "cmds.h"
#include "skpctl.h"

static const struct cli_cmd commands[] = {
	{"status", "", "skpd, its providers and nodes, problems, rekeys, pending skptab entries; exit 3 on alarm",
	 OPT(OPT_JSON), 0, 0, skpctl_cmd_status},
	{"list", "", "the open devices: mapping, device, UUID, provider, KEK, DEK generation, rekey",
	 OPT(OPT_PROVIDER) | OPT(OPT_JSON), 0, 0, skpctl_cmd_list},
	{"format", "DEV", "make DEV an skp device: a new KEK in the KMS, a new DEK wrapped in its header",
	 OPT(OPT_PROVIDER) | OPT(OPT_LABEL) | OPT(OPT_SECTOR) | OPT(OPT_FORCE), 1, 1, skpctl_cmd_format},
	{"open", "DEV NAME", "open DEV as /dev/mapper/NAME (its KEK from the KMS or skpd's cache)",
	 OPT(OPT_SUPERSEDED) | OPT(OPT_DISCARDS) | OPT(OPT_READONLY), 2, 2, skpctl_cmd_open},
	{"close", "NAME", "close the mapping NAME (its keys leave the kernel)", 0, 1, 1, skpctl_cmd_close},
	{"rekey", "NAME|--all", "rotate keys online: --shallow (new KEK), --deep (new DEK, data re-encrypted); "
	 "--pause, --resume, --status of a deep rekey; --all --from-provider X --to-provider Y --shallow migrates",
	 OPT(OPT_SHALLOW) | OPT(OPT_DEEP) | OPT(OPT_PROVIDER) | OPT(OPT_RATE) | OPT(OPT_CHUNK) | OPT(OPT_WAIT) |
	 OPT(OPT_PAUSE) | OPT(OPT_RESUME) | OPT(OPT_STATUS) | OPT(OPT_JSON) | OPT(OPT_ALL) | OPT(OPT_FROM) |
	 OPT(OPT_TO), 0, 1, skpctl_cmd_rekey},
	{"provider list", "", "the configured key providers", OPT(OPT_JSON), 0, 0, skpctl_cmd_provider_list},
	{"provider test", "NAME", "ask every KMS node of provider NAME (native: can the TPM unseal its store)", OPT(OPT_JSON), 1, 1,
	 skpctl_cmd_provider_test},
	{"provider backup", "NAME FILE", "a native provider's KEKs to FILE, encrypted under a passphrase "
	 "(without skpd)", OPT(OPT_PASSFILE), 2, 2, skpctl_cmd_provider_backup},
	{"provider restore", "NAME FILE", "a backup's KEKs into native provider NAME, sealed by this host's TPM "
	 "(all or nothing)", OPT(OPT_PASSFILE), 2, 2, skpctl_cmd_provider_restore},
	{"keys count", "", "KEKs in use per provider", OPT(OPT_JSON), 0, 0, skpctl_cmd_keys_count},
	{"reload", "", "re-read skpd.conf and skptab (as SIGHUP)", 0, 0, 0, skpctl_cmd_reload},
	{"dump", "DEV", "the header of DEV, without skpd (no secrets)", OPT(OPT_UDEV) | OPT(OPT_JSON), 1, 1,
	 skpctl_cmd_dump},
	{"header backup", "DEV FILE", "save DEV's header area (wrapped keys only) to FILE", 0, 2, 2,
	 skpctl_cmd_header_backup},
	{"header restore", "DEV FILE", "write a header backup back to DEV (refuses another device's, or an "
	 "older one without --force)", OPT(OPT_FORCE), 2, 2, skpctl_cmd_header_restore},
	{"kms query", "", "a KMS's vendor, operations and object types (without skpd)", OPTS_KMS, 0, 0,
	 skpctl_cmd_kms},
	{"kms versions", "", "the KMIP versions a KMS offers", OPTS_KMS, 0, 0, skpctl_cmd_kms},
	{"kms check", "", "is each KMS node healthy", OPTS_KMS, 0, 0, skpctl_cmd_kms},
	{"kms create", "NAME", "create an AES-256 key named NAME", OPTS_KMS_CREATE, 1, 1, skpctl_cmd_kms},
	{"kms create-kek", "NAME", "create and activate a KEK named NAME, as format does", OPTS_KMS_CREATE, 1, 1,
	 skpctl_cmd_kms},
	{"kms activate", "UID", "activate a key", OPTS_KMS, 1, 1, skpctl_cmd_kms},
	{"kms get", "UID", "fetch a key: its length and fingerprint, never the key", OPTS_KMS, 1, 1,
	 skpctl_cmd_kms},
	{"kms attrs", "UID", "a key's state, name, algorithm and length", OPTS_KMS, 1, 1, skpctl_cmd_kms},
	{"kms locate", "NAME", "the UIDs of the keys named NAME", OPTS_KMS, 1, 1, skpctl_cmd_kms},
	{"kms revoke", "UID [REASON]", "revoke a key (asks first; REASON: a KMIP revocation reason code, "
	 "default 5, cessation of operation)", OPTS_KMS, 1, 2, skpctl_cmd_kms},
	{"kms destroy", "UID", "destroy a key (asks first): what it wraps is lost", OPTS_KMS, 1, 1,
	 skpctl_cmd_kms},
	{"kms get-batch", "FILE", "fetch the UIDs listed in FILE in batches (tests, benchmarks)", OPTS_KMS, 1, 1,
	 skpctl_cmd_kms},
	{"tpm-key create", "FILE", "generate a KMIP client key inside the TPM (FILE: the TPM-wrapped key, "
	 "key = tpm:FILE) and write a certificate request for the KMS's CA (--csr, --subject)",
	 OPT(OPT_TCTI) | OPT(OPT_SUBJECT) | OPT(OPT_CSR) | OPT(OPT_KEYTYPE), 1, 1, skpctl_cmd_tpm_key_create},
	{"tpm-key csr", "KEY", "a new certificate request for a key in the TPM (KEY: tpm:FILE or "
	 "tpm:handle:0x81......)", OPT(OPT_TCTI) | OPT(OPT_SUBJECT) | OPT(OPT_CSR), 1, 1, skpctl_cmd_tpm_key_csr},
};

int main(int argc, char **argv)
{
	return cli_main(argc, argv, commands, sizeof(commands) / sizeof(commands[0]));
}
