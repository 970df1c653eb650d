#!/bin/bash
# 500 Gets in one request message (one exchange) against one PyKMIP node.
source "$(dirname "$0")/lib.inc" 1

pyk create 500 "batch-$RANDOM" > "$work/uids"
assert_eq "$(wc -l < "$work/uids")" 500 "keys created"
before=$(grep -c "Received request" "$SKP_KMS_DIR/server0.log")
out=$("${K[@]}" get-batch "$work/uids")
after=$(grep -c "Received request" "$SKP_KMS_DIR/server0.log")
assert_contains "$out" "fetched 500 of 500 keys"
assert_eq "$((after - before))" 1 "number of request messages for 500 Gets"
# A batch mixing good and unknown UIDs: a result per item, the bad one named.
{ head -n 3 "$work/uids"; echo no-such-uid; } > "$work/mixed"
expect_fail "${K[@]}" get-batch "$work/mixed"
assert_contains "$out" "fetched 3 of 4 keys"
assert_contains "$out" "error no-such-uid"
echo "$out"
