#!/bin/bash
# dm-skp benchmark, run inside the test VM (tests/vm/run ... -- tests/bench/kernel.sh):
# fio direct I/O on a brd ramdisk through dm-linear, dm-crypt (default and
# no_read_workqueue,no_write_workqueue,sector_size:4096), dm-skp (512 and 4096) and dm-skp
# while a reencrypt sweep runs.  Prints one table, MB/s and the ratio to dm-crypt default.
# The limit is measured in the same run: the kernel's own xts(aes) through AF_ALG, encrypt
# and decrypt, on one process and on one per vCPU, in 4 MiB requests (the two system calls
# and Python cost under 2% there: 64 KiB requests measured 56 MB/s, 1 MiB 62, 4 MiB 63).
# Each row's limit is the time of the crypto on every vCPU (decrypt for reads, encrypt for
# writes) plus the time of the copy alone (dm-linear, same row and round):
# 1/(1/crypto_allcpu + 1/dm_linear); beside each ratio the table prints the share of it.
# TCG speed drifts by +-20% over minutes, so the configurations take turns for
# SKP_BENCH_ROUNDS rounds (default 3), each round measures its own limit, and each cell is
# the median of its rounds: of the MB/s, and of the shares of each round's limit.
# Knobs: SKP_BENCH_RUNTIME (s per fio run, default 3), SKP_BENCH_MB (default 64),
# SKP_BENCH_CONFIGS (names of the columns to run, crypt-default always kept as the
# reference) and SKP_BENCH_ONLY (a regex on the workload names), for focused A/B runs.
set -euo pipefail
. "$(dirname "$0")/lib-kernel.sh"
RUNTIME=${SKP_BENCH_RUNTIME:-3}
ROUNDS=${SKP_BENCH_ROUNDS:-3}
MB=${SKP_BENCH_MB:-64}
LEN=$((MB * 2048))
DEV=/dev/ram0
NAME=skp-bench

keyctl new_session >/dev/null
KEYHEX=$(bench_key skp:bench)
bench_key skp:bench-new > /dev/null
dd if=/dev/urandom of=$DEV bs=1M count="$MB" status=none	# allocate the ramdisk pages

cleanup() {
	[ -n "${sweep_pid:-}" ] && kill "$sweep_pid" 2>/dev/null || true
	dmsetup remove --noudevsync $NAME 2>/dev/null || true
	keyctl clear @s 2>/dev/null || true
	xts_restore
}
trap cleanup EXIT

declare -A TABLE=(
	[dm-linear]="linear $DEV 0"
	[crypt-default]="crypt aes-xts-plain64 $KEYHEX 0 $DEV 0"
	[crypt-best]="crypt aes-xts-plain64 $KEYHEX 0 $DEV 0 3 no_read_workqueue no_write_workqueue sector_size:4096"
	[skp-512]="skp aes-xts-plain64 :64:logon:skp:bench 0 $DEV 0"
	[skp-4096]="skp aes-xts-plain64 :64:logon:skp:bench 0 $DEV 0 1 sector_size:4096"
	[skp-sweep]="skp aes-xts-plain64 :64:logon:skp:bench 0 $DEV 0 3 sector_size:4096 new_key::64:logon:skp:bench-new boundary:0"
)
CONFIGS=(dm-linear crypt-default crypt-best skp-512 skp-4096 skp-sweep)
if [ -n "${SKP_BENCH_CONFIGS:-}" ]; then
	for c in $SKP_BENCH_CONFIGS; do
		[ -n "${TABLE[$c]:-}" ] || { echo "bench: unknown config '$c'" >&2; exit 2; }
	done
	read -ra CONFIGS <<< "crypt-default ${SKP_BENCH_CONFIGS//crypt-default/}"
fi
# name rw bs iodepth
WORKLOADS=(
	"seqread-1M-qd1 read 1M 1" "seqread-1M-qd32 read 1M 32"
	"seqwrite-1M-qd1 write 1M 1" "seqwrite-1M-qd32 write 1M 32"
	"randread-4k-qd1 randread 4k 1" "randread-4k-qd32 randread 4k 32"
	"randwrite-4k-qd1 randwrite 4k 1" "randwrite-4k-qd32 randwrite 4k 32"
)
if [ -n "${SKP_BENCH_ONLY:-}" ]; then
	kept=()
	for w in "${WORKLOADS[@]}"; do [[ "${w%% *}" =~ $SKP_BENCH_ONLY ]] && kept+=("$w"); done
	[ ${#kept[@]} -gt 0 ] || { echo "bench: no workload matches '$SKP_BENCH_ONLY'" >&2; exit 2; }
	WORKLOADS=("${kept[@]}")
fi

# Re-encrypt the whole device over and over (reload with boundary 0 when done).
sweep() {
	local b n
	while :; do
		b=$(dmsetup status $NAME | awk '{print $4}')
		if [ "$b" -ge "$LEN" ]; then
			dmsetup suspend --noudevsync $NAME
			dmsetup load $NAME --table "0 $LEN ${TABLE[skp-sweep]}"
			dmsetup resume --noudevsync $NAME
			continue
		fi
		n=$((LEN - b < 8192 ? LEN - b : 8192))
		dmsetup message $NAME 0 reencrypt "$b" "$n"
		echo "$n" >> /tmp/bench.swept
	done
}

NCPU=$(nproc)
xts_setup

declare -A BW XTS
swept_total=0 sweep_time=0
for ((round = 1; round <= ROUNDS; round++)); do
for op in enc dec; do
	XTS[$op,1]+=" $(xts_speed $op 1 "$RUNTIME")"
	XTS[$op,all]+=" $(xts_speed $op "$NCPU" "$RUNTIME")"
done
for c in "${CONFIGS[@]}"; do
	dmsetup create --noudevsync $NAME --table "0 $LEN ${TABLE[$c]}"
	dmsetup mknodes $NAME
	sweep_pid=
	if [ "$c" = skp-sweep ]; then
		: > /tmp/bench.swept
		sweep &
		sweep_pid=$!
		start=$SECONDS
	fi
	for w in "${WORKLOADS[@]}"; do
		read -r wname rw bs qd <<< "$w"
		BW[$c,$wname]+=" $(fio_mbs /dev/mapper/$NAME "$rw" "$bs" "$qd" "$RUNTIME" "$MB")"
	done
	if [ -n "$sweep_pid" ]; then
		kill "$sweep_pid"; wait "$sweep_pid" 2>/dev/null || true
		sweep_pid=
		swept_total=$((swept_total + $(awk '{s += $1} END {print s + 0}' /tmp/bench.swept)))
		sweep_time=$((sweep_time + SECONDS - start))
		dmsetup resume --noudevsync $NAME 2>/dev/null || true
	fi
	dmsetup remove --noudevsync $NAME
done
done
# BW and XTS hold one value per round, in round order.
# per_round "a1 a2 .." "b1 b2 .." "c1 c2 ..": the median over rounds of the limit
# 1/(1/b + 1/c), or with a first list, of the share a/limit; nothing without dm-linear.
per_round() {
	[ -n "$3" ] || return 0
	awk -v a="$1" -v b="$2" -v c="$3" "$AWK_MEDIAN"'BEGIN {
		n = split(b, x, " "); split(c, l, " "); split(a, v, " ")
		for (i = 1; i <= n; i++) {
			lim = (x[i] > 0 && l[i] > 0) ? 1 / (1 / x[i] + 1 / l[i]) : 0
			m[i] = a == "" ? lim : (lim > 0 ? v[i] / lim : 0)
		}
		printf "%.3f", median(m, n)
	}'
}
[ "$sweep_time" -eq 0 ] ||
	SWEEP_RATE=$(awk -v s="$swept_total" -v t="$sweep_time" 'BEGIN{printf "%.1f", s * 512 / 1e6 / t}')

echo
echo "dm-skp benchmark: brd ${MB} MiB, fio direct libaio, ${RUNTIME} s per run, median of $ROUNDS rounds; MB/s (ratio to crypt-default, share of the limit)"
for op in enc dec; do
	echo "kernel xts(aes) $op via AF_ALG, 4 MiB requests: $(median "${XTS[$op,1]}") MB/s on 1 vCPU, $(median "${XTS[$op,all]}") MB/s on $NCPU"
done
printf '%-18s%10s' workload limit
for c in "${CONFIGS[@]}"; do printf '%24s' "$c"; done
echo
for w in "${WORKLOADS[@]}"; do
	read -r wname rw _ <<< "$w"
	printf '%-18s' "$wname"
	ref=$(median "${BW[crypt-default,$wname]}")
	op=enc
	[[ "$rw" != *read ]] || op=dec
	lin=${BW[dm-linear,$wname]:-}
	limit=$(per_round "" "${XTS[$op,all]}" "$lin")
	printf '%10s' "$(awk -v l="${limit:-0}" 'BEGIN{if (l > 0) printf "%.1f", l; else print "-"}')"
	for c in "${CONFIGS[@]}"; do
		v=$(median "${BW[$c,$wname]}")
		if [ "$c" = dm-linear ]; then
			cell="$v ($(awk -v v="$v" -v r="$ref" 'BEGIN{printf "%.2f", (r > 0 ? v / r : 0)}'))"
		else
			share=$(per_round "${BW[$c,$wname]}" "${XTS[$op,all]}" "$lin")
			cell=$(awk -v v="$v" -v r="$ref" -v s="${share:-0}" 'BEGIN{
				printf "%s (%.2f, %s)", v, (r > 0 ? v / r : 0),
					(s > 0 ? sprintf("%.0f%%", 100 * s) : "-")}')
		fi
		printf '%24s' "$cell"
	done
	echo
done
[ -z "${SWEEP_RATE:-}" ] || echo "reencrypt sweep rate while fio ran on skp-sweep: ${SWEEP_RATE} MB/s"
