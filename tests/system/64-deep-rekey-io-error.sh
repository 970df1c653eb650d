#!/bin/bash
# A chunk's rewrite fails half-way (the disk refuses writes to part of it: dm-flakey
# error_writes under the second half of a chunk, the first half written under the new key;
# on brd, which has no write cache, so skpd's flushes never reach dm-flakey):
# the kernel fences the chunk (its I/O fails instead of being decrypted with one key for
# both halves), the rekey stops with the error, resume repairs the chunk from its record
# and finishes; every byte reads back.  Once in the same skpd, once after skpd was killed
# while the chunk was fenced (the next skpd adopts the mapping with the fence).
. tests/lib/common.sh
. tests/system/lib/skp.sh

default_conf
fresh /dev/ram1
SECT=$((32768 + 8192))	# header area + 4 MiB of data: 16 chunks of 256 KiB
LINEAR="0 $SECT linear /dev/ram1 0"
dmsetup create --noudevsync lower64 --table "$LINEAR"
dmsetup mknodes
MAPPINGS+=(d64 lower64)
set_lower() { dmsetup suspend --noflush lower64; dmsetup load lower64 --table "$1"; dmsetup resume lower64; }

start_skpd "$W/skpd.conf" "$W/skpd.log"
skpctl format /dev/mapper/lower64 --label ioerr "${C[@]}" > /dev/null
skpctl open /dev/mapper/lower64 d64 "${C[@]}" > /dev/null
OFF=$(dmsetup table d64 | awk '{print $8}')
dd if=/dev/urandom of=/dev/mapper/d64 bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/d64 4)
below=$(dd if=/dev/mapper/d64 bs=4K count=384 iflag=direct status=none | sha256sum)
above=$(dd if=/dev/mapper/d64 bs=4K skip=448 iflag=direct status=none | sha256sum)

# Writes fail in the second half of chunk 6 (data sectors 3072..3583): 3328..3583.
BAD=$((OFF + 3328))
FLAKY="0 $BAD linear /dev/ram1 0
$BAD 256 flakey /dev/ram1 $BAD 0 1 1 error_writes
$((BAD + 256)) $((SECT - BAD - 256)) linear /dev/ram1 $((BAD + 256))"

# run_to_failure: start a deep rekey, wait until it stops on the error.
run_to_failure() {
	set_lower "$FLAKY"
	skpctl rekey d64 --deep --chunk 256K "${C[@]}" > /dev/null
	for _ in $(seq 1 300); do
		st=$(skpctl rekey d64 --status "${C[@]}" 2>&1 || true)
		case "$st" in *failed*|*stopped*|*error*) break ;; esac
		sleep 0.1
	done
	assert_contains "$(skpctl list --json "${C[@]}")" '"rekey_state":"failed"' "rekey state after the write error"
	status=$(dmsetup status d64)
	assert_eq "$(echo "$status" | awk '{print $4}')" 3072 "boundary at the failed chunk"
	assert_eq "$(echo "$status" | awk '{print $10}')" 512 "fenced sectors"
	# The fenced chunk refuses I/O; the rest reads back as written.
	expect_fail dd if=/dev/mapper/d64 of=/dev/null bs=4K skip=400 count=1 iflag=direct status=none
	assert_eq "$(dd if=/dev/mapper/d64 bs=4K count=384 iflag=direct status=none | sha256sum)" \
		"$below" "data below the fence (new key)"
	assert_eq "$(dd if=/dev/mapper/d64 bs=4K skip=448 iflag=direct status=none | sha256sum)" \
		"$above" "data above the fence (old key)"
	expect_fail dmsetup message d64 0 reencrypt 3072 512
	assert_contains "$(dmesg | tail -n 5)" "fenced" "kernel log names the fence"
	set_lower "$LINEAR"
}
check_data() {
	[ "$(sum_mib /dev/mapper/d64 4)" = "$want" ] || fail "data differs after the repaired chunk ($1)"
}

# 1. Same skpd: resume repairs the chunk.
run_to_failure
out=$(skpctl rekey d64 --resume "${C[@]}")
assert_contains "$out" "resumed"
skpctl rekey d64 --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out" "$W/skpd.log"; fail "rekey after the repair"; }
grep -q "fenced chunk at sector 3072 repaired, [1-9][0-9]* sector(s) rewritten" "$W/skpd.log" ||
	{ cat "$W/skpd.log"; fail "no repair of the half-written chunk logged"; }
check_data "same skpd"

# 2. skpd killed while the chunk is fenced: the next one adopts the fence, resume repairs.
run_to_failure
kill -9 "$SKPD_PID"; wait "$SKPD_PID" 2>/dev/null || true
start_skpd "$W/skpd.conf" "$W/skpd2.log"
out=$(skpctl open /dev/mapper/lower64 d64 "${C[@]}")
assert_contains "$out" "fenced"
skpctl rekey d64 --resume "${C[@]}" > /dev/null
skpctl rekey d64 --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out" "$W/skpd2.log"; fail "rekey after adoption"; }
check_data "adopted"
skpctl close d64 "${C[@]}" > /dev/null
dmsetup remove --noudevsync lower64
echo ok
