#!/bin/bash
# Benchmark of issue 4: fetch 1,096 KEKs from a 2-node PyKMIP cluster on loopback,
#   (a) PyKMIP's own Python client, sequential Gets over one connection (node 1),
#   (b) skp (skpctl kms get-batch): batched Gets spread over both nodes,
# at no added latency and at 100 ms RTT (tests/kmip/faultproxy.py adds 50 ms each way
# in front of each node).  Wall-clock time of each whole command (start-up, connect,
# TLS handshakes included), all figures from one run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
skpctl=$repo/build/bin/skpctl
N=${KMIP_BENCH_KEYS:-1096}
work=$(mktemp -d /tmp/skp-kmip-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$work/kms.env" ] && "$repo/tests/kms/stop" "$work/kms"
	rm -rf "$work"
}
trap cleanup EXIT
[ -x "$skpctl" ] || { echo "build skpctl first (make daemon)" >&2; exit 1; }
base=$((20000 + RANDOM % 20000))
"$repo/tests/kms/start" --dir "$work/kms" --port "$base" 2 > "$work/kms.env"
set -a; source "$work/kms.env"; set +a
n0=$base n1=$((base + 1)) p0=$((base + 2)) p1=$((base + 3))
for pair in "$p0:$n0" "$p1:$n1"; do
	fifo=$work/fifo.$RANDOM; mkfifo "$fifo"
	/usr/bin/python3 "$repo/tests/kmip/faultproxy.py" --listen "127.0.0.1:${pair%%:*}" \
		--target "127.0.0.1:${pair##*:}" --delay-ms 50 > "$fifo" &
	pids+=($!)
	read -r -t 10 line < "$fifo"; [ "$line" = ready ]
done
pyk() { /usr/bin/python3 "$repo/tests/bench/kmip-pykmip.py" 127.0.0.1 "$1" "$SKP_KMS_CA" \
	"$SKP_KMS_CERT" "$SKP_KMS_KEY" "${@:2}"; }
echo "creating $N keys ..." >&2
pyk "$n0" create "$N" bench > "$work/uids"
[ "$(wc -l < "$work/uids")" -eq "$N" ]

now() { date +%s.%N; }
run_a() { local t=$(now); pyk "$1" get "$work/uids" > "$work/a.out"; grep -q "^$N keys" "$work/a.out"
	echo "$(now) - $t" | bc; }
run_b() { local t=$(now)
	"$skpctl" kms --server "127.0.0.1:$1" --server "127.0.0.1:$2" --ca "$SKP_KMS_CA" \
		--cert "$SKP_KMS_CERT" --key "$SKP_KMS_KEY" --timeout 30 get-batch "$work/uids" > "$work/b.out"
	grep -q "^fetched $N of $N keys" "$work/b.out" || { cat "$work/b.out" >&2; exit 1; }
	echo "$(now) - $t" | bc; }

echo "running ..." >&2
a0=$(run_a "$n0"); b0=$(run_b "$n0" "$n1")
b100=$(run_b "$p0" "$p1"); a100=$(run_a "$p0")
r() { echo "scale=1; $1 / $2" | bc; }
printf '\nFetch %d KEKs from PyKMIP (2 nodes, loopback, one run)\n' "$N"
printf '%-44s %10s %10s\n' "client" "0 ms RTT" "100 ms RTT"
printf '%-44s %9.2fs %9.2fs\n' "(a) PyKMIP client, sequential, 1 connection" "$a0" "$a100"
printf '%-44s %9.2fs %9.2fs\n' "(b) skp, batched over 2 nodes" "$b0" "$b100"
printf '%-44s %9sx %9sx\n' "speed-up (a)/(b)" "$(r "$a0" "$b0")" "$(r "$a100" "$b100")"
printf 'skp at 100 ms RTT minus skp at 0 ms: %.2f s (goal < 1 s); goal at 100 ms: >= 20x\n' \
	"$(echo "$b100 - $b0" | bc)"
