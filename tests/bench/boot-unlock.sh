#!/bin/bash
# vm-args: --kms 2 --disk 20G --mem 3072 --timeout 5400
# Boot unlock (issue 5): N devices (default 1,096; SKP_BENCH_N to change) in skptab, each a
# dm-linear slice of one disk formatted with its own KEK; time from skpd start to READY=1
# (skptab read, every header scanned for UUID=, one batched KEK fetch per provider, N
# mappings loaded) against the 2-node KMS at 0 ms and at 100 ms RTT (netem on lo, 50 ms
# each way), and skpd's memory (VmRSS, VmLck) with N KEKs cached.  Run in the VM by
# tests/bench/run.
set -euo pipefail
# A frozen copy of the binaries, so a rebuild on the host during a long run changes nothing.
[ -n "${SKP_BENCH_BIN:-}" ] && PATH=$SKP_BENCH_BIN:$PATH
N=${SKP_BENCH_N:-1096}
SLICE_MIB=18		# header area (16 MiB) + 2 MiB of data: the smallest sensible device
PAR=2			# formatting skpd instances (one per KMS node); skpd is single-threaded
read -ra servers <<< "$SKP_KMS_SERVERS"
W=$(mktemp -d /tmp/skp-bench.XXXXXX)
. "$(dirname "$0")/slices.sh"
bench_pki "$W"
pids=()
cleanup() {
	local p
	tc qdisc del dev lo root 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT

conf() { # FILE SOCKET SERVER...
	local f=$1 s=$2 x
	shift 2
	printf '[skpd]\nsocket = %s\nskptab = %s/skptab\nhealth_interval = 3600\nremediation_interval = 86400\n' "$s" "$W" > "$f"
	printf '[provider "corp-kms"]\n' >> "$f"
	for x in "$@"; do echo "server = $x" >> "$f"; done
	printf 'ca = %s/pki/ca.pem\ncert = %s/pki/a.pem\nkey = %s/pki/a.key\ndefault = true\ntimeout = 30\n' "$W" "$W" "$W" >> "$f"
}

echo "boot-unlock: $N devices of $SLICE_MIB MiB (dm-linear slices of /dev/vda), KMS: ${#servers[@]} PyKMIP nodes"
t0=$(date +%s)
make_slices "$N" "$SLICE_MIB"
echo "  $N slices in $(( $(date +%s) - t0 )) s"

# Format: every device gets its own KEK (Create+Activate, then Get), PAR daemons at once.
t0=$(date +%s)
for k in $(seq 0 $((PAR - 1))); do
	conf "$W/fmt$k.conf" "$W/fmt$k.sock" "${servers[$((k % ${#servers[@]}))]}"
	skpd --config "$W/fmt$k.conf" > "$W/fmt$k.log" 2>&1 &
	pids+=($!)
done
for k in $(seq 0 $((PAR - 1))); do wait_sock "$W/fmt$k.sock" || { cat "$W/fmt$k.log"; exit 1; }; done
format_slices "$N" "$PAR" "$W"
for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
pids=()
echo "  formatted $N devices in $(( $(date +%s) - t0 )) s ($PAR skpd in parallel)"

cat "$W"/fmt*.out | sed -n 's|^formatted /dev/mapper/s\([0-9]*\): UUID \([0-9a-f-]*\),.*|d\1 UUID=\2|p' > "$W/skptab"
[ "$(wc -l < "$W/skptab")" = "$N" ] || { echo "FAILED: $(wc -l < "$W/skptab") of $N formatted"; exit 1; }

# One boot: skpd started by a NOTIFY_SOCKET listener that times start -> READY=1.
boot() { # label
	local label=$1 pid
	conf "$W/boot.conf" "$W/boot.sock" "${servers[@]}"
	/usr/bin/python3 - "$W/notify.sock" "$W/boot.conf" "$W/boot-$label.log" > "$W/ready" <<'PY'
import os, socket, subprocess, sys, time
path, conf, log = sys.argv[1:4]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(3000)
env = dict(os.environ, NOTIFY_SOCKET=path)
t0 = time.monotonic()
p = subprocess.Popen(["skpd", "--config", conf], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
while "READY=1" not in s.recv(4096).decode().split("\n"):
    pass
print("%d %.2f" % (p.pid, time.monotonic() - t0))
PY
	read -r pid secs < "$W/ready"
	pids+=("$pid")
	opened=$(ls /dev/mapper | grep -c '^d[0-9]*$' || true)
	rss=$(sed -n 's/^VmRSS: *//p' "/proc/$pid/status")
	lck=$(sed -n 's/^VmLck: *//p' "/proc/$pid/status")
	summary=$(grep -o 'skptab .*' "$W/boot-$label.log" | sed 's/^skptab [^:]*: //')
	printf '  %-10s start->READY %7.2f s  opened %5d  VmRSS %9s  VmLck %9s  (%s)\n' \
		"$label" "$secs" "$opened" "$rss" "$lck" "$summary"
	[ "$opened" = "$N" ] || { tail -5 "$W/boot-$label.log"; echo "FAILED: $opened of $N opened"; exit 1; }
	kill "$pid"; wait "$pid" 2>/dev/null || true
	pids=()
	for i in $(seq 0 $((N - 1))); do dmsetup remove --noudevsync "d$i"; done
}
boot "0ms-RTT"
tc qdisc add dev lo root netem delay 50ms
boot "100ms-RTT"
tc qdisc del dev lo root
echo "boot-unlock: done"
