#!/bin/bash
# Deep rekey of a mounted ext4 while fio writes and verifies: the rekey finishes online,
# every file checksum holds, fsck is clean, the ciphertext is dm-crypt's under the new key
# (compared through logon keys kept by the test-only SKP_TEST_KEEP_KEYS knob, never read
# back), the old DEK's slot is gone and the old key no longer decrypts the data.
. tests/lib/common.sh
. tests/system/lib/skp.sh

default_conf
SKPD=$SKPD_TEST	# SKP_TEST_KEEP_KEYS
SKP_TEST_KEEP_KEYS=1 start_skpd "$W/skpd.conf" "$W/skpd.log"

fresh /dev/vda
# 64 MiB: 48 MiB of data, 96 chunks of 512 KiB.
dmsetup create --noudevsync lower60 --table "0 131072 linear /dev/vda 0"
dmsetup mknodes
MAPPINGS+=(d60 cmp60 old60 lower60)
skpctl format /dev/mapper/lower60 --label deep "${C[@]}" > /dev/null
skpctl open /dev/mapper/lower60 d60 "${C[@]}" > /dev/null
mkfs.ext4 -q /dev/mapper/d60
M=$W/mnt; mkdir -p "$M"
mount /dev/mapper/d60 "$M"
for i in 1 2 3; do dd if=/dev/urandom of="$M/f$i" bs=1M count=6 status=none; done
sync
(cd "$M" && sha256sum f1 f2 f3) > "$W/sums"

fio --name=verify --filename="$M/fio.dat" --rw=randwrite --bs=4k --size=8M --loops=1000 --runtime=25 \
	--time_based --direct=1 --ioengine=psync --verify=crc32c --verify_backlog=64 --verify_fatal=1 \
	--output="$W/fio.out" &
fio_pid=$!
sleep 2
# skpd's nice (field 19 of /proc/PID/stat), sampled while the rekey runs.
nice_of() { awk '{ print $19 }' "/proc/$SKPD_PID/stat"; }
( while :; do nice_of; sleep 0.02; done ) > "$W/nice.log" 2>/dev/null &
nice_pid=$!
out=$(skpctl rekey d60 --deep --chunk 512K "${C[@]}")
assert_contains "$out" "deep rekey of d60 started: DEK generation 1 -> 2"
# Progress is reported while it runs, and the socket answers between chunks.
st=$(skpctl rekey d60 --status "${C[@]}")
assert_contains "$st" "d60: state="
assert_contains "$(skpctl list "${C[@]}")" "deep"
expect_fail skpctl rekey d60 --deep "${C[@]}"
assert_contains "$out" "already in progress"
expect_fail skpctl rekey d60 --shallow "${C[@]}"
assert_contains "$out" "in progress"
skpctl rekey d60 --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out" "$W/skpd.log"; fail "rekey did not finish"; }
assert_contains "$(cat "$W/wait.out")" "state=done percent=100.0"
kill $nice_pid; wait $nice_pid 2>/dev/null || true
# Chunks run niced so that user I/O keeps priority; the rest of skpd does not.
grep -qx 10 "$W/nice.log" || fail "skpd never ran a chunk at nice 10: $(sort -u "$W/nice.log" | tr '\n' ' ')"
assert_eq "$(nice_of)" "0" "skpd's nice after the rekey"
kill -0 $fio_pid 2>/dev/null || fail "fio ended before the rekey did: the rekey did not run under I/O"
wait $fio_pid || { cat "$W/fio.out"; fail "fio verify failed during the deep rekey"; }
grep -q "err= 0" "$W/fio.out" || { cat "$W/fio.out"; fail "fio reported errors"; }
(cd "$M" && sha256sum -c --quiet "$W/sums") || fail "file checksums changed"
[ "$(dmsetup status d60 | awk '{print $4}')" = 0 ] || fail "mapping still in two-key mode"
assert_contains "$(dmsetup table d60)" "skp aes-xts-plain64"
case "$(dmsetup table d60)" in *new_key*) fail "new_key left in the table";; esac
umount "$M"
fsck.ext4 -fn /dev/mapper/d60 > "$W/fsck.out" 2>&1 || { cat "$W/fsck.out"; fail "fsck after the deep rekey"; }

dump=$(skpctl dump /dev/mapper/lower60)
assert_contains "$dump" "generation:  2"
assert_contains "$dump" "slot 1:        empty" "slot 1 after the rekey"
assert_contains "$(skpctl list --json "${C[@]}")" '"dek_generation":2,"rekey_state":"done"'

# Ciphertext equality: dm-crypt under the new key reads the same plaintext from the same disk.
newd=$(sed -n 's/.*test: new key kept as logon:\(.*\)/\1/p' "$W/skpd.log" | tail -n 1)
oldd=$(sed -n 's/.*test: old key kept as logon:\(.*\)/\1/p' "$W/skpd.log" | head -n 1)
[ -n "$newd" ] && [ -n "$oldd" ] || { cat "$W/skpd.log"; fail "no kept key descriptions"; }
len=$(blockdev --getsz /dev/mapper/d60)
dmsetup create --noudevsync cmp60 --table "0 $len crypt aes-xts-plain64 :64:logon:$newd 0 /dev/mapper/lower60 32768 1 sector_size:4096"
dmsetup create --noudevsync old60 --table "0 $len crypt aes-xts-plain64 :64:logon:$oldd 0 /dev/mapper/lower60 32768 1 sector_size:4096"
dmsetup mknodes
a=$(dd if=/dev/mapper/d60 bs=1M iflag=direct status=none | sha256sum)
b=$(dd if=/dev/mapper/cmp60 bs=1M iflag=direct status=none | sha256sum)
c=$(dd if=/dev/mapper/old60 bs=1M iflag=direct status=none | sha256sum)
assert_eq "$b" "$a" "dm-crypt under the new key"
[ "$a" != "$c" ] || fail "the old key still decrypts the data"
dmsetup remove --noudevsync cmp60 old60
# Logs and status never carry key bytes (descriptions only).
! grep -qiE '[0-9a-f]{64}' "$W/skpd.log" || fail "hex key material in the log"
skpctl close d60 "${C[@]}" > /dev/null
dmsetup remove --noudevsync lower60
echo "ok"
