#!/bin/bash
# The KMIP client key in the TPM (vm.args: --tpm new, the guest's /dev/tpmrm0): skpctl
# tpm-key create makes it and a CSR, the test CA signs the CSR, and skpd's provider uses
# key = tpm:FILE for mutual TLS with PyKMIP: format, open, shallow rekey, health checks
# (every node ok), and an open after a restart (the KEK fetched again through the TPM
# key).  No PEM private key of that client is on disk.  A wrong handle and a missing tpm2
# provider stop skpd with a clear message, not a crash.
. tests/lib/common.sh
. tests/system/lib/skp.sh

[ -c /dev/tpmrm0 ] || fail "no /dev/tpmrm0: run with tests/vm/run --tpm"
read -ra servers <<< "$SKP_KMS_SERVERS"
TK=$W/tpmkey
install -m 700 -d "$TK"
out=$(skpctl tpm-key create "$TK/client.tss2" --subject CN=skp-tpm-host --csr "$TK/client.csr")
assert_contains "$out" "EC P-256 key created in the TPM, wrapped by it in $TK/client.tss2"
openssl x509 -req -in "$TK/client.csr" -CA "$SKP_KMS_CA" -CAkey "$SKP_KMS_CA_KEY" \
	-CAserial "$TK/ca.srl" -CAcreateserial -days 2 -copy_extensions copy -out "$TK/client.pem" 2> /dev/null ||
	fail "cannot sign the CSR"

# tpm_provider KEY: a provider section on every node with the TPM key's certificate.
tpm_provider() {
	printf '[provider "corp-kms"]\n'
	printf 'server = %s\n' "${servers[@]}"
	printf 'ca = %s\ncert = %s\nkey = %s\ndefault = true\ntimeout = 5\n' "$W/pki/ca.pem" "$TK/client.pem" "$1"
}
HEALTH_INTERVAL=1 write_conf "$W/skpd.conf" "$S"
cp "$W/skpd.conf" "$W/handle.conf"
tpm_provider "tpm:$TK/client.tss2" >> "$W/skpd.conf"
tpm_provider tpm:handle:0x81000999 >> "$W/handle.conf"

start_skpd "$W/skpd.conf" "$W/skpd.log"
fresh /dev/vda
skpctl format /dev/vda "${C[@]}" > /dev/null
MAPPINGS+=(tk)
# kek OUTPUT: the KEK UID that skpctl open printed.
kek() { sed -n 's/.*, KEK \(.*\))$/\1/p' <<< "$1"; }
kek1=$(kek "$(skpctl open /dev/vda tk "${C[@]}")")
dd if=/dev/urandom of=/dev/mapper/tk bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/tk 4)
assert_contains "$(skpctl rekey tk --shallow "${C[@]}")" "rekeyed tk"
# Health probes (their own connections, from the worker thread) find every node ok.
for _ in $(seq 50); do
	st=$(skpctl status --json "${C[@]}" || true)
	[ "$(grep -o '"state":"ok"' <<< "$st" | wc -l)" = "${#servers[@]}" ] && break
	sleep 0.2
done
assert_eq "$(grep -o '"state":"ok"' <<< "$st" | wc -l)" "${#servers[@]}" "nodes ok in: $st"
skpctl status "${C[@]}" > /dev/null || fail "skpctl status: an alarm with the TPM key"

# Restarted (its KEK cache empty), skpd opens the device through the KMS again.
skpctl close tk "${C[@]}"
stop_skpd "$SKPD_PID"
start_skpd "$W/skpd.conf" "$W/skpd2.log"
kek2=$(kek "$(skpctl open /dev/vda tk "${C[@]}")")
[ -n "$kek1" ] && [ -n "$kek2" ] && [ "$kek1" != "$kek2" ] || fail "KEK '$kek1' -> '$kek2' after a shallow rekey"
assert_eq "$(sum_mib /dev/mapper/tk 4)" "$want" "data after the rekey and a restart"
skpctl close tk "${C[@]}"
stop_skpd "$SKPD_PID"

# No private key of this client in clear: the TSS2 file is the TPM's wrapping, useless
# to OpenSSL without the TPM.
for f in "$TK"/* "$W/skpd.conf"; do
	! grep -Eq 'BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY' "$f" || fail "a PEM private key in $f"
done
grep -q 'BEGIN TSS2 PRIVATE KEY' "$TK/client.tss2" || fail "not a TSS2 key file"
! openssl pkey -in "$TK/client.tss2" -noout 2> /dev/null || fail "the key file opens without the TPM"

# skpd_fails CONF LOG TEXT [ENV...]: skpd exits 1 (not a signal) at start and says TEXT.
skpd_fails() {
	local rc=0
	env "${@:4}" skpd --config "$1" > "$2" 2>&1 || rc=$?
	assert_eq "$rc" 1 "skpd's exit status"
	assert_contains "$(cat "$2")" "$3"
}
skpd_fails "$W/handle.conf" "$W/handle.log" \
	"provider \"corp-kms\": TLS: client key: TPM key tpm:handle:0x81000999: no usable key at persistent handle 0x81000999"
mkdir -p "$W/no-modules"
skpd_fails "$W/skpd.conf" "$W/nomod.log" \
	"TPM key: the tpm2 OpenSSL provider is not installed ($W/no-modules/tpm2.so" OPENSSL_MODULES="$W/no-modules"
rc=0
skpctl open /dev/vda tk "${C[@]}" 2> /dev/null || rc=$?
assert_eq "$rc" 8 "open without skpd"
echo ok
