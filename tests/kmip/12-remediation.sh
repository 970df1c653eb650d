#!/bin/bash
# skpd's remediation pass against PyKMIP (build/test-bin/remediation-pass: skpd's own
# objects, the devices registered without a mapping): the KEKs' States in batched Get
# Attributes, each KEK asked once (a copy shares one), and each device's finding: a
# revoked KEK and a missing one fail alone.
source "$(dirname "$0")/lib.inc" 1
drv=${SKP_REMEDIATION_PASS:-$repo/build/test-bin/remediation-pass}
[ -x "$drv" ] || fail "$drv not built: run make daemon"
pyk create 10 "rem-$RANDOM" > "$work/uids"
revoked=$(sed -n 3p "$work/uids")
"${K[@]}" revoke "$revoked" -q
# PyKMIP's uids are 1, 2, ...: the missing one sorts amid them, not last in its batch.
{ echo "d-gone corp 5-no-such-key"
  n=0; while read -r u; do echo "d$n corp $u"; n=$((n + 1)); done < "$work/uids"
  echo "d0copy corp $(head -n 1 "$work/uids")"; } > "$work/list"
{ printf '[skpd]\nskptab = %s/skptab\n\n[provider "corp"]\n' "$work"
  for s in $SKP_KMS_SERVERS; do echo "server = $s"; done
  printf 'ca = %s\ncert = %s\nkey = %s\ndefault = true\n' "$SKP_KMS_CA" "$SKP_KMS_CERT" "$SKP_KMS_KEY"
} > "$work/skpd.conf"
count() { grep -c "Received request" "$SKP_KMS_DIR/server0.log" || true; }
before=$(count)
out=$("$drv" "$work/skpd.conf" "$work/list" 2> "$work/log") || { cat "$work/log"; fail "remediation pass: $out"; }
echo "$out"
# The keys after the missing one in the batch were answered too (the request asks PyKMIP
# to continue past a failed item; by default it stops there).
assert_contains "$out" "usable 10 of 12"
assert_contains "$out" "d2: KEK $revoked is Deactivated in the KMS, not Active"
assert_contains "$out" "d-gone: KEK check failed: Get Attributes failed: Item Not Found"
# 11 KEKs for 12 devices: one request (the old code sent 12).  The server saw it, besides
# the warm-up's negotiation and probe.
assert_contains "$out" "requests 1"
assert_eq "$(($(count) - before))" 3 "requests the server logged"
