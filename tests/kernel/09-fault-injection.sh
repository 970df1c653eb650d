#!/bin/bash
# Faults Debian's kernel cannot make, through the test build's hooks (make kernel-test):
# 1. bounce page allocations that fail under memory pressure: every write still lands
#    whole (the retry under the mutex rebuilds the whole bounce bio).
# The production build has none of these hooks.
. "$(dirname "$0")/lib.bash"

if modinfo -p "$SKP_KO" | grep -q '^test_'; then
	fail "the production dm-skp.ko has test parameters: $(modinfo -p "$SKP_KO")"
fi
use_test_module test_fail_nowait=3

LEN=$((32 * 2048))
hex=$(new_key skp:fi)

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

echo "fault injection: ok"
