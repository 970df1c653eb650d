#!/bin/bash
# A KMIP client key in the TPM (a software TPM on a unix socket): skpctl tpm-key create
# makes it and a CSR, the test CA signs it, and mutual TLS with key = tpm:FILE or
# tpm:handle:0x81... works against PyKMIP, with the KMS seeing the CSR's identity.  The
# key file holds no private key in clear; a wrong handle, another TPM's key file, a PEM
# key where a TPM key is meant, a missing TPM or a missing tpm2 provider fail clearly.
source "$(dirname "$0")/lib.inc" 1
s=127.0.0.1:$base
pki=${SKP_KMS_CA%/*}
d=$work/tpm
mkdir -p "$d/a" "$d/b"
start_swtpm "$d/a"
start_swtpm "$d/b"
TA=(--tpm-tcti "swtpm:path=$d/a/sock")
TB=(--tpm-tcti "swtpm:path=$d/b/sock")
# sign CSR CERT: the KMS's CA signs a client certificate.
sign() {
	openssl x509 -req -in "$1" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
		-out "$2" -copy_extensions copy 2> /dev/null || fail "cannot sign $1"
}
kms() { "$skpctl" kms --server "$s" --ca "$SKP_KMS_CA" "$@"; }

out=$("$skpctl" tpm-key create "$d/host.tss2" --subject CN=skp-tpm-host,O=skp-test --csr "$d/host.csr" \
	"${TA[@]}")
assert_contains "$out" "EC P-256 key created in the TPM"
assert_eq "$(stat -c %a "$d/host.tss2")" 600 "key file mode"
grep -q "BEGIN TSS2 PRIVATE KEY" "$d/host.tss2" || fail "not a TSS2 key file"
! grep -q "BEGIN.*PRIVATE KEY" <(grep -v TSS2 "$d/host.tss2") || fail "a clear private key"
! openssl pkey -in "$d/host.tss2" -noout 2> /dev/null || fail "the key file opens without the TPM"
req=$(openssl req -in "$d/host.csr" -noout -text -verify 2>&1)
assert_contains "$req" "verify OK"
assert_contains "$req" "Subject: CN = skp-tpm-host, O = skp-test"
assert_contains "$req" "TLS Web Client Authentication"
sign "$d/host.csr" "$d/host.pem"
# An existing key file is never replaced.
expect_fail "$skpctl" tpm-key create "$d/host.tss2" --subject CN=x --csr "$d/x.csr" "${TA[@]}"
assert_contains "$out" "exists: refusing to replace a key"
# Nor an existing request, and then no key is made.
expect_fail "$skpctl" tpm-key create "$d/new.tss2" --subject CN=x --csr "$d/host.csr" "${TA[@]}"
assert_contains "$out" "$d/host.csr exists: refusing to replace it"
[ ! -e "$d/new.tss2" ] || fail "a key made without its request"

T=(--cert "$d/host.pem" --key "tpm:$d/host.tss2" "${TA[@]}")
assert_eq "$(kms "${T[@]}" check)" "healthy 1 of 1"
uid=$(kms "${T[@]}" create-kek "tpm-owned-$RANDOM")
kms "${T[@]}" get "$uid" > /dev/null
# PyKMIP's owner of a key is the client CN: the CSR's, so the TPM key did the handshake.
expect_fail "${K[@]}" get "$uid"
assert_contains "$out" "Permission Denied"

# A persistent handle (made with tpm2-tools), its CSR by skpctl tpm-key csr.
# (No resource manager on the socket: the tools' objects are flushed after each.)
export TPM2TOOLS_TCTI=swtpm:path=$d/a/sock
tpm2_createprimary -Q -C o -c "$d/prim.ctx" && tpm2_flushcontext -t
tpm2_create -Q -C "$d/prim.ctx" -G ecc256 -u "$d/k.pub" -r "$d/k.priv" && tpm2_flushcontext -t
tpm2_load -Q -C "$d/prim.ctx" -u "$d/k.pub" -r "$d/k.priv" -c "$d/k.ctx"
tpm2_evictcontrol -Q -C o -c "$d/k.ctx" 0x81000101 > /dev/null && tpm2_flushcontext -t
"$skpctl" tpm-key csr tpm:handle:0x81000101 --subject CN=skp-tpm-host --csr "$d/h.csr" "${TA[@]}" > /dev/null
sign "$d/h.csr" "$d/h.pem"
H=(--cert "$d/h.pem" --key tpm:handle:0x81000101 "${TA[@]}")
assert_eq "$(kms "${H[@]}" check)" "healthy 1 of 1"
kms "${H[@]}" get "$uid" > /dev/null

# Failures, each with its reason and no crash.
expect_fail kms --cert "$d/h.pem" --key tpm:handle:0x81000102 "${TA[@]}" check
assert_contains "$out" "TLS: client key: TPM key tpm:handle:0x81000102: no usable key at persistent handle 0x81000102"
expect_fail kms --cert "$d/host.pem" --key tpm:handle:0x81000101 "${TA[@]}" check
assert_contains "$out" "cannot use client key tpm:handle:0x81000101"
assert_contains "$out" "key values mismatch"
expect_fail kms --cert "$d/host.pem" --key "tpm:$d/host.tss2" "${TB[@]}" check
assert_contains "$out" "cannot load it with this TPM (not a TSS2 PRIVATE KEY, or another TPM's)"
cp "$SKP_KMS_KEY" "$d/clear.key"
expect_fail kms --cert "$SKP_KMS_CERT" --key "tpm:$d/clear.key" "${TA[@]}" check
assert_contains "$out" "the file holds a private key in clear, not a TPM key"
expect_fail kms --cert "$d/host.pem" --key "tpm:$d/host.tss2" --tpm-tcti "swtpm:path=$d/none" check
assert_contains "$out" "the tpm2 provider cannot use the TPM at swtpm:path=$d/none"
expect_fail kms --cert "$d/host.pem" --key "tpm:$d/host.tss2" --tpm-tcti device:/dev/no-tpm check
assert_contains "$out" "no TPM: /dev/no-tpm"
OPENSSL_MODULES=$d expect_fail kms "${T[@]}" check
assert_contains "$out" "the tpm2 OpenSSL provider is not installed ($d/tpm2.so"
expect_fail kms --cert "$d/host.pem" --key tpm:handle:0x80000001 "${TA[@]}" check
assert_contains "$out" "a persistent handle is tpm:handle:0x81000000 to 0x81FFFFFF"
echo "TPM client key: TLS, CSR, handle and failures OK"
