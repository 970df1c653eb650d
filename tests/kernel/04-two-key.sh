#!/bin/bash
# Two-key mode under load: ext4 on the mapping, fio --verify running in it, the whole
# device re-encrypted through "reencrypt" messages; no I/O error, fsck clean, checksums
# equal, the rotation finished by a table reload, and the ciphertext then equals
# dm-crypt's under the new key.
. "$(dirname "$0")/lib.bash"

MB=64
LEN=$((MB * 2048))
CHUNK=4096
new_key skp:old > /dev/null
newhex=$(new_key skp:new)
dm_create skp-tk "0 $LEN skp aes-xts-plain64 :64:logon:skp:old 0 /dev/ram2 0"
mkfs.ext4 -q -F /dev/mapper/skp-tk || fail "mkfs.ext4"
mkdir -p /mnt/skp-tk
mount /dev/mapper/skp-tk /mnt/skp-tk || fail "mount"
for i in $(seq 1 8); do head -c $((1 << 20)) /dev/urandom > "/mnt/skp-tk/f$i"; done
(cd /mnt/skp-tk && sha256sum f* > /tmp/tk.sums)

# Start the rotation: reload with new_key and boundary 0, no unmount.
dmsetup suspend --noudevsync skp-tk
dmsetup load skp-tk --table "0 $LEN skp aes-xts-plain64 :64:logon:skp:old 0 /dev/ram2 0 2 new_key::64:logon:skp:new boundary:0" ||
	fail "load two-key table"
dmsetup resume --noudevsync skp-tk
assert_contains "$(dmsetup table skp-tk)" "new_key::64:logon:skp:new boundary:0"

# fio with verification, again and again while the sweep runs.
rm -f /tmp/tk.done /tmp/tk.fio
(
	runs=0
	while [ ! -e /tmp/tk.done ] || [ "$runs" -lt 2 ]; do
		fio --name=verify --directory=/mnt/skp-tk --size=8M --bs=4k --rw=randwrite \
			--ioengine=psync --direct=1 --verify=crc32c --verify_fatal=1 \
			--verify_backlog=64 --numjobs=2 --output=/tmp/tk.fio.last >/dev/null 2>&1 ||
			{ echo "fio failed on run $runs" >> /tmp/tk.fio; cat /tmp/tk.fio.last >> /tmp/tk.fio; exit 1; }
		runs=$((runs + 1))
	done
	echo "fio runs: $runs" >> /tmp/tk.fio
) &
fio_pid=$!
sleep 2

msgs=0
b=0
while [ "$b" -lt "$LEN" ]; do
	n=$((LEN - b < CHUNK ? LEN - b : CHUNK))
	dmsetup message skp-tk 0 reencrypt "$b" "$n" || fail "reencrypt $b $n"
	b2=$(status_field skp-tk 1)
	assert_eq "$b2" "$((b + n))" "boundary after reencrypt $b $n"
	b=$b2
	msgs=$((msgs + 1))
	sleep 0.2
done
touch /tmp/tk.done
wait "$fio_pid" || { cat /tmp/tk.fio; fail "fio reported an error during the sweep"; }
cat /tmp/tk.fio
status=$(dmsetup status skp-tk)
echo "status: $status"
assert_eq "$(status_field skp-tk 5)" "$LEN" "sectors re-encrypted"
assert_eq "$(status_field skp-tk 6)" "0" "I/O errors"
(cd /mnt/skp-tk && sha256sum --quiet -c /tmp/tk.sums) || fail "checksums differ after the sweep"

# Finish the rotation: the new key becomes <key>, still mounted.
dmsetup suspend --noudevsync skp-tk
dmsetup load skp-tk --table "0 $LEN skp aes-xts-plain64 :64:logon:skp:new 0 /dev/ram2 0" || fail "load final table"
dmsetup resume --noudevsync skp-tk
(cd /mnt/skp-tk && sha256sum --quiet -c /tmp/tk.sums) || fail "checksums differ after the reload"
umount /mnt/skp-tk
fsck.ext4 -fn /dev/mapper/skp-tk || fail "fsck after rotation"

# The ciphertext equals dm-crypt's under the new key.
dd if=/dev/mapper/skp-tk of=/tmp/tk.plain bs=1M iflag=direct status=none
dm_remove skp-tk
dd if=/dev/zero of=/dev/ram3 bs=1M count=$MB status=none
dm_create crypt-tk "0 $LEN crypt aes-xts-plain64 $newhex 0 /dev/ram3 0"
dd if=/tmp/tk.plain of=/dev/mapper/crypt-tk bs=1M oflag=direct status=none
dm_remove crypt-tk
cmp -n $((MB << 20)) /dev/ram2 /dev/ram3 || fail "ciphertext differs from dm-crypt under the new key"
echo "re-encrypted $LEN sectors in $msgs messages under fio load"
rm -f /tmp/tk.*
