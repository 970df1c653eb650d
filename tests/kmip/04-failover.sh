#!/bin/bash
# Two replicated nodes: node 1 dies, operations go through node 2 and the failover is
# recorded; then all nodes down: a clear error within the timeout.
source "$(dirname "$0")/lib.inc" 2

uid=$("${K[@]}" create-kek "fo-$RANDOM")
pyk create 20 "fo-batch" > "$work/uids"
"$repo/tests/kms/stop" "$SKP_KMS_DIR" 0
out=$("${K[@]}" --health get "$uid")
assert_contains "$out" "length 32 bytes"
assert_contains "$out" "node 127.0.0.1:$base healthy=0"
assert_contains "$out" "node 127.0.0.1:$((base + 1)) healthy=1"
assert_contains "$out" "failovers 1"
out=$("${K[@]}" --health get-batch "$work/uids")
assert_contains "$out" "fetched 20 of 20 keys"
assert_contains "$out" "node 127.0.0.1:$((base + 1)) healthy=1"
out=$("${K[@]}" --health create-kek "fo2-$RANDOM")
assert_contains "$out" "node 127.0.0.1:$((base + 1)) healthy=1"

"$repo/tests/kms/stop" "$SKP_KMS_DIR"
start=$(date +%s%N)
expect_fail "${K[@]}" --timeout 3 get "$uid"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_contains "$out" "all 2 KMS node(s) failed"
assert_contains "$out" "Connection refused"
[ "$ms" -lt 6000 ] || fail "all-down error took $ms ms"
echo "all nodes down: '$out' after $ms ms"
