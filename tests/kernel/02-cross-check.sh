#!/bin/bash
# Random data through dm-skp gives the ciphertext of dm-crypt aes-xts-plain64 and of an
# independent AES-XTS (OpenSSL through /usr/bin/python3 cryptography), for sector sizes
# 512 and 4096, with and without iv_large_sectors, with non-zero iv_offset and offset.
. "$(dirname "$0")/lib.bash"

MB=8
LEN=$((MB * 2048))
key=$(new_key skp:cc)
head -c $((MB << 20)) /dev/urandom > /tmp/cc.plain
"$PY" -c 'import cryptography' || fail "/usr/bin/python3 has no cryptography"

# sector_size iv_large iv_offset offset
configs=("512 0 0 0" "512 0 123 17" "4096 0 0 0" "4096 0 4096 2048" "4096 1 0 8" "4096 1 800 24")
for c in "${configs[@]}"; do
	read -r ss large ivoff off <<< "$c"
	opts=()
	[ "$ss" != 512 ] && opts+=("sector_size:$ss")
	[ "$large" = 1 ] && opts+=(iv_large_sectors)
	optstr=
	[ ${#opts[@]} -gt 0 ] && optstr=" ${#opts[@]} ${opts[*]}"
	dd if=/dev/zero of=/dev/ram0 bs=1M count=$((MB + 2)) status=none
	dd if=/dev/zero of=/dev/ram1 bs=1M count=$((MB + 2)) status=none
	dm_create skp-cc "0 $LEN skp aes-xts-plain64 :64:logon:skp:cc $ivoff /dev/ram0 $off$optstr"
	dm_create crypt-cc "0 $LEN crypt aes-xts-plain64 :64:logon:skp:cc $ivoff /dev/ram1 $off$optstr"
	dd if=/tmp/cc.plain of=/dev/mapper/skp-cc bs=1M oflag=direct status=none
	dd if=/tmp/cc.plain of=/dev/mapper/crypt-cc bs=1M oflag=direct status=none
	dd if=/dev/ram0 of=/tmp/cc.skp bs=512 skip="$off" count="$LEN" status=none
	dd if=/dev/ram1 of=/tmp/cc.crypt bs=512 skip="$off" count="$LEN" status=none
	cmp -s /tmp/cc.skp /tmp/cc.crypt || fail "[$c] ciphertext differs from dm-crypt"
	cmp -s /tmp/cc.skp /tmp/cc.plain && fail "[$c] ciphertext is the plaintext"
	# the first MiB against OpenSSL, at a sector that is not the first
	dd if=/tmp/cc.plain bs=4096 skip=256 count=256 status=none |
		"$PY" tests/kernel/xts.py "$key" "$ss" "$large" "$ivoff" 2048 > /tmp/cc.py
	dd if=/tmp/cc.skp bs=4096 skip=256 count=256 status=none | cmp -s - /tmp/cc.py ||
		fail "[$c] ciphertext differs from python cryptography"
	# and back: dm-crypt's ciphertext read through dm-skp
	dm_remove crypt-cc
	dm_remove skp-cc
	dm_create skp-cc "0 $LEN skp aes-xts-plain64 :64:logon:skp:cc $ivoff /dev/ram1 $off$optstr"
	cmp -s /dev/mapper/skp-cc /tmp/cc.plain || fail "[$c] dm-crypt data does not read back through dm-skp"
	dm_remove skp-cc
	echo "ok: sector_size=$ss iv_large_sectors=$large iv_offset=$ivoff offset=$off"
done
# An unaligned write is refused (-EIO, block layer or target), never written partly.
dm_create skp-cc "0 $LEN skp aes-xts-plain64 :64:logon:skp:cc 0 /dev/ram0 0 1 sector_size:4096"
before=$(dd if=/dev/ram0 bs=4096 count=2 status=none | md5sum)
expect_fail dd if=/tmp/cc.plain of=/dev/mapper/skp-cc bs=512 seek=1 count=1 oflag=direct status=none
after=$(dd if=/dev/ram0 bs=4096 count=2 status=none | md5sum)
assert_eq "$after" "$before" "misaligned write changed the device"
dm_remove skp-cc
rm -f /tmp/cc.*
