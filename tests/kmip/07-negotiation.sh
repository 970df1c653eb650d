#!/bin/bash
# protocol "auto" negotiates: a connection's first request is Discover Versions and the
# client then speaks the highest version both sides know (skp: 1.0 to 1.4); an explicit
# --protocol is used as given, never asked.  A node whose answer names no usable version
# (an empty list, none in common, a malformed list) fails with a clear error, and its
# work goes to the next node.  tls-fault-server.py versions=... echoes the version of
# every other request in its (error) answer.
source "$(dirname "$0")/lib.inc" 1
TLS=(--ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 2)
dv() { grep -c "Processing operation: DiscoverVersions" "$SKP_KMS_DIR/server0.log" || true; }

# Real PyKMIP: 0.10 offers 2.0, 1.4, 1.3, 1.2, 1.1, 1.0, so skp settles on 1.4.
uid=$("${K[@]}" create-kek "nego-$RANDOM")
n=$(dv)
out=$("${K[@]}" --health attrs "$uid")
assert_contains "$out" "state Active (2)"
assert_contains "$out" "kmip=1.4"
assert_eq "$(($(dv) - n))" 1 "Discover Versions per connection"
n=$(dv)
out=$("${K[@]}" --protocol 1.2 --health attrs "$uid")
assert_contains "$out" "kmip=1.2"
assert_eq "$(dv)" "$n" "Discover Versions with an explicit protocol"

# The highest common version, whatever the server's order; explicit stays literal.
start_fault versions=1.2,1.1,1.0
expect_fail "$skpctl" kms --server "$fault" "${TLS[@]}" --health query
assert_contains "$out" "request in KMIP 1.2"
assert_contains "$out" "kmip=1.2"
start_fault versions=1.0,2.0,1.3,1.1
expect_fail "$skpctl" kms --server "$fault" "${TLS[@]}" query
assert_contains "$out" "request in KMIP 1.3"
expect_fail "$skpctl" kms --server "$fault" "${TLS[@]}" --protocol 1.1 query
assert_contains "$out" "request in KMIP 1.1"
echo "negotiated: $out"

# No usable answer: a clear error, the node failing, within the budget.
start_fault versions=
expect_fail "$skpctl" kms --server "$fault" "${TLS[@]}" --health query
assert_contains "$out" "KMIP version negotiation: $fault: the server offers no protocol version"
assert_contains "$out" "node $fault healthy=0"
echo "empty list: $out"
empty=$fault
start_fault versions=2.0,3.0
expect_fail "$skpctl" kms --server "$fault" "${TLS[@]}" query
assert_contains "$out" "no common version: the server offers 2.0, 3.0"
echo "none in common: $out"
start_fault versions-garbage
start=$(date +%s%N)
expect_fail "$skpctl" kms --server "$fault" "${TLS[@]}" query
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_contains "$out" "KMIP version negotiation: $fault: TTLV: tag 42006A is a Text String"
assert_contains "$out" "all 1 KMS node(s) failed"
[ "$ms" -lt 4500 ] || fail "malformed versions: took $ms ms with --timeout 2"
echo "malformed list: $out ($ms ms)"

# In front of a good node: the work fails over to it, the bad ones are recorded.
out=$("$skpctl" kms --server "$fault" --server "$empty" --server "127.0.0.1:$base" "${TLS[@]}" \
	--health attrs "$uid")
assert_contains "$out" "state Active (2)"
assert_contains "$out" "node $fault healthy=0"
assert_contains "$out" "node $empty healthy=0"
assert_contains "$out" "node 127.0.0.1:$base healthy=1"
assert_contains "$out" "kmip=1.4"
echo "$out"
