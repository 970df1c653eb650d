#!/bin/bash
# Deep rekey robustness: skpd SIGKILLed mid-rekey (a new skpd adopts the live mapping from
# the kernel's boundary and finishes); the KMS stopped mid-rekey (keys are in memory, it
# finishes); pause survives a daemon restart and a close/open; erased, put-back and forged
# progress records, and a header backup from mid-rekey restored after the rekey finished,
# are refused with a clear message and nothing written, and the device opens with its data
# once the right records or header are back.
. tests/lib/common.sh
. tests/system/lib/skp.sh

default_conf
boundary() { dmsetup status d62 | awk '{print $4}'; }
fresh /dev/vdb
dmsetup create --noudevsync lower62 --table "0 65536 linear /dev/vdb 0"
dmsetup mknodes
MAPPINGS+=(d62 lower62)
start_skpd "$W/skpd.conf" "$W/skpd1.log"
skpctl format /dev/mapper/lower62 "${C[@]}" > /dev/null
skpctl open /dev/mapper/lower62 d62 "${C[@]}" > /dev/null
dd if=/dev/urandom of=/dev/mapper/d62 bs=1M count=16 oflag=direct status=none
want=$(sum_mib /dev/mapper/d62 16)

# 1. skpd SIGKILLed mid-rekey: the mapping lives on; a new skpd adopts it and finishes.
skpctl rekey d62 --deep --chunk 256K --rate 4 "${C[@]}" > /dev/null
sleep 1.5
kill -9 "$SKPD_PID"; wait "$SKPD_PID" 2>/dev/null || true
b=$(boundary)
[ "$b" -gt 0 ] && [ "$b" -lt 32768 ] || fail "kill was not mid-rekey (boundary $b)"
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data with no skpd mid-rekey"
start_skpd "$W/skpd.conf" "$W/skpd2.log"
out=$(skpctl open /dev/mapper/lower62 d62 "${C[@]}")
assert_contains "$out" "adopted"
skpctl rekey d62 --status --wait "${C[@]}" > /dev/null || { cat "$W/skpd2.log"; fail "adopted rekey did not finish"; }
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data after adoption"
assert_contains "$(skpctl dump /dev/mapper/lower62)" "generation:  2"

# 2. KMS gone mid-rekey: the rekey holds both DEKs and finishes without it.
skpctl rekey d62 --deep --chunk 256K --rate 4 "${C[@]}" > /dev/null
sleep 1
tests/kms/stop "$SKP_KMS_DIR"
skpctl rekey d62 --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out"; fail "rekey did not finish without the KMS"; }
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data after a rekey without KMS"
assert_contains "$(skpctl dump /dev/mapper/lower62)" "generation:  3"
restart_node $(seq 0 $(($(echo "$SKP_KMS_SERVERS" | wc -w) - 1)))

# 3. Pause, daemon restart (adopts, still paused), close/open (still paused), resume.
skpctl rekey d62 --deep --chunk 256K --rate 4 "${C[@]}" > /dev/null
sleep 1
assert_contains "$(skpctl rekey d62 --pause "${C[@]}")" "paused"
b=$(boundary); sleep 1.5
assert_eq "$(boundary)" "$b" "boundary moved while paused"
stop_skpd "$SKPD_PID"
start_skpd "$W/skpd.conf" "$W/skpd3.log"
assert_contains "$(skpctl open /dev/mapper/lower62 d62 "${C[@]}")" "paused"
assert_contains "$(skpctl rekey d62 --status "${C[@]}")" "state=paused"
skpctl close d62 "${C[@]}" > /dev/null
assert_contains "$(skpctl open /dev/mapper/lower62 d62 "${C[@]}")" "paused"
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data while paused"
skpctl close d62 "${C[@]}" > /dev/null

L=/dev/mapper/lower62
# The whole device, to show that a refused open (or restore) wrote nothing.
devsum() { dd if=$L bs=1M iflag=direct status=none | sha256sum; }
# The two record slots: 1 MiB at 1 MiB (docs/on-disk-format.md).
save_records() { dd if=$L of="$1" bs=1M skip=1 count=1 iflag=direct status=none; }
put_records() { dd if="$1" of=$L bs=1M seek=1 count=1 oflag=direct conv=notrunc status=none; }
refused() { # what: open must fail and write nothing, and leave no mapping
	local before
	before=$(devsum)
	expect_fail skpctl open $L d62 "${C[@]}"
	echo "$1: $out"
	[ ! -e /dev/mapper/d62 ] || fail "$1: mapping created"
	assert_eq "$(devsum)" "$before" "$1: open wrote to the device after refusing it"
}
skpctl header backup $L "$W/mid.hdr" > /dev/null

# 4. Both records' magic zeroed (closed device, paused rekey): refused, not "no rekey yet"
# (which would restart at sector 0 and re-encrypt new data with the old key).
save_records "$W/records"
for off in $((1 << 20)) $((3 << 19)); do
	dd if=/dev/zero of=$L bs=8 count=1 seek=$((off / 8)) conv=notrunc,fsync status=none
done
refused "records erased"
assert_contains "$out" "both progress records are missing"
put_records "$W/records"
assert_contains "$(skpctl open $L d62 "${C[@]}")" "paused"
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data with the records put back"

# 5. An older authentic pair of records put back in both slots (the boundary moved on since):
# this skpd remembers the newest record it wrote and refuses.
save_records "$W/older"
b=$(boundary)
skpctl rekey d62 --resume "${C[@]}" > /dev/null
sleep 1.5
skpctl rekey d62 --pause "${C[@]}" > /dev/null
[ "$(boundary)" -gt "$b" ] || fail "the rekey did not move on ($b)"
skpctl close d62 "${C[@]}" > /dev/null
save_records "$W/records"
put_records "$W/older"
refused "older records put back"
assert_contains "$out" "records were put back"
put_records "$W/records"
assert_contains "$(skpctl open $L d62 "${C[@]}")" "paused"
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data with the current records"
skpctl close d62 "${C[@]}" > /dev/null

# 6. Forged records: the boundary moved in both slots; open refuses and writes nothing.
# (Every other field and the samples: tests/unit/test-reencrypt.)
flip_boundaries() {
	/usr/bin/python3 - $L <<'PY'
import sys
f = open(sys.argv[1], "r+b")
base = 1 << 20
for slot, off in ((0, 72), (1, 72)):   # the boundary field of both records
    f.seek(base + slot * 512 * 1024 + off)
    b = f.read(1)
    f.seek(base + slot * 512 * 1024 + off)
    f.write(bytes([b[0] ^ 0x10]))
f.close()
PY
}
flip_boundaries
refused "forged records"
assert_contains "$out" "not authentic"
flip_boundaries

# 7. The header backup taken mid-rekey, restored after the rekey finished (its records are
# gone, the data is under the new key): restore refuses it; forced, open refuses it; the
# current header put back, the device opens with its data.
skpctl open $L d62 "${C[@]}" > /dev/null
skpctl rekey d62 --resume "${C[@]}" > /dev/null
skpctl rekey d62 --status --wait "${C[@]}" > /dev/null || fail "the rekey did not finish"
skpctl close d62 "${C[@]}" > /dev/null
skpctl header backup $L "$W/done.hdr" > /dev/null
before=$(devsum)
expect_fail skpctl header restore $L "$W/mid.hdr"
echo "old header restored: $out"
assert_contains "$out" "older"
assert_eq "$(devsum)" "$before" "a refused restore wrote to the device"
skpctl header restore $L "$W/mid.hdr" --force > /dev/null 2>&1
refused "mid-rekey header after the rekey finished"
assert_contains "$out" "both progress records are missing"
skpctl header restore $L "$W/done.hdr" > /dev/null
skpctl open $L d62 "${C[@]}" > /dev/null
assert_eq "$(sum_mib /dev/mapper/d62 16)" "$want" "data with the current header back"
skpctl close d62 "${C[@]}" > /dev/null
echo "ok"
