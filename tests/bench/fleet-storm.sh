#!/bin/bash
# vm-args: --kms 2 --disk 24G --mem 6144 --timeout 10800
# Fleet boot storm (issue 15): a datacenter power cut, every host reboots at once.  H hosts
# (default 32; SKP_FLEET_HOSTS) each with D devices (default 34; SKP_FLEET_DEVS), all in one
# guest: every host is a network namespace with its own skpd (socket, skptab, config),
# reaching the two KMS nodes through a veth pair with netem 50 ms each way (100 ms RTT;
# SKP_FLEET_DELAY_MS) and a counting relay per node (tests/bench/kmsrelay.py) on the KMS
# side.  The H x D devices are dm-linear slices of one disk, formatted first through
# SKP_FLEET_FMT_PAR skpd instances talking to the KMS directly.  Then every skpd starts at
# the same moment, and KMS node 1 (its PyKMIP server and its relay) is killed
# SKP_FLEET_KILL_AT seconds (default 5) after the first connection reached a KMS node.  Reported: time until every device
# is open (per host and all), failed operations (goal 0), KMIP requests per host (counted
# at the KMS side), the spread of the retries over time (no synchronised waves), and the
# KMS's own service time apart from skpd's own CPU time.  Run in the VM by tests/bench/run;
# a scaled-down run: SKP_FLEET_HOSTS=4 tests/vm/run --kms 2 --disk 4G --mem 3072
# --timeout 3600 -- bash tests/bench/fleet-storm.sh; to run the storm again without formatting,
# give a kept disk image and state directory (--disk IMG --state DIR, the same H x D).
set -euo pipefail
[ -n "${SKP_BENCH_BIN:-}" ] && PATH=$SKP_BENCH_BIN:$PATH
H=${SKP_FLEET_HOSTS:-32}
D=${SKP_FLEET_DEVS:-34}
KILL_AT=${SKP_FLEET_KILL_AT:-5}
DELAY_MS=${SKP_FLEET_DELAY_MS:-50}
PAR=${SKP_FLEET_FMT_PAR:-2}
STORM_TIMEOUT=${SKP_FLEET_STORM_TIMEOUT:-3600}
N=$((H * D))
SLICE_MIB=18		# header area (16 MiB) + 2 MiB of data
RELAY_PORT=7000
here=$(cd "$(dirname "$0")" && pwd)
if ! [ "$H" -ge 1 ] || ! [ "$H" -le 250 ]; then echo "fleet-storm: SKP_FLEET_HOSTS must be 1..250" >&2; exit 2; fi
read -ra servers <<< "$SKP_KMS_SERVERS"
read -ra kms_pids <<< "$SKP_KMS_PIDS"
[ ${#servers[@]} -ge 2 ] || { echo "fleet-storm: needs 2 KMS nodes (--kms 2)" >&2; exit 2; }
size=$(blockdev --getsize64 /dev/vda)
[ "$size" -ge $((N * SLICE_MIB * 1048576)) ] ||
	{ echo "fleet-storm: /dev/vda holds $((size / 1048576)) MiB, $N slices need $((N * SLICE_MIB)) MiB" >&2; exit 2; }
W=$(mktemp -d /tmp/skp-fleet.XXXXXX)
. "$(dirname "$0")/slices.sh"
bench_pki "$W"
pids=()
cleanup() {
	local p h
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for h in $(seq 0 $((H - 1))); do ip netns del "f$h" 2>/dev/null || true; done
}
trap cleanup EXIT

for m in veth sch_netem; do
	modprobe "$m" || { echo "fleet-storm: modprobe $m failed (the guest kernel's modules come from the host's /lib/modules)" >&2; exit 1; }
done

conf() { # FILE SOCKET SKPTAB SERVER...
	local f=$1 s=$2 t=$3 x
	shift 3
	printf '[skpd]\nsocket = %s\nskptab = %s\n' "$s" "$t" > "$f"
	printf '[provider "corp-kms"]\n' >> "$f"
	for x in "$@"; do echo "server = $x" >> "$f"; done
	printf 'ca = %s/pki/ca.pem\ncert = %s/pki/a.pem\nkey = %s/pki/a.key\ndefault = true\n' "$W" "$W" "$W" >> "$f"
}

echo "fleet-storm: $H hosts x $D devices = $N devices of $SLICE_MIB MiB (dm-linear slices of /dev/vda)," \
	"2 KMS nodes, ${DELAY_MS} ms each way, node 1 killed ${KILL_AT} s after the first KMS connection"
t0=$(date +%s)
make_slices "$N" "$SLICE_MIB"
echo "  $N slices in $(( $(date +%s) - t0 )) s"

# Format: each device its own KEK, through PAR skpd at once, straight to the KMS.
t0=$(date +%s)
for k in $(seq 0 $((PAR - 1))); do
	conf "$W/fmt$k.conf" "$W/fmt$k.sock" "$W/fmt.skptab" "${servers[$((k % ${#servers[@]}))]}"
	: > "$W/fmt.skptab"
	skpd --config "$W/fmt$k.conf" > "$W/fmt$k.log" 2>&1 &
	pids+=($!)
done
for k in $(seq 0 $((PAR - 1))); do wait_sock "$W/fmt$k.sock" || { cat "$W/fmt$k.log"; exit 1; }; done
# A disk image and a KMS database kept from an earlier run with as many devices (--disk
# IMG --state DIR; H x D the same) are formatted already: formatting is most of a run's time.
mark=${SKP_VM_STATE:+$SKP_VM_STATE/fleet-formatted}
if [ -n "$mark" ] && [ "$(cat "$mark" 2>/dev/null)" = "$N" ]; then
	echo "  formatted by an earlier run ($mark)"
	for k in $(seq 0 $((PAR - 1))); do
		for i in $(seq "$k" "$PAR" $((N - 1))); do echo "formatted /dev/mapper/s$i"; done > "$W/fmt$k.out"
	done
else
	[ -z "$mark" ] || rm -f "$mark"
	format_slices "$N" "$PAR" "$W"
fi
# The kernel's first table load of the target sets up its cipher (algorithm lookup, self
# tests: seconds under TCG); a real host did that long before its skpd started.
t1=$(date +%s.%N)
skpctl open /dev/mapper/s0 warmup --socket "$W/fmt0.sock" > /dev/null
skpctl close warmup --socket "$W/fmt0.sock" > /dev/null
echo "  first table load (kernel warm-up, not in the storm): $(echo "$(date +%s.%N) - $t1" | bc) s"
for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
pids=()
nf=$(cat "$W"/fmt*.out | grep -c '^formatted /dev/mapper/s' || true)
[ "$nf" = "$N" ] || { echo "FAILED: $nf of $N formatted"; tail -3 "$W"/fmt*.log; exit 1; }
echo "  formatted $N devices in $(( $(date +%s) - t0 )) s ($PAR skpd in parallel)"
[ -z "$mark" ] || echo "$N" > "$mark"

# The KMS side: a counting relay per node on every address of this (root) namespace.
for k in 0 1; do
	/usr/bin/python3 "$here/kmsrelay.py" --listen "0.0.0.0:$((RELAY_PORT + k))" --target "${servers[k]}" \
		--node "$k" --log "$W/relay$k.log" > "$W/relay$k.ready" 2>"$W/relay$k.err" &
	pids+=($!)
	relay_pids[k]=$!
done
for k in 0 1; do
	for _ in $(seq 1 300); do grep -q ready "$W/relay$k.ready" && break; sleep 0.1; done
	grep -q ready "$W/relay$k.ready" || { echo "FAILED: relay $k did not start"; cat "$W/relay$k.err"; exit 1; }
done

# The hosts: a namespace each, its veth pair delayed both ways, "localhost" (the name in the
# KMS's certificate) resolving to the KMS side of its pair (ip netns exec binds
# /etc/netns/NAME/hosts over /etc/hosts).
t0=$(date +%s)
for h in $(seq 0 $((H - 1))); do
	ip netns add "f$h"
	ip link add "vf$h" type veth peer name eth0 netns "f$h"
	ip addr add "10.201.$h.1/24" dev "vf$h"
	ip link set "vf$h" up
	ip -n "f$h" addr add "10.201.$h.2/24" dev eth0
	ip -n "f$h" link set eth0 up
	ip -n "f$h" link set lo up
	ip -n "f$h" route add default via "10.201.$h.1"
	tc qdisc add dev "vf$h" root netem delay "${DELAY_MS}ms" limit 100000
	tc -n "f$h" qdisc add dev eth0 root netem delay "${DELAY_MS}ms" limit 100000
	mkdir -p "/etc/netns/f$h" "$W/h$h"
	echo "10.201.$h.1 localhost" > "/etc/netns/f$h/hosts"
	for j in $(seq 0 $((D - 1))); do echo "h${h}d$j /dev/mapper/s$((h * D + j)) -"; done > "$W/h$h/skptab"
	conf "$W/h$h/skpd.conf" "$W/h$h/skpd.sock" "$W/h$h/skptab" "localhost:$RELAY_PORT" "localhost:$((RELAY_PORT + 1))"
done
# A TCP connect is one round trip.
rtt=$(ip netns exec f0 /usr/bin/python3 -c 'import socket, sys, time
t = time.monotonic(); socket.create_connection(("10.201.0.1", int(sys.argv[1])), 5).close()
print("%.0f" % ((time.monotonic() - t) * 1000))' "$RELAY_PORT")
echo "  $H namespaces in $(( $(date +%s) - t0 )) s; TCP connect host 0 -> KMS side: $rtt ms"

# The storm: every skpd is started by the same release; READY=1 timed per host.
/usr/bin/python3 "$here/fleet-storm.py" storm "$W" "$H" "$D" "$KILL_AT" "$STORM_TIMEOUT" "${kms_pids[1]}" \
	"${relay_pids[1]}" "${kms_pids[0]}"
if [ -n "${SKP_FLEET_VERBOSE:-}" ]; then	# the raw material, host 0's and the relays'
	cat "$W/storm.json"; echo; cat "$W/h0/skpd.log"; cat "$W"/relay*.log
fi
mapfile -t spids < <(/usr/bin/python3 -c 'import json,sys; print("\n".join(str(p) for p in json.load(open(sys.argv[1]))["pids"]))' "$W/storm.json")
pids+=("${spids[@]}")
opened=$(dmsetup ls | grep -c '^h[0-9]*d[0-9]*[[:space:]]' || true)

rc=0
/usr/bin/python3 "$here/fleet-storm.py" report "$W" "$H" "$D" "$opened" || rc=1
# The raw material, for another look at it on the host (tests/vm/run --state DIR).
if [ -n "${SKP_VM_STATE:-}" ]; then
	mkdir -p "$SKP_VM_STATE/fleet-storm"
	cp "$W"/storm.json "$W"/relay*.log "$SKP_VM_STATE/fleet-storm/"
	for h in $(seq 0 $((H - 1))); do
		mkdir -p "$SKP_VM_STATE/fleet-storm/h$h"
		cp "$W/h$h/skpd.log" "$W/h$h/skptab" "$W/h$h/skpd.conf" "$SKP_VM_STATE/fleet-storm/h$h/"
	done
	echo "  raw data in $SKP_VM_STATE/fleet-storm (fleet-storm.py report DIR $H $D $opened)"
fi
[ "$rc" = 0 ] || exit 1
echo "fleet-storm: done"
