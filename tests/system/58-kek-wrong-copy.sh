#!/bin/bash
# A KMS node that serves a wrong copy of a KEK (tests/kmip/ttlvproxy.py, mode wrong-key,
# in front of a real PyKMIP node).  The copy does not unwrap the header's DEK: skpd says
# so, naming the node, and fetches the KEK again from another node.  With no other node
# configured the open fails and nothing is mapped; once one is (skpctl reload), the open
# succeeds from it, the data is intact, and the wrong copy is gone from the cache (a
# second open is silent).
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
[ "${#servers[@]}" -ge 2 ] || fail "needs two KMS nodes"
write_conf "$W/good.conf" "$W/good.sock"
provider_section corp-kms a true "${servers[@]}" >> "$W/good.conf"
start_skpd "$W/good.conf" "$W/good.log"
G=(--socket "$W/good.sock")
fresh /dev/vda
skpctl format /dev/vda "${G[@]}" > /dev/null
MAPPINGS+=(p57)
skpctl open /dev/vda p57 "${G[@]}" > /dev/null
dd if=/dev/urandom of=/dev/mapper/p57 bs=1M count=2 oflag=direct status=none
want=$(sum_mib /dev/mapper/p57 2)
skpctl close p57 "${G[@]}" > /dev/null
stop_skpd "$SKPD_PID"

plog=$W/proxy.log
/usr/bin/python3 tests/kmip/ttlvproxy.py --listen 127.0.0.1:0 --target "${servers[0]}" \
	--pki "${SKP_KMS_CA%/*}" --mode wrong-key --log "$plog" > "$W/proxy.out" 2>> "$plog" &
proxy_pid=$!
trap 'kill $proxy_pid 2>/dev/null; skp_cleanup' EXIT
for _ in $(seq 1 100); do grep -q '^ready ' "$W/proxy.out" && break; sleep 0.1; done
bad=$(sed -n 's/^ready //p' "$W/proxy.out")
[ -n "$bad" ] || fail "ttlvproxy did not start: $(cat "$plog")"

# The wrong copy is all there is.
write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "$bad" >> "$W/skpd.conf"
start_skpd "$W/skpd.conf" "$W/skpd.log"
expect_fail skpctl open /dev/vda p57 "${C[@]}"
assert_contains "$out" "does not unwrap"
[ ! -e /dev/mapper/p57 ] || fail "a mapping was made with a wrong KEK"
assert_contains "$(cat "$W/skpd.log")" "(from node $bad) does not unwrap the DEK of the header"
grep -q 'wrong-key' "$plog" || fail "the proxy served no wrong key: $(cat "$plog")"

# A second node configured (the cache is kept across a reload): fetched again from it.
write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "$bad" "${servers[1]}" >> "$W/skpd.conf"
skpctl reload "${C[@]}" > /dev/null
skpctl open /dev/vda p57 "${C[@]}" > /dev/null || { cat "$W/skpd.log"; fail "open with a second node"; }
assert_contains "$(cat "$W/skpd.log")" "fetched again from node ${servers[1]} unwraps the DEK"
[ "$(sum_mib /dev/mapper/p57 2)" = "$want" ] || fail "data differs"
skpctl close p57 "${C[@]}" > /dev/null
# The good copy is the cached one now: no fetch, no warning.
n=$(grep -c 'does not unwrap' "$W/skpd.log")
skpctl open /dev/vda p57 "${C[@]}" > /dev/null || { cat "$W/skpd.log"; fail "open from the cache"; }
[ "$(grep -c 'does not unwrap' "$W/skpd.log")" = "$n" ] || fail "the cached KEK was still the wrong copy"
skpctl close p57 "${C[@]}" > /dev/null
echo "ok: a wrong KEK copy from $bad dropped; opened from ${servers[1]}"
