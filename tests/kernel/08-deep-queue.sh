#!/bin/bash
# One submitter with a deep queue on a device that completes synchronously (brd): the
# target moves some small bios' crypto to its workqueue and splits large ones over two
# CPUs.  fio writes and reads back (its verify phase) with libaio at queue depth 32, block sizes from 4 KiB to
# 1 MiB, on sector sizes 512 and 4096; afterwards dm-crypt with the same key reads the same
# plaintext from the same disk (nothing was written under a wrong IV or key).
. "$(dirname "$0")/lib.bash"

LEN=$((32 * 2048))
hex=$(new_key skp:dq)
for ss in 512 4096; do
	opts=""
	[ "$ss" = 512 ] || opts=" 1 sector_size:$ss"
	dm_create skp-dq "0 $LEN skp aes-xts-plain64 :64:logon:skp:dq 0 /dev/ram1 0$opts"
	# 4 KiB random writes, read back and verified at depth 32 (again in a verify-only run,
	# all reads), then mixed sizes from 4 KiB to 1 MiB.
	for job in "--rw=randwrite --bs=4k" "--rw=randwrite --bs=4k --verify_only=1" \
		"--rw=write --bsrange=4k-1m"; do
		# shellcheck disable=SC2086
		fio --name=dq --filename=/dev/mapper/skp-dq $job --iodepth=32 --ioengine=libaio \
			--direct=1 --size=32M --verify=crc32c --verify_fatal=1 --do_verify=1 \
			--output=/tmp/dq.fio > /dev/null 2>&1 ||
			{ cat /tmp/dq.fio; fail "fio $job at queue depth 32, sector size $ss"; }
		grep -q "err= 0" /tmp/dq.fio || { cat /tmp/dq.fio; fail "fio $job reported errors"; }
	done
	a=$(dd if=/dev/mapper/skp-dq bs=1M iflag=direct status=none | sha256sum)
	dm_remove skp-dq
	copts=""
	[ "$ss" = 512 ] || copts=" 1 sector_size:$ss"
	dm_create crypt-dq "0 $LEN crypt aes-xts-plain64 $hex 0 /dev/ram1 0$copts"
	b=$(dd if=/dev/mapper/crypt-dq bs=1M iflag=direct status=none | sha256sum)
	dm_remove crypt-dq
	assert_eq "$b" "$a" "dm-crypt reads what dm-skp wrote at depth 32 (sector size $ss)"
	SKP_DEVS=()	# both removed above; skp_cleanup (lib.bash) reads this
done
echo ok
