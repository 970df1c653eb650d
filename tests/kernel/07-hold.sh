#!/bin/bash
# "hold": user I/O to the held range waits (and only there) until the matching
# reencrypt, a release, a suspend or the timeout; the rewrite then sees the user's write;
# a reencrypt after an expired hold, or a hold a suspend dropped, is refused until the
# range is held again.
. "$(dirname "$0")/lib.bash"

LEN=8192	# 4 MiB
new_key skp:old > /dev/null
new_key skp:new > /dev/null
dm_create skp-hold "0 $LEN skp aes-xts-plain64 :64:logon:skp:old 0 /dev/ram3 0 2 new_key::64:logon:skp:new boundary:0"
dev=/dev/mapper/skp-hold
head -c $((LEN * 512)) /dev/urandom > /tmp/hold.data
dd if=/tmp/hold.data of=$dev bs=1M oflag=direct status=none || fail "initial write"

# started WRITE_PID: a direct write of 4 KiB at sector $1 from the pattern file.
start_write() {
	head -c 4096 /dev/urandom > "/tmp/hold.w$1"
	dd if="/tmp/hold.w$1" of=$dev bs=512 seek="$1" count=8 oflag=direct status=none &
	WRITE_PID=$!
}
still_running() { sleep "$2"; kill -0 "$1" 2>/dev/null; }

# 1. Held: a write into the range waits; a read and a write elsewhere do not.
dmsetup message skp-hold 0 hold 0 2048 || fail "hold 0 2048"
start_write 1024
still_running "$WRITE_PID" 2 || fail "a write into the held range completed"
timeout 5 dd if=$dev of=/dev/null bs=4096 skip=1000 count=1 iflag=direct status=none ||
	fail "a read outside the held range waited"
timeout 5 dd if=/dev/zero of=$dev bs=4096 seek=900 count=1 oflag=direct status=none ||
	fail "a write outside the held range waited"
dd if=/dev/zero bs=4096 count=1 status=none | dd of=/tmp/hold.data bs=4096 seek=900 conv=notrunc status=none

# 2. Refusals while held, each with its own message.
dmesg_mark
expect_fail dmsetup message skp-hold 0 hold 0 2048
dmesg_new | grep -q "hold: a range is already held" || fail "second hold: $(dmesg_new)"
expect_fail dmsetup message skp-hold 0 reencrypt 0 1024
dmesg_new | grep -q "the held range is 0+2048" || fail "mismatched reencrypt: $(dmesg_new)"
expect_fail dmsetup message skp-hold 0 release now
dmesg_new | grep -q "release: takes no argument" || fail "release with argument"

# 3. The matching reencrypt rewrites the range, releases it, and the waiting write lands.
dmsetup message skp-hold 0 reencrypt 0 2048 || fail "reencrypt 0 2048"
wait "$WRITE_PID" || fail "the held write failed"
dd if=/tmp/hold.w1024 of=/tmp/hold.data bs=512 seek=1024 conv=notrunc status=none
assert_eq "$(status_field skp-hold 1)" 2048 "boundary after reencrypt"

# 4. release drops a hold: the waiting write completes, the boundary stays.
dmsetup message skp-hold 0 hold 2048 2048 || fail "hold 2048 2048"
start_write 3000
still_running "$WRITE_PID" 1 || fail "a write into the second held range completed"
dmsetup message skp-hold 0 release || fail "release"
timeout 5 tail --pid="$WRITE_PID" -f /dev/null || fail "release did not free the write"
wait "$WRITE_PID" || fail "the released write failed"
dd if=/tmp/hold.w3000 of=/tmp/hold.data bs=512 seek=3000 conv=notrunc status=none
assert_eq "$(status_field skp-hold 1)" 2048 "boundary after release"

# 5. A suspend releases a hold at once (held bios would otherwise stall it).
dmsetup message skp-hold 0 hold 2048 2048 || fail "hold before suspend"
start_write 2048
still_running "$WRITE_PID" 1 || fail "write completed while held"
timeout 10 dmsetup suspend --noudevsync skp-hold || fail "suspend stalled on a hold"
dmsetup resume --noudevsync skp-hold
wait "$WRITE_PID" || fail "the write held across suspend failed"
dd if=/tmp/hold.w2048 of=/tmp/hold.data bs=512 seek=2048 conv=notrunc status=none
# The write landed after the holder recorded the range: an unheld reencrypt is refused.
dmesg_mark
expect_fail dmsetup message skp-hold 0 reencrypt 2048 2048
dmesg_new | grep -q "hold on this range was lost" || fail "reencrypt after a suspend dropped the hold: $(dmesg_new)"

# 6. A hold expires after DM_SKP_HOLD_TIMEOUT_SECS; the unheld reencrypt is then refused.
timeout_s=$(sed -n 's/^#define DM_SKP_HOLD_TIMEOUT_SECS[[:space:]]*\([0-9]*\)U.*/\1/p' uapi/linux/dm-skp.h)
[ -n "$timeout_s" ] || fail "no hold timeout in the uapi header"
dmsetup message skp-hold 0 hold 2048 2048 || fail "hold before expiry"
start_write 4000
sleep $((timeout_s + 3))
kill -0 "$WRITE_PID" 2>/dev/null && fail "the hold did not expire after ${timeout_s}s"
wait "$WRITE_PID" || fail "the write freed by expiry failed"
dd if=/tmp/hold.w4000 of=/tmp/hold.data bs=512 seek=4000 conv=notrunc status=none
dmesg | grep -q "hold of 2048+2048 expired" || fail "no expiry message"
dmesg_mark
rc=0; out=$(dmsetup message skp-hold 0 reencrypt 2048 2048 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "reencrypt after an expired hold succeeded"
dmesg_new | grep -q "hold on this range was lost" || fail "expired-hold message: $(dmesg_new)"
dmsetup message skp-hold 0 hold 2048 2048 || fail "hold again"
dmsetup message skp-hold 0 reencrypt 2048 2048 || fail "reencrypt after a new hold"
for s in 4096 6144; do
	dmsetup message skp-hold 0 reencrypt $s 2048 || fail "reencrypt $s"
done
assert_eq "$(status_field skp-hold 1)" "$LEN" "boundary at the end"

# Every byte, including the writes made during holds, reads back.
dd if=$dev of=/tmp/hold.back bs=1M iflag=direct status=none
cmp -s /tmp/hold.back /tmp/hold.data || fail "data differs after the held rewrites"
echo "hold: ok"
