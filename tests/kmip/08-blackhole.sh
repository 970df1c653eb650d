#!/bin/bash
# Nodes that never answer cost an operation at most its timeout: one accepts TCP and never
# answers the TLS handshake, one has a name whose DNS server drops every query (getaddrinfo
# alone would wait resolv.conf's 30 s).  The operation fails over past either to the live
# node; with only the dead name it fails with a clear error, within its budget.
# A private mount namespace gives this test its own resolv.conf.  Entered before lib.inc
# starts the KMS, whose cleanup would not run after an exec.
if [ -z "${SKP_BLACKHOLE_NS:-}" ]; then
	SKP_BLACKHOLE_NS=1 exec unshare -m --propagation private "$0" "$@"
fi
source "$(dirname "$0")/lib.inc" 1
start_blackhole() { # tcp|udp HOST:PORT
	local fifo=$work/bh.$RANDOM line
	mkfifo "$fifo"
	/usr/bin/python3 "$repo/tests/lib/blackhole.py" "$1" "$2" > "$fifo" 2>&1 &
	proxies+=($!)
	read -r -t 10 line < "$fifo" || true
	rm -f "$fifo"
	[ "$line" = ready ] || fail "blackhole $2 did not start: $line"
}
dns=127.0.0.$((100 + RANDOM % 100))
start_blackhole udp "$dns:53"
printf 'nameserver %s\noptions timeout:30 attempts:1\n' "$dns" > "$work/resolv.conf"
mount --bind "$work/resolv.conf" /etc/resolv.conf
tcp=$(free_port)
start_blackhole tcp "127.0.0.1:$tcp"
name=kms-blackhole.skp.test

uid=$("${K[@]}" create-kek "bh-$RANDOM")
D=("$skpctl" kms --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --retries 0 --timeout 3)

# A dead node first: the operation gets past it (3 s of its 6 s budget) to the live one.
for dead in "127.0.0.1:$tcp" "$name:5696"; do
	out=$(timeout 20 "${D[@]}" --server "$dead" --server "127.0.0.1:$base" --health get "$uid") ||
		fail "get past the dead node $dead did not finish in 20 s: $out"
	assert_contains "$out" "length 32 bytes"
	assert_contains "$out" "node $dead healthy=0"
done
assert_contains "$(timeout 20 "${D[@]}" --server "127.0.0.1:$tcp" --server "127.0.0.1:$base" --health get "$uid")" \
	"timed out during TLS handshake"
# Only the name that never resolves: a clear error within the budget, not resolv.conf's 30 s.
start=$(date +%s)
out=$(timeout 20 "${D[@]}" --server "$name:5696" get "$uid" 2>&1) && fail "get succeeded without a KMS"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "name resolution held the operation: $out"
assert_contains "$out" "name resolution timed out"

# An address is not looked up, and a name that resolves still works (localhost, from /etc/hosts).
out=$(timeout 20 "${D[@]}" --server "localhost:$base" get "$uid") || fail "get by name: $out"
assert_contains "$out" "length 32 bytes"
echo "ok"
