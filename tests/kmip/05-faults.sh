#!/bin/bash
# Broken servers: one that accepts TCP and never answers (a timeout, not a hang) and
# one that closes in the middle of a message (a clear error); a hostile one whose strings
# carry terminal escapes and a fake log line (never printed raw).
source "$(dirname "$0")/lib.inc" 1

p=$(free_port); start_proxy "127.0.0.1:$p" --mode silent
start=$(date +%s%N)
expect_fail timeout 30 "$skpctl" kms --server "127.0.0.1:$p" --ca "$SKP_KMS_CA" \
	--cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 1 versions
ms=$(( ($(date +%s%N) - start) / 1000000 ))
assert_contains "$out" "timed out"
[ "$ms" -lt 5000 ] || fail "silent server: took $ms ms with --timeout 1"
echo "silent: $out ($ms ms)"

# A silent node in front of a good one: the good one answers within the budget.
out=$("$skpctl" kms --server "127.0.0.1:$p" --server "127.0.0.1:$base" --ca "$SKP_KMS_CA" \
	--cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 1 --health versions)
assert_contains "$out" "failovers 1"

# Mid-message close after the TLS handshake needs TLS: relay the handshake to PyKMIP?
# Simpler and stricter: a plain-TCP server that sends half a header and closes makes
# the TLS layer fail; a TLS server that does it is below.
p2=$(free_port); start_proxy "127.0.0.1:$p2" --mode close-mid
expect_fail "$skpctl" kms --server "127.0.0.1:$p2" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" \
	--key "$SKP_KMS_KEY" --timeout 2 versions
assert_contains "$out" "127.0.0.1:$p2"
echo "close-mid (plain): $out"

# TLS server (real certificate) that answers 12 bytes of a 264-byte response and closes.
p3=$(free_port)
fifo=$work/tlsfifo; mkfifo "$fifo"
/usr/bin/python3 "$repo/tests/kmip/tls-fault-server.py" "127.0.0.1:$p3" "$SKP_KMS_DIR/pki" > "$fifo" 2>&1 &
proxies+=($!)
read -r -t 10 line < "$fifo" || true
assert_eq "$line" ready "tls fault server"
expect_fail "$skpctl" kms --server "127.0.0.1:$p3" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" \
	--key "$SKP_KMS_KEY" --timeout 2 versions
assert_contains "$out" "closed"
assert_contains "$out" "reading response"
echo "close-mid (TLS): $out"

# A hostile KMS (tls-fault-server.py evil-strings): a Unique Identifier with control
# characters is refused, a Result Message or a Name is shown escaped.
p4=$(free_port)
fifo=$work/evilfifo; mkfifo "$fifo"
/usr/bin/python3 "$repo/tests/kmip/tls-fault-server.py" "127.0.0.1:$p4" "$SKP_KMS_DIR/pki" evil-strings \
	> "$fifo" 2>&1 &
proxies+=($!)
read -r -t 10 line < "$fifo" || true
assert_eq "$line" ready "evil strings server"
E=("$skpctl" kms --server "127.0.0.1:$p4" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 2)
raw_free() { # OUTPUT: no escape byte, no line that starts with the injected text
	case "$1" in *$'\e'* | *$'\n'"skpd[1]: FAKE"*) fail "raw control characters in: $(printf '%q' "$1")" ;; esac
}
expect_fail "${E[@]}" create evil
raw_free "$out"
assert_contains "$out" 'Unique Identifier'
assert_contains "$out" '7\x1b[2J\x1b[31m\x0askpd[1]: FAKE LOG LINE'
echo "evil uid: $out"
expect_fail "${E[@]}" get 7
raw_free "$out"
assert_contains "$out" 'no such key\x1b[2J\x1b[31m\x0askpd[1]: FAKE LOG LINE'
echo "evil message: $out"
out=$("${E[@]}" attrs 7 2>&1)
raw_free "$out"
assert_contains "$out" 'name kek\x1b[2J\x1b[31m\x0askpd[1]: FAKE LOG LINE'
echo "evil name: $out"

# Batched Gets connect to all the nodes of a round at once (skp_tls_connect_many): a
# silent node (handshake timeout) and a refusing one next to a good one, every key comes
# from the good one and both failures are recorded; all nodes refusing, a clear error.
pyk create 6 "fb-$RANDOM" > "$work/uids"
dead=$(free_port)
out=$("$skpctl" kms --server "127.0.0.1:$p" --server "127.0.0.1:$dead" --server "127.0.0.1:$base" \
	--ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 1 --health \
	get-batch "$work/uids")
echo "$out"
assert_contains "$out" "fetched 6 of 6 keys"
assert_contains "$out" "node 127.0.0.1:$p healthy=0"
assert_contains "$out" "timed out during TLS handshake"
assert_contains "$out" "node 127.0.0.1:$dead healthy=0"
assert_contains "$out" "Connection refused"
assert_contains "$out" "node 127.0.0.1:$base healthy=1"
assert_contains "$out" "failovers 2"
expect_fail "$skpctl" kms --server "127.0.0.1:$dead" --server "127.0.0.1:$((dead + 1))" \
	--ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 1 get-batch "$work/uids"
assert_contains "$out" "all 2 KMS node(s) failed"
assert_contains "$out" "Connection refused"
echo "batch, all refused: $out"
