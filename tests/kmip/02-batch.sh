#!/bin/bash
# 500 Gets in one request message (one exchange) against one PyKMIP node.
source "$(dirname "$0")/lib.inc" 1

pyk create 500 "batch-$RANDOM" > "$work/uids"
assert_eq "$(wc -l < "$work/uids")" 500 "keys created"
count() { grep -c "$1" "$SKP_KMS_DIR/server0.log" || true; }
before=$(count "Received request") dv=$(count "Processing operation: DiscoverVersions")
out=$("${K[@]}" get-batch "$work/uids")
assert_contains "$out" "fetched 500 of 500 keys"
# Two messages: the connection's Discover Versions (protocol negotiated) and the batch.
assert_eq "$(($(count "Received request") - before))" 2 "number of request messages for 500 Gets"
assert_eq "$(($(count "Processing operation: DiscoverVersions") - dv))" 1 "negotiations"
# A batch mixing good and unknown UIDs: a result per item, the bad one named, the keys
# after it fetched too (the request asks PyKMIP to continue past a failed item).
{ echo no-such-uid; head -n 3 "$work/uids"; } > "$work/mixed"
expect_fail "${K[@]}" get-batch "$work/mixed"
assert_contains "$out" "fetched 3 of 4 keys"
assert_contains "$out" "error no-such-uid"
echo "$out"
