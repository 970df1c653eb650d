#!/bin/bash
# Crash matrix for the deep rekey, in one boot: the device sits on a dm-linear "lower";
# at each point the lower is switched to the error target at once (nothing more reaches
# the disk, as a power cut), skpd is SIGKILLed and the mapping dropped; a fresh skpd then
# opens the device (recovery from the progress records), the rekey finishes, and the data
# must be exactly what was written.  Deterministic points use the test-only knob
# SKP_TEST_STOP_AT=<step>:<n> (skpd stops itself there); with SKP_CRASH_RANDOM=N (make
# check-all), N more cuts come at random times.  make check cuts here only where the
# power-cut matrix (tests/crash/matrix, vm-crash) does not: before the header names the
# rekey, and at steps midway; make check-all (SKP_CHECK_ALL) cuts at every point.
. tests/lib/common.sh
. tests/system/lib/skp.sh

default_conf
SKPD=$SKPD_TEST	# SKP_TEST_STOP_AT
fresh /dev/vdb
SECT=65536	# 32 MiB: 16 MiB of data, 64 chunks of 256 KiB
LOWER="0 $SECT linear /dev/vdb 0"
dmsetup create --noudevsync lower61 --table "$LOWER"
dmsetup mknodes
MAPPINGS+=(d61 lower61)

start_skpd "$W/skpd.conf" "$W/skpd0.log"
skpctl format /dev/mapper/lower61 --label crash "${C[@]}" > /dev/null
skpctl open /dev/mapper/lower61 d61 "${C[@]}" > /dev/null
dd if=/dev/urandom of=/dev/mapper/d61 bs=1M count=16 oflag=direct status=none
want=$(sum_mib /dev/mapper/d61 16)
skpctl close d61 "${C[@]}" > /dev/null
stop_skpd "$SKPD_PID"

stopped() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]; }
cut_power() {
	dmsetup suspend --noflush lower61
	dmsetup load lower61 --table "0 $SECT error"
	dmsetup resume lower61
	kill -9 "$SKPD_PID" 2>/dev/null || true
	wait "$SKPD_PID" 2>/dev/null || true
	dmsetup remove --noudevsync d61 2>/dev/null || dmsetup remove --noudevsync --force d61
	dmsetup suspend lower61 2>/dev/null || true
	dmsetup load lower61 --table "$LOWER"
	dmsetup resume lower61
}
# reopen LOG: fresh skpd, open (recovery), finish whatever rekey is pending, check the data.
reopen() {
	start_skpd "$W/skpd.conf" "$1"
	skpctl open /dev/mapper/lower61 d61 "${C[@]}" > "$W/open.out" || { cat "$W/open.out" "$1"; fail "open after the cut"; }
	if grep -q "deep rekey" "$W/open.out"; then
		skpctl rekey d61 --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out" "$1"; fail "recovered rekey did not finish"; }
	fi
	[ "$(sum_mib /dev/mapper/d61 16)" = "$want" ] || { cat "$W/open.out" "$1"; fail "data differs after recovery ($2)"; }
	skpctl close d61 "${C[@]}" > /dev/null
	stop_skpd "$SKPD_PID"
}

points=(first-records:1 newslot:1 record:1 record:6 chunk:1 chunk:9 record:33 chunk:40 record:64
	final-record:1 final-reload:1 final-header:1)
# The matrix's points here: each step's first and last occurrence (its record:256 is the
# last record, as record:64 is here).
in_matrix=" newslot:1 record:1 chunk:1 record:64 final-record:1 final-reload:1 final-header:1 "
n=0 recovered=0 expect=0
for point in "${points[@]}"; do
	[ -n "${SKP_CHECK_ALL:-}" ] || [[ "$in_matrix" != *" $point "* ]] || continue
	# Before the header names the rekey, or once it no longer does, there is none to resume.
	case "$point" in first-records:* | final-header:*) ;; *) expect=$((expect + 1)) ;; esac
	n=$((n + 1))
	SKP_TEST_STOP_AT=$point start_skpd "$W/skpd.conf" "$W/skpd-$n.log"
	skpctl open /dev/mapper/lower61 d61 "${C[@]}" > /dev/null
	skpctl rekey d61 --deep --chunk 256K "${C[@]}" > /dev/null 2>&1 &
	for _ in $(seq 1 300); do stopped "$SKPD_PID" && break; sleep 0.1; done
	stopped "$SKPD_PID" || { cat "$W/skpd-$n.log"; fail "skpd never reached $point"; }
	cut_power
	reopen "$W/skpd-$n-after.log" "$point"
	grep -q "interrupted deep rekey" "$W/skpd-$n-after.log" && recovered=$((recovered + 1))
	echo "# point $point: recovered"
done
for i in $(seq 1 "${SKP_CRASH_RANDOM:-0}"); do
	n=$((n + 1))
	start_skpd "$W/skpd.conf" "$W/skpd-$n.log"
	skpctl open /dev/mapper/lower61 d61 "${C[@]}" > /dev/null
	skpctl rekey d61 --deep --chunk 256K --rate 4 "${C[@]}" > /dev/null
	d=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.1 + r % 400 / 100 }')
	sleep "$d"
	cut_power
	reopen "$W/skpd-$n-after.log" "random $d s"
	echo "# random cut after $d s: recovered"
done
# The deterministic points in the header's rekey leave one the next open must resume.
[ "$recovered" -ge "$expect" ] || fail "only $recovered cuts left an interrupted rekey to recover, $expect expected"
start_skpd "$W/skpd.conf" "$W/skpd-end.log"
skpctl open /dev/mapper/lower61 d61 "${C[@]}" > /dev/null
assert_eq "$(sum_mib /dev/mapper/d61 16)" "$want" "data at the end"
dump=$(skpctl dump /dev/mapper/lower61)
assert_contains "$dump" "slot 1:        empty" "slot 1 at the end"
assert_contains "$dump" "format:        1.0" "header format at the end"
skpctl close d61 "${C[@]}" > /dev/null
dmsetup remove --noudevsync lower61
echo "ok ($n cuts)"
