#!/bin/bash
# Every KMIP operation through skpctl kms against a real PyKMIP server.
source "$(dirname "$0")/lib.inc" 1

out=$("${K[@]}" versions); assert_contains "$out" "1.1" "Discover Versions"
assert_contains "$out" "1.4"
out=$("${K[@]}" --protocol 1.0 query); assert_contains "$out" "PyKMIP" "Query vendor"
assert_contains "$out" "Get Attributes" "Query operations"

name=skp-test-$RANDOM$RANDOM
uid=$("${K[@]}" create "$name"); [ -n "$uid" ] || fail "create printed no uid"
out=$("${K[@]}" attrs "$uid")
assert_contains "$out" "state Pre-Active (1)"; assert_contains "$out" "name $name"
assert_contains "$out" "length 256"; assert_contains "$out" "usage_mask 0x3c"
"${K[@]}" activate "$uid"
out=$("${K[@]}" attrs "$uid"); assert_contains "$out" "state Active (2)"

# get: length and the fingerprint PyKMIP's own client computes for the same key.
out=$("${K[@]}" get "$uid"); assert_contains "$out" "length 32 bytes (256 bits)"
fp=$(pyk fp "$uid"); assert_contains "$out" "sha256 $fp" "fingerprint differs from PyKMIP's"

assert_eq "$("${K[@]}" locate "$name")" "$uid" "locate by name"
assert_eq "$("${K[@]}" locate "no-such-$name")" "" "locate of an unknown name"
# Paged Locate (Offset Items, KMIP 1.3+): three keys of one name, newest first.
u2=$("${K[@]}" create "$name"); u3=$("${K[@]}" create "$name")
out=$("${K[@]}" --protocol 1.4 locate "$name"); assert_eq "$(echo "$out" | wc -l)" 3 "paged locate"
assert_eq "$(echo "$out" | sort | tr '\n' ' ')" "$(printf '%s\n' "$uid" "$u2" "$u3" | sort | tr '\n' ' ')"

# create-kek: created and active in one call.
kek=$("${K[@]}" create-kek "kek-$name")
assert_contains "$("${K[@]}" attrs "$kek")" "state Active (2)"

# destroy and revoke ask first: without a terminal, only with --batch (nothing done).
set +e; out=$("${K[@]}" destroy "$uid" < /dev/null 2>&1); rc=$?; set -e
assert_eq "$rc" 1 "destroy without --batch, not on a terminal"
assert_contains "$out" "not on a terminal: add --batch"
assert_contains "$("${K[@]}" attrs "$uid")" "state Active (2)"
# Destroy of an Active key is refused by PyKMIP: a clear error, exit 7 (refused by the KMS).
set +e; out=$("${K[@]}" --batch destroy "$uid" 2>&1); rc=$?; set -e
assert_contains "$out" "Destroy failed"
assert_eq "$rc" 7 "exit code of an operation the KMS refused"
"${K[@]}" revoke "$uid" -q
assert_contains "$("${K[@]}" attrs "$uid")" "state Deactivated (3)"
"${K[@]}" destroy "$uid" --batch
expect_fail "${K[@]}" attrs "$uid"; assert_contains "$out" "Item Not Found"
set +e; "${K[@]}" get "$uid" >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 7 "exit code of a get of a destroyed key"
# No node answers: exit 6.
set +e; out=$("$skpctl" kms --server 127.0.0.1:1 --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" \
	--key "$SKP_KMS_KEY" --timeout 2 get "$uid" 2>&1); rc=$?; set -e
assert_eq "$rc" 6 "exit code with no KMS node answering ($out)"
set +e; "${K[@]}" frobnicate >/dev/null 2>&1; rc=$?; set -e
assert_eq "$rc" 2 "exit code of a usage error"
echo "all operations ok"
