#!/bin/bash
# dm-skp benchmark, run inside the test VM (tests/vm/run ... -- tests/bench/kernel.sh):
# fio direct I/O on a brd ramdisk through dm-linear, dm-crypt (default and
# no_read_workqueue,no_write_workqueue,sector_size:4096), dm-skp (512 and 4096) and dm-skp
# while a reencrypt sweep runs.  Prints one table, MB/s and the ratio to dm-crypt default.
# TCG speed drifts by +-20% over minutes, so the configurations take turns for
# SKP_BENCH_ROUNDS rounds (default 3) and each cell is the median of its rounds.
# Knobs: SKP_BENCH_RUNTIME (s per fio run, default 3), SKP_BENCH_MB (default 64),
# SKP_BENCH_CONFIGS (names of the columns to run, crypt-default always kept as the
# reference) and SKP_BENCH_ONLY (a regex on the workload names), for focused A/B runs.
set -euo pipefail
RUNTIME=${SKP_BENCH_RUNTIME:-3}
ROUNDS=${SKP_BENCH_ROUNDS:-3}
MB=${SKP_BENCH_MB:-64}
LEN=$((MB * 2048))
DEV=/dev/ram0
NAME=skp-bench

keyctl new_session >/dev/null
KEYHEX=$(head -c 64 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
printf '%s' "$KEYHEX" | xxd -r -p | keyctl padd logon skp:bench @s >/dev/null
NEWHEX=$(head -c 64 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
printf '%s' "$NEWHEX" | xxd -r -p | keyctl padd logon skp:bench-new @s >/dev/null
dd if=/dev/urandom of=$DEV bs=1M count="$MB" status=none	# allocate the ramdisk pages

cleanup() {
	[ -n "${sweep_pid:-}" ] && kill "$sweep_pid" 2>/dev/null || true
	dmsetup remove --noudevsync $NAME 2>/dev/null || true
	keyctl clear @s 2>/dev/null || true
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

declare -A BW
swept_total=0 sweep_time=0
for ((round = 1; round <= ROUNDS; round++)); do
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
		# terse v3: field 7 = read KiB/s, field 48 = write KiB/s
		line=$(fio --name=b --filename=/dev/mapper/$NAME --rw="$rw" --bs="$bs" --iodepth="$qd" \
			--ioengine=libaio --direct=1 --size="${MB}M" --runtime="$RUNTIME" --time_based \
			--group_reporting --minimal --terse-version=3)
		kib=$(echo "$line" | awk -F';' -v rw="$rw" '{print (rw ~ /read/) ? $7 : $48}')
		BW[$c,$wname]+=" $(awk -v k="$kib" 'BEGIN{printf "%.1f", k * 1024 / 1e6}')"
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
median() { tr ' ' '\n' | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for k in "${!BW[@]}"; do BW[$k]=$(echo "${BW[$k]}" | median); done
[ "$sweep_time" -eq 0 ] ||
	SWEEP_RATE=$(awk -v s="$swept_total" -v t="$sweep_time" 'BEGIN{printf "%.1f", s * 512 / 1e6 / t}')

echo
echo "dm-skp benchmark: brd ${MB} MiB, fio direct libaio, ${RUNTIME} s per run, median of $ROUNDS rounds; MB/s (ratio to crypt-default)"
printf '%-18s' workload
for c in "${CONFIGS[@]}"; do printf '%20s' "$c"; done
echo
for w in "${WORKLOADS[@]}"; do
	read -r wname _ <<< "$w"
	printf '%-18s' "$wname"
	ref=${BW[crypt-default,$wname]}
	for c in "${CONFIGS[@]}"; do
		v=${BW[$c,$wname]}
		printf '%20s' "$v ($(awk -v v="$v" -v r="$ref" 'BEGIN{printf "%.2f", (r > 0 ? v / r : 0)}'))"
	done
	echo
done
[ -z "${SWEEP_RATE:-}" ] || echo "reencrypt sweep rate while fio ran on skp-sweep: ${SWEEP_RATE} MB/s"
