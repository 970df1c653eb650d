#!/bin/bash
# KMS nodes that never answer must not stall skpd (issue 11, item 11): one accepts TCP and
# never answers the TLS handshake, one has a name whose DNS server drops every query.  With
# a 6 s timeout and a health check every second, a probe of them holds its thread for
# 6 s at a time; the control socket must answer all along, and an operation must go to
# the live node (the probes marked the dead ones) and finish.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
BH_PIDS=()
start_blackhole() { # tcp|udp HOST:PORT
	local fifo=$W/bh.$RANDOM line
	mkfifo "$fifo"
	/usr/bin/python3 tests/lib/blackhole.py "$1" "$2" > "$fifo" 2>&1 &
	BH_PIDS+=($!)
	read -r -t 10 line < "$fifo" || true
	rm -f "$fifo"
	[ "$line" = ready ] || fail "blackhole $2 did not start: $line"
}
cleanup57() {
	skp_cleanup
	kill "${BH_PIDS[@]}" 2>/dev/null || true
	# The guest's own resolv.conf (the host's is under the bind mount, untouched).
	umount /etc/resolv.conf 2>/dev/null || true
}
trap cleanup57 EXIT
dns=127.0.0.$((100 + RANDOM % 100))
start_blackhole udp "$dns:53"
printf 'nameserver %s\noptions timeout:30 attempts:1\n' "$dns" > "$W/resolv.conf"
mount --bind "$W/resolv.conf" /etc/resolv.conf
tcp=$((30000 + RANDOM % 20000))
start_blackhole tcp "127.0.0.1:$tcp"
name=kms-blackhole.skp.test

HEALTH_INTERVAL=1 REMEDIATION_INTERVAL=1 write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "127.0.0.1:$tcp" "$name:5696" "${servers[0]}" |
	sed 's/^timeout = .*/timeout = 6/' >> "$W/skpd.conf"
start_skpd "$W/skpd.conf" "$W/skpd.log"

# The control socket answers while probes wait on the dead nodes (each takes 6 s).
for i in $(seq 1 20); do
	rc=0
	timeout 3 skpctl status "${C[@]}" > "$W/status.out" 2>&1 || rc=$?
	[ "$rc" != 124 ] || fail "skpctl status got no answer in 3 s (round $i): skpd is stalled"
	sleep 0.5
done
# By now the probes have come back: both dead nodes are failing, the live one is ok.
for _ in $(seq 1 60); do
	skpctl status "${C[@]}" > "$W/status.out" 2>&1 || true
	grep -q "node $name:5696: failing" "$W/status.out" && grep -q "node 127.0.0.1:$tcp: failing" "$W/status.out" &&
		break
	sleep 1
done
cat "$W/status.out"
assert_contains "$(cat "$W/status.out")" "node 127.0.0.1:$tcp: failing"
assert_contains "$(cat "$W/status.out")" "timed out during TLS handshake"
assert_contains "$(cat "$W/status.out")" "name resolution timed out"
assert_contains "$(cat "$W/status.out")" "node ${servers[0]}: ok"

# Operations go to the live node first now, and remediation (every second) leaves them be.
fresh /dev/vda
MAPPINGS+=(bh)
timeout 15 skpctl format /dev/vda "${C[@]}" > /dev/null || fail "format did not finish in 15 s"
timeout 15 skpctl open /dev/vda bh "${C[@]}" || fail "open did not finish in 15 s"
dd if=/dev/urandom of=/dev/mapper/bh bs=1M count=2 oflag=direct status=none
for _ in $(seq 1 10); do
	timeout 3 skpctl list "${C[@]}" > /dev/null || fail "list got no answer in 3 s"
	sleep 0.3
done
timeout 15 skpctl close bh "${C[@]}"
echo ok
