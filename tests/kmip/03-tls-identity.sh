#!/bin/bash
# Peer verification and identity: wrong CA, wrong host name, another client's key.
source "$(dirname "$0")/lib.inc" 1
s=127.0.0.1:$base

expect_fail "$skpctl" kms --server "$s" --ca "$SKP_KMS_OTHER_CA" --cert "$SKP_KMS_CERT" \
	--key "$SKP_KMS_KEY" versions
assert_contains "$out" "server certificate rejected"

# The server certificate names 127.0.0.1 and localhost: reach it as 127.0.0.2 through
# a plain TCP relay, so only the name differs.
p=$(free_port); start_proxy "127.0.0.2:$p" --target "$s"
expect_fail "$skpctl" kms --server "127.0.0.2:$p" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" \
	--key "$SKP_KMS_KEY" versions
assert_contains "$out" "server certificate rejected"
assert_contains "$out" "IP address mismatch"
# The same relay with the right name works (so the refusal above was the name).
"$skpctl" kms --server "localhost:$base" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" \
	--key "$SKP_KMS_KEY" versions > /dev/null

uid=$("${K[@]}" create-kek "owned-by-a-$RANDOM")
expect_fail "$skpctl" kms --server "$s" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT_B" \
	--key "$SKP_KMS_KEY_B" get "$uid"
assert_contains "$out" "Permission Denied"
echo "$out"

# A client key protected by a passphrase: a clear refusal, never a prompt (skpd has no
# terminal, and skpctl must not wait on one).
enc=$(mktemp); chmod 600 "$enc"
openssl pkey -in "$SKP_KMS_KEY" -aes256 -passout pass:secret-pass -out "$enc"
expect_fail "$skpctl" kms --server "$s" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$enc" versions
rm -f "$enc"
assert_contains "$out" "is encrypted: skp reads no passphrase"
