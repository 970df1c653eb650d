#!/bin/bash
# Faults Debian's kernel cannot make, through the test build's hooks (make kernel-test):
# 1. bounce page allocations that fail under memory pressure: every write still lands
#    whole (the retry under the mutex rebuilds the whole bounce bio);
# 2. an asynchronous xts(aes) driver (cryptd, as a hardware accelerator would be): the
#    target does not use it from softirq, reports what it uses, and stays byte-exact;
# 3. a reencrypt, hold or key wipe delayed between its checks and its lock while a suspend
#    and a key wipe go by: nothing is written under a wiped key, nothing while suspended.
# The production build has none of these hooks.
. "$(dirname "$0")/lib.bash"

if modinfo -p "$SKP_KO" | grep -q '^test_'; then
	fail "the production dm-skp.ko has test parameters: $(modinfo -p "$SKP_KO")"
fi
use_test_module test_fail_nowait=3

LEN=$((32 * 2048))
hex=$(new_key skp:fi)
new_key skp:fi2 > /dev/null

# 1. Every third GFP_NOWAIT page fails: fio writes 4 KiB..1 MiB, verified on read-back,
#    then dm-crypt with the same key reads the same plaintext.
dm_create skp-fi "0 $LEN skp aes-xts-plain64 :64:logon:skp:fi 0 /dev/ram2 0"
dmesg_mark
for job in "--rw=randwrite --bsrange=4k-1m --iodepth=16" "--rw=write --bsrange=4k-1m --iodepth=1"; do
	# shellcheck disable=SC2086
	fio --name=fi --filename=/dev/mapper/skp-fi $job --ioengine=libaio --direct=1 --size=32M \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --output=/tmp/fi.fio > /dev/null 2>&1 ||
		{ cat /tmp/fi.fio; dmesg_new | tail -20; fail "fio $job with failing NOWAIT allocations"; }
	grep -q "err= 0" /tmp/fi.fio || { cat /tmp/fi.fio; fail "fio $job reported errors"; }
done
assert_eq "$(status_field skp-fi 6)" 0 "I/O errors with failing NOWAIT allocations"
a=$(dd if=/dev/mapper/skp-fi bs=1M iflag=direct status=none | sha256sum)
dm_remove skp-fi
dm_create crypt-fi "0 $LEN crypt aes-xts-plain64 $hex 0 /dev/ram2 0"
b=$(dd if=/dev/mapper/crypt-fi bs=1M iflag=direct status=none | sha256sum)
dm_remove crypt-fi
assert_eq "$a" "$b" "dm-crypt reads what dm-skp wrote under allocation failures"
echo 0 > /sys/module/dm_skp/parameters/test_fail_nowait

# 2. A fast tfm that completes asynchronously is set aside for the synchronous one.  On
#    null_blk with softirq completion, reads are decrypted in softirq, where waiting for
#    an asynchronous request is a "scheduling while atomic" BUG.
modprobe null_blk nr_devices=1 queue_mode=2 irqmode=1 memory_backed=1 gb=1 bs=512 ||
	fail "modprobe null_blk"
rmmod dm_skp
ko=$(. tests/vm/kver.sh && skp_test_module_path "$SKP_REPO" "$(uname -r)")
insmod "$ko" test_fast_driver="cryptd(__xts-aes-aesni)" || fail "insmod with test_fast_driver"
dmesg_mark
dm_create skp-fi "0 $LEN skp aes-xts-plain64 :64:logon:skp:fi 0 /dev/nullb0 0"
fio --name=fa --filename=/dev/mapper/skp-fi --rw=randwrite --bsrange=4k-256k --iodepth=16 \
	--ioengine=libaio --direct=1 --size=16M --verify=crc32c --verify_fatal=1 --do_verify=1 \
	--output=/tmp/fa.fio > /dev/null 2>&1 || { cat /tmp/fa.fio; fail "fio with the async driver set aside"; }
a=$(dd if=/dev/mapper/skp-fi bs=1M iflag=direct status=none | sha256sum)
dmesg_new | grep -q "cryptd(__xts-aes-aesni) completes asynchronously: using " ||
	fail "no report of the asynchronous driver set aside: $(dmesg_new)"
drv=$(dmsetup message skp-fi 0 driver) || fail "driver message"
case "$drv" in
*cryptd*) fail "the asynchronous driver is in use: $drv" ;;
"") fail "driver message answered nothing" ;;
esac
dm_remove skp-fi
dm_create crypt-fi "0 $LEN crypt aes-xts-plain64 $hex 0 /dev/nullb0 0"
b=$(dd if=/dev/mapper/crypt-fi bs=1M iflag=direct status=none | sha256sum)
dm_remove crypt-fi
assert_eq "$a" "$b" "dm-crypt reads what dm-skp wrote with the async driver set aside"
rmmod dm_skp
insmod "$ko" || fail "insmod $ko"
dm_create skp-fi "0 $LEN skp aes-xts-plain64 :64:logon:skp:fi 0 /dev/nullb0 0"
drv=$(dmsetup message skp-fi 0 driver) || fail "driver message"
echo "# crypto drivers (fast, any context): $drv"
[ "$(echo "$drv" | wc -w)" = 2 ] || fail "driver message: '$drv'"
dm_remove skp-fi

# 3. Messages stopped between their checks and their lock (test_message_gate) while a
#    suspend begins (it drops the hold; dm core lets the message finish before the suspend
#    completes) or a resume ends: a hold or reencrypt must not go on under a suspend, a key
#    wipe must not land on a resumed device.  The data still reads back.
P=/sys/module/dm_skp/parameters
# gated CMD...: run the message CMD in the background and wait until it is at the gate.
gated() {
	echo 1 > $P/test_message_gate
	"$@" > /tmp/fi.msg 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		[ "$(cat $P/test_messages_gated)" = 1 ] && return 0
		sleep 0.1
	done
	fail "$* never reached the gate"
}
ungate() { echo 0 > $P/test_message_gate; }
dm_create skp-fi "0 $LEN skp aes-xts-plain64 :64:logon:skp:fi 0 /dev/ram2 0 2 new_key::64:logon:skp:fi2 boundary:0"
head -c $((LEN * 512)) /dev/urandom > /tmp/fi.data
dd if=/tmp/fi.data of=/dev/mapper/skp-fi bs=1M oflag=direct status=none || fail "initial write"
for msg in "reencrypt 0 2048" "hold 0 2048"; do
	dmesg_mark
	# shellcheck disable=SC2086
	gated dmsetup message skp-fi 0 $msg
	n=$(cat $P/test_presuspends)
	dmsetup suspend --noudevsync skp-fi &
	spid=$!
	for _ in $(seq 300); do
		[ "$(cat $P/test_presuspends)" -gt "$n" ] && break
		sleep 0.1
	done
	[ "$(cat $P/test_presuspends)" -gt "$n" ] || fail "the suspend never began"
	ungate
	wait "$pid" && fail "$msg went on while the device was being suspended"
	wait "$spid" || fail "suspend during a gated $msg"
	dmesg_new | grep -q "${msg%% *}: the device is suspended" || fail "gated $msg: $(dmesg_new)"
	dmsetup resume --noudevsync skp-fi || fail "resume after a gated $msg"
	assert_eq "$(status_field skp-fi 1)" 0 "boundary after a refused $msg"
	cmp -s /dev/mapper/skp-fi /tmp/fi.data || fail "data changed by a gated $msg"
done
# A key wipe stopped at the gate while the device resumes: refused, keys intact.
dmsetup suspend --noudevsync skp-fi
gated dmsetup message skp-fi 0 key wipe
dmsetup resume --noudevsync skp-fi || fail "resume during a gated key wipe"
ungate
wait "$pid" && fail "a key wipe was accepted after the resume"
cmp -s /dev/mapper/skp-fi /tmp/fi.data || fail "data unreadable after a gated key wipe"
echo "fault injection: ok"
