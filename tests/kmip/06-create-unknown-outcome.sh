#!/bin/bash
# A Create whose outcome is unknown is never retried blindly.  tests/kmip/droprelay.py sits
# between skpctl and PyKMIP node 0 (TLS stays end to end) and loses the response to the
# first Create (the key exists, the client cannot know) or the Create request itself (no
# key).  create-kek must then Locate the name and use the key found (activating it), or
# create it only if none exists: in the KMS exactly ONE key carries the name, and it is the
# uid printed.  A plain `create` (no recovery) must fail with "outcome unknown", never
# resend on its own.  skpctl negotiates the protocol (Discover Versions is each connection's
# first request), so the relay loses the connection's second message; a lost Discover
# Versions, before any Create was sent, is an ordinary failover (case 5).
source "$(dirname "$0")/lib.inc" 2

node0=127.0.0.1:$base node1=127.0.0.1:$((base + 1))
TLS=(--ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY")

# start_relay MODE LOG [REQUEST]: a fresh relay in front of node 0 that loses the REQUEST-th
# message of its first connection (default 2: the one after Discover Versions); sets
# $relay (HOST:PORT).
start_relay() {
	local fifo=$work/relay.$RANDOM line port
	port=$(free_port)
	mkfifo "$fifo"
	/usr/bin/python3 "$repo/tests/kmip/droprelay.py" --listen "127.0.0.1:$port" \
		--target "$node0" --mode "$1" --log "$2" --request "${3:-2}" > "$fifo" 2>&1 &
	proxies+=($!)
	read -r -t 10 line < "$fifo" || true
	rm -f "$fifo"
	[ "$line" = ready ] || fail "relay did not start: $line"
	relay=127.0.0.1:$port
}

# one_key NAME [UID]: exactly one key named NAME in the KMS (asked of node 1 directly,
# which shares node 0's database), equal to UID if given, Active, with that name.
one_key() {
	local found n attrs
	found=$("$skpctl" kms --server "$node1" "${TLS[@]}" locate "$1")
	n=$(printf '%s' "$found" | grep -c . || true)
	[ "$n" = 1 ] || fail "$n keys named $1 in the KMS (want exactly 1): $(echo $found)"
	[ -z "${2:-}" ] || assert_eq "$found" "$2" "uid returned vs key in the KMS"
	attrs=$("$skpctl" kms --server "$node1" "${TLS[@]}" attrs "$found")
	assert_contains "$attrs" "name $1"
	assert_contains "$attrs" "state Active (2)"
	assert_contains "$attrs" "length 256"
}

# Cross-check with PyKMIP's own client: Locate by name over node 0 directly.
pyk_count() {
	/usr/bin/python3 - "$base" "$SKP_KMS_CA" "$SKP_KMS_CERT" "$SKP_KMS_KEY" "$1" <<'PY'
import sys
from kmip.pie.client import ProxyKmipClient
from kmip.core import enums
from kmip.core.factories import attributes
port, ca, cert, key, name = sys.argv[1:]
c = ProxyKmipClient(hostname='127.0.0.1', port=int(port), cert=cert, key=key, ca=ca,
                    config_file='/dev/null')
with c:
    a = attributes.AttributeFactory().create_attribute(enums.AttributeType.NAME, name)
    print(len(c.locate(attributes=[a])))
PY
}

# 1. Response lost, one node: the retry goes through the relay again (a fresh
#    connection, relayed unchanged), Locates the Pre-Active key and activates it.
name=cu-resp-$RANDOM$RANDOM
start_relay lose-response "$work/relay1.log"
uid=$("$skpctl" kms --server "$relay" "${TLS[@]}" --timeout 5 create-kek "$name") ||
	fail "create-kek after a lost response failed"
cat "$work/relay1.log"
assert_contains "$(cat "$work/relay1.log")" "dropped response" "fault not injected"
[ -n "$uid" ] || fail "no uid printed"
one_key "$name" "$uid"
assert_eq "$(pyk_count "$name")" 1 "PyKMIP client: keys named $name"
echo "lost response, 1 node: $name -> $uid, one key"

# 2. Response lost, two nodes: the Locate goes to node 1 (node 0 is failing now) and finds
#    the key node 0 created in the shared database.
name=cu-resp2-$RANDOM$RANDOM
start_relay lose-response "$work/relay2.log"
out=$("$skpctl" kms --server "$relay" --server "$node1" "${TLS[@]}" --timeout 5 --health \
	create-kek "$name") || fail "create-kek (2 nodes) after a lost response failed"
cat "$work/relay2.log"
assert_contains "$(cat "$work/relay2.log")" "dropped response" "fault not injected"
uid=$(head -n 1 <<< "$out")
one_key "$name" "$uid"
echo "lost response, 2 nodes: $name -> $uid, one key"

# 3. Request lost: nothing was created; the Locate finds nothing and the key is created
#    once.
name=cu-req-$RANDOM$RANDOM
start_relay lose-request "$work/relay3.log"
uid=$("$skpctl" kms --server "$relay" "${TLS[@]}" --timeout 5 create-kek "$name") ||
	fail "create-kek after a lost request failed"
cat "$work/relay3.log"
assert_contains "$(cat "$work/relay3.log")" "dropped request" "fault not injected"
one_key "$name" "$uid"
echo "lost request: $name -> $uid, one key"

# 4. A plain Create (skp_provider_create: no Locate recovery) must not resend: it fails
#    with "outcome unknown" and the KMS holds the one key its lost answer was about (not
#    Active: nothing activated it).
name=cu-plain-$RANDOM$RANDOM
start_relay lose-response "$work/relay4.log"
expect_fail "$skpctl" kms --server "$relay" --server "$node1" "${TLS[@]}" --timeout 5 create "$name"
assert_contains "$out" "outcome unknown"
assert_contains "$(cat "$work/relay4.log")" "dropped response" "fault not injected"
assert_eq "$(pyk_count "$name")" 1 "plain create after a lost response: keys named $name"
echo "plain create: '$out', one key"

# 5. The response to Discover Versions lost: no Create was sent on that connection, so the
#    outcome is known (nothing): even a plain create goes on (a fresh connection) and
#    makes exactly one key.
name=cu-nego-$RANDOM$RANDOM
start_relay lose-response "$work/relay5.log" 1
uid=$("$skpctl" kms --server "$relay" "${TLS[@]}" --timeout 5 create "$name") ||
	fail "create after a lost Discover Versions answer failed"
assert_contains "$(cat "$work/relay5.log")" "dropped response" "fault not injected"
assert_eq "$(pyk_count "$name")" 1 "create after a lost negotiation: keys named $name"
echo "lost negotiation: $name -> $uid, one key"

