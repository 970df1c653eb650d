#!/bin/bash
# Benchmark of issue 15 (item 4): one remediation pass of skpd over 1,096 open devices
# (SKP_BENCH_N to change), each with its own KEK, against a 2-node PyKMIP cluster on
# loopback, at no added latency and at 100 ms RTT (tests/kmip/faultproxy.py, 50 ms each
# way in front of each node):
#   (a) before: one Get Attributes per device, one after the other (skp as of the commit
#       before skp_provider_get_states, or SKP_BENCH_REF), built here from git;
#   (b) after: each provider's KEKs in batched Get Attributes over its nodes.
# Both are the same driver (tests/bench/remediation.c) linked with each tree's own skpd
# objects and libskp: skpd's health worker, its remediation and the real provider, TLS
# and KMIP.  The one stand-in is device-mapper (the host cannot load dm-skp): the devices
# are registered in skpd's device list as op_open does after loading a table, without a
# mapping; remediation reads nothing else.  The worker probes once first (connections up,
# versions negotiated, as a running skpd's probes leave them); then one pass is timed, from
# the request to the main thread applying the findings, with the request messages sent
# to the KMS meanwhile.  One run.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
after=$repo/build/test-bin/remediation-pass
N=${SKP_BENCH_N:-1096}
work=$(mktemp -d /tmp/skp-remediation-bench.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -f "$work/kms.env" ] && "$repo/tests/kms/stop" "$work/kms"
	rm -rf "$work"
}
trap cleanup EXIT
[ -x "$after" ] || { echo "build it first (make daemon): $after" >&2; exit 1; }

ref=${SKP_BENCH_REF:-$(git -C "$repo" log --format=%H -S skp_provider_get_states -- daemon/lib/provider.h | tail -n 1)^}
echo "building the reference (before): $(git -C "$repo" log -1 --format='%h %s' "$ref") ..." >&2
mkdir "$work/old"
git -C "$repo" archive "$ref" | tar -x -C "$work/old"
"$repo/tests/bench/remediation-build" "$work/old" "$work/old/build" "$work/before" > /dev/null

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
echo "creating $N keys ..." >&2
/usr/bin/python3 "$repo/tests/bench/kmip-pykmip.py" 127.0.0.1 "$n0" "$SKP_KMS_CA" "$SKP_KMS_CERT" \
	"$SKP_KMS_KEY" create "$N" "rem-bench" > "$work/uids"
[ "$(wc -l < "$work/uids")" -eq "$N" ]
awk '{ printf "dev%04d corp %s\n", NR, $1 }' "$work/uids" > "$work/list"
conf() { # FILE SERVER...
	local f=$1 s
	shift
	printf '[skpd]\nskptab = %s/skptab\n\n[provider "corp"]\n' "$work" > "$f"
	for s in "$@"; do echo "server = $s" >> "$f"; done
	printf 'ca = %s\ncert = %s\nkey = %s\ndefault = true\ntimeout = 30\n' "$SKP_KMS_CA" "$SKP_KMS_CERT" \
		"$SKP_KMS_KEY" >> "$f"
}
conf "$work/c0" "127.0.0.1:$n0" "127.0.0.1:$n1"
conf "$work/c100" "127.0.0.1:$p0" "127.0.0.1:$p1"

# run DRIVER CONF: "SECONDS REQUESTS" of one pass; every device must be found usable.
run() {
	local out
	out=$("$1" "$2" "$work/list" 2> "$work/log")
	grep -q "^usable $N of $N\$" <<< "$out" || { echo "$out" | head; tail "$work/log"; exit 1; } >&2
	echo "$(sed -n 's/^pass //p' <<< "$out") $(sed -n 's/^requests //p' <<< "$out")"
}
echo "running ..." >&2
v=$(run "$after" "$work/c0"); read -r b0 rb0 <<< "$v"
v=$(run "$work/before" "$work/c0"); read -r a0 ra0 <<< "$v"
v=$(run "$after" "$work/c100"); read -r b100 rb100 <<< "$v"
v=$(run "$work/before" "$work/c100"); read -r a100 ra100 <<< "$v"
r() { echo "scale=1; $1 / $2" | bc; }
printf '\nOne remediation pass, %d open devices, %d KEKs, PyKMIP (2 nodes, loopback, one run)\n' "$N" "$N"
printf '%-40s %19s %19s\n' "skpd" "0 ms RTT" "100 ms RTT"
printf '%-40s %8.2fs %5d req %8.2fs %5d req\n' "(a) before: one Get Attributes each" "$a0" "$ra0" "$a100" "$ra100"
printf '%-40s %8.2fs %5d req %8.2fs %5d req\n' "(b) after: batched per provider" "$b0" "$rb0" "$b100" "$rb100"
printf '%-40s %18sx %18sx\n' "speed-up (a)/(b)" "$(r "$a0" "$b0")" "$(r "$a100" "$b100")"
printf 'goal at 100 ms RTT: under 2 s and a handful of requests\n'
