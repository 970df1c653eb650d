#!/bin/bash
# Interop with behaviours no PyKMIP default shows, made by tests/kmip/ttlvproxy.py from real
# PyKMIP answers (beside the real server, never instead of it): keys Active at Create, an
# Activate refused, Transparent key format, an extra or unnumbered batch item, an answer
# about another object, other key bytes, a Locate hit of another name, an enforced
# Username/Password.  What PyKMIP 0.10 does natively is used as is: it refuses the
# Activate of a key already Active (Permission Denied), and enforces ownership by client
# certificate (03-tls-identity.sh); it cannot create Active keys, refuse Activate by
# policy for skp's keys (their policy is "default", which policy files may not replace),
# answer another key format than the stored Raw, or check a request's credential.
# Each case runs on its own, so one failure does not hide the others; the proxy's log
# shows that each rewrite happened.  Last, the 01-operations flow through a forwarding
# proxy (on this test's KMS) checks the proxy itself.
source "$(dirname "$0")/lib.inc" 1

# The good node of a two-node provider is the proxied PyKMIP server itself, reached directly
# (a second server would only cost start-up time).
node=127.0.0.1:$base
TLS=(--ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY")
kms() { "$skpctl" kms "${TLS[@]}" "$@"; }
# The KMS as it is, unproxied.
direct() { kms --server "$node" "$@"; }
state() { direct attrs "$1" | sed -n 's/^state //p'; }
seen() { grep -q -- "$1" "$tproxy_log" || fail "no '$1' in the proxy's log: $(cat "$tproxy_log")"; }
# run CMD...: CMD's stdout in $out, stderr in $err, exit status in $rc.
run() {
	rc=0
	out=$("$@" 2> "$work/stderr") || rc=$?
	err=$(cat "$work/stderr")
}
# refused WHAT: the last run failed, printed no key, and said why.  (Runs expected to be
# refused take --retries 0: the proxy answers the same way every time.)
refused() {
	[ "$rc" -ne 0 ] || fail "$1 accepted: $out"
	case "$out" in *sha256*|*"fetched "[1-9]*) fail "$1: a key was delivered: $out" ;; esac
	[ -n "$err" ] || fail "$1 refused without a message"
	echo "$1 refused (exit $rc): $err"
}
# node_line ADDR: that node's line of --health in $out.
node_line() { grep "^node $1 " <<< "$out" || fail "no health line for $1: $out"; }
# from_good_node: the last run (--health, the proxy first, the node direct second) was
# served by the direct node and found the proxied one failing.
from_good_node() {
	assert_contains "$(node_line "$tproxy")" "healthy=0" "the rewritten answer was not a node failure"
	case "$(node_line "$node")" in *" ok=0 "*) fail "the good node served nothing: $out" ;; esac
}

kek=$(direct create-kek "interop-$RANDOM$RANDOM")
# Its fingerprint unproxied (01-operations checks skpctl's against PyKMIP's own client).
kek_fp=$(direct get "$kek" | sed -n 's/^sha256 //p')
[ ${#kek_fp} -eq 16 ] || fail "no fingerprint of $kek: '$kek_fp'"
for _ in 1 2 3 4; do direct create-kek "interop-batch-$RANDOM$RANDOM"; done > "$work/uids"

failed=()
# check NAME FUNCTION: one case, in a subshell of its own, which stops the proxies it
# started (the EXIT trap does not reach into subshells).
check() {
	# shellcheck disable=SC2034 # n0 is read by the trap
	local rc n0=${#proxies[@]} t0=$SECONDS
	echo "--- $1"
	set +e
	(
		trap 'for p in "${proxies[@]:n0}"; do kill "$p" 2>/dev/null; done' EXIT
		set -e
		"$2"
	)
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then echo "ok $1 ($((SECONDS - t0)) s)"; else echo "FAILED $1 ($((SECONDS - t0)) s)"; failed+=("$1"); fi
}

# create-kek when the KMS makes keys Active: PyKMIP then refuses skp's Activate
# (Permission Denied, its own answer); the key is Active, which is all skp needs.
active_on_create() {
	local name=aoc-$RANDOM$RANDOM
	start_ttlvproxy "$node" active-on-create
	run kms --server "$tproxy" create-kek "$name"
	[ "$rc" -eq 0 ] || fail "create-kek of a key Active at Create: $err"
	seen "rewrote active-on-create($out)"
	assert_eq "$(direct locate "$name")" "$out" "the key created"
	assert_eq "$(state "$out")" "Active (2)"
}

# The same with Activate refused outright: the key is Active anyway.
active_refuse_activate() {
	local name=aor-$RANDOM$RANDOM
	start_ttlvproxy "$node" active-on-create,refuse-activate
	run kms --server "$tproxy" create-kek "$name"
	[ "$rc" -eq 0 ] || fail "create-kek of an Active key, Activate refused: $err"
	seen "rewrote active-on-create($out)"
	assert_eq "$(direct locate "$name")" "$out" "the key created"
	assert_eq "$(state "$out")" "Active (2)"
}

# Activate refused and the key Pre-Active: a KEK that cannot be used, a clear failure that
# says which key and why.
refuse_preactive() {
	local name=rpa-$RANDOM$RANDOM uid
	start_ttlvproxy "$node" refuse-activate
	run kms --server "$tproxy" create-kek "$name"
	refused "create-kek with Activate refused"
	seen "rewrote refuse-activate"
	uid=$(direct locate "$name")
	assert_eq "$(state "$uid")" "Pre-Active (1)"
	assert_contains "$err" "Permission Denied"
	assert_contains "$err" "key $uid"
	assert_eq "$rc" 7 "exit code of a KEK the KMS refused to activate"
}

# A Transparent Symmetric Key is the same key: the same bytes as unproxied.
transparent() {
	start_ttlvproxy "$node" transparent
	run kms --server "$tproxy" get "$kek"
	[ "$rc" -eq 0 ] || fail "get of a Transparent Symmetric Key: $err"
	assert_contains "$out" "sha256 $kek_fp" "key differs from the Raw one"
	run kms --server "$tproxy" get-batch "$work/uids"
	[ "$rc" -eq 0 ] || fail "get-batch of Transparent Symmetric Keys: $out $err"
	assert_contains "$out" "fetched 4 of 4 keys"
	seen "rewrote transparent"
}

# One answer more than asked: refused, the good node serves instead.
extra_item() {
	start_ttlvproxy "$node" extra-item
	run kms --server "$tproxy" --retries 0 --protocol 1.4 get "$kek"
	refused "a Get answered with two batch items"
	seen "\[Get\] -> \[Success x2\] rewrote extra-item"
	run kms --server "$tproxy" --retries 0 get "$kek"
	refused "a Discover Versions answered with two batch items"
	run kms --server "$tproxy" --server "$node" --protocol 1.4 --health get "$kek"
	[ "$rc" -eq 0 ] || fail "get with an extra item from the proxy and the good node: $err"
	assert_contains "$out" "sha256 $kek_fp"
	from_good_node
}

# A batched answer without Unique Batch Item IDs cannot be matched to the keys asked.
unnumbered() {
	start_ttlvproxy "$node" unnumbered
	run kms --server "$tproxy" --retries 0 get-batch "$work/uids"
	refused "a batched answer without Unique Batch Item IDs"
	seen "rewrote unnumbered"
	run kms --server "$tproxy" --server "$node" --health get-batch "$work/uids"
	[ "$rc" -eq 0 ] || fail "get-batch, the proxy unnumbered and the good node: $out $err"
	assert_contains "$out" "fetched 4 of 4 keys"
	from_good_node
}

# An answer about another object is not an answer to the question.
wrong_uid() {
	start_ttlvproxy "$node" wrong-uid
	run kms --server "$tproxy" --retries 0 get "$kek"
	refused "a Get answered for another object"
	seen "\[Get\] -> \[Success\] rewrote wrong-uid($kek->"
	run kms --server "$tproxy" --retries 0 attrs "$kek"
	refused "a Get Attributes answered for another object"
	run kms --server "$tproxy" --retries 0 get-batch "$work/uids"
	refused "a batched Get answered for other objects"
	run kms --server "$tproxy" --server "$node" --health get "$kek"
	[ "$rc" -eq 0 ] || fail "get, the proxy answering for another object and the good node: $err"
	assert_contains "$out" "sha256 $kek_fp"
	from_good_node
	run kms --server "$tproxy" --server "$node" --health attrs "$kek"
	[ "$rc" -eq 0 ] || fail "attrs, the proxy answering for another object and the good node: $err"
	assert_contains "$out" "uid $kek"
	from_good_node
	run kms --server "$tproxy" --server "$node" --health get-batch "$work/uids"
	[ "$rc" -eq 0 ] || fail "get-batch, the proxy answering for other objects and the good node: $out $err"
	assert_contains "$out" "fetched 4 of 4 keys"
	from_good_node
}

# Other key bytes under the right UID: nothing in the KMIP answer can tell (the proxy is
# checked here); only the key's use can, as skpd's unwrap and header MAC do (vm-system).
wrong_key() {
	start_ttlvproxy "$node" wrong-key
	run kms --server "$tproxy" get "$kek"
	[ "$rc" -eq 0 ] || fail "get through wrong-key: $err"
	seen "rewrote wrong-key(32 bytes)"
	assert_contains "$out" "length 32 bytes"
	case "$out" in *"sha256 $kek_fp"*) fail "wrong-key delivered the real key" ;; esac
}

# start_relay MODE: tests/kmip/droprelay.py in front of the proxy $tproxy, losing the
# answer to (or the request of) the connection's first Create; sets $relay.
start_relay() {
	local fifo=$work/relay.$RANDOM line port
	port=$(free_port)
	relay_log=$work/relay.$RANDOM.log
	mkfifo "$fifo"
	/usr/bin/python3 "$repo/tests/kmip/droprelay.py" --listen "127.0.0.1:$port" --target "$tproxy" \
		--mode "$1" --log "$relay_log" --request 2 > "$fifo" 2>&1 &
	proxies+=($!)
	read -r -t 10 line < "$fifo" || true
	rm -f "$fifo"
	[ "$line" = ready ] || fail "relay did not start: $line"
	relay=127.0.0.1:$port
}

# create-kek whose Create outcome is unknown, recovered by Locate, the Locate answer
# carrying a Pre-Active decoy of another name: the key made is found (lost answer) or made
# once (lost request), never the decoy, which stays Pre-Active.
locate_extra() {
	local how=$1 name=le-$1-$RANDOM$RANDOM decoy
	decoy=$(direct create "decoy-$RANDOM$RANDOM")
	start_ttlvproxy "$node" locate-extra --other-uid "$decoy"
	start_relay "lose-$how"
	run kms --server "$relay" --timeout 5 create-kek "$name"
	grep -q "dropped $how" "$relay_log" || fail "no $how lost: $(cat "$relay_log")"
	seen "rewrote locate-extra(+$decoy)"
	[ "$out" != "$decoy" ] || fail "create-kek $name took the decoy $decoy"
	assert_eq "$(state "$decoy")" "Pre-Active (1)" "the decoy's state"
	[ "$rc" -eq 0 ] || fail "create-kek after a lost $how, Locate with a decoy: $err"
	assert_eq "$(direct locate "$name")" "$out" "the one key named $name"
	assert_eq "$(state "$out")" "Active (2)"
}
locate_extra_response() { locate_extra response; }
locate_extra_request() { locate_extra request; }

# Username/Password enforced beside PyKMIP (which ignores them): accepted when right, a
# clear refusal otherwise, the password never repeated.
credential() {
	local pw=pw-$RANDOM$RANDOM bad=bad-$RANDOM$RANDOM
	echo "$pw" > "$work/pw"
	echo "$bad" > "$work/bad"
	start_ttlvproxy "$node" "credential=skp-host-a:$pw"
	run kms --server "$tproxy" --username skp-host-a --password-file "$work/pw" create-kek "cred-$RANDOM"
	[ "$rc" -eq 0 ] || fail "create-kek with the right credential: $err"
	run kms --server "$tproxy" --username skp-host-a --password-file "$work/pw" get "$kek"
	[ "$rc" -eq 0 ] || fail "get with the right credential: $err"
	assert_contains "$out" "sha256 $kek_fp"
	! grep -q refused "$tproxy_log" || fail "a request refused: $(cat "$tproxy_log")"
	run kms --server "$tproxy" --retries 0 get "$kek"
	refused "no credential"
	assert_contains "$err" "Authentication Not Successful"
	assert_eq "$rc" 7 "exit code without the credential"
	run kms --server "$tproxy" --retries 0 --username skp-host-a --password-file "$work/bad" get "$kek"
	refused "a wrong password"
	assert_contains "$err" "Authentication Not Successful"
	assert_eq "$rc" 7 "exit code with a wrong password"
	case "$out$err" in *"$bad"*|*"$pw"*) fail "a password in the output: $out $err" ;; esac
	seen "refused: credential: wrong password"
}

# The proxy itself: its reader refuses malformed TTLV, and the whole 01-operations flow
# through forwarding proxies passes, every message read and re-encoded to the same bytes.
forwarding() {
	/usr/bin/python3 "$repo/tests/kmip/ttlvproxy.py" --self-test
	SKP_KMS_ENV=$work/kms.env SKP_KMIP_VIA_PROXY=$work/via.log bash "$repo/tests/kmip/01-operations.sh" \
		> "$work/01.out" 2>&1 ||
		fail "01-operations through the proxy: $(tail -n 5 "$work/01.out")"
	for op in "Discover Versions" Query Create Activate Get "Get Attributes" Locate Revoke Destroy; do
		grep -q "\[$op\] -> \[Success\]$" "$work/via.log" || fail "no $op forwarded: $(cat "$work/via.log")"
	done
	! grep -q "ERROR\|rewrote" "$work/via.log" || fail "forwarding proxy: $(grep "ERROR\|rewrote" "$work/via.log")"
}

check active-on-create active_on_create
check active-on-create,refuse-activate active_refuse_activate
check refuse-activate refuse_preactive
check transparent transparent
check extra-item extra_item
check unnumbered unnumbered
check wrong-uid wrong_uid
check wrong-key wrong_key
check locate-extra/lost-response locate_extra_response
check locate-extra/lost-request locate_extra_request
check credential credential
check forwarding forwarding
# No proxy met a request it could not read.
! grep -l ERROR "$work"/tproxy.*.log || fail "a proxy could not read a message (see above)"
[ ${#failed[@]} -eq 0 ] || fail "${#failed[@]} case(s) failed: ${failed[*]}"
echo "all interop cases ok"
