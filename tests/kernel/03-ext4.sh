#!/bin/bash
# ext4 on dm-skp: a file tree written, fsck clean, every checksum equal after the mapping
# is removed and created again.
. "$(dirname "$0")/lib.bash"

LEN=$((96 * 2048))
new_key skp:fs > /dev/null
table="0 $LEN skp aes-xts-plain64 :64:logon:skp:fs 0 /dev/ram2 0 1 sector_size:4096"
dm_create skp-fs "$table"
mkfs.ext4 -q -F /dev/mapper/skp-fs || fail "mkfs.ext4"
mkdir -p /mnt/skp-fs
mount /dev/mapper/skp-fs /mnt/skp-fs || fail "mount"
for d in a b c d; do
	mkdir -p "/mnt/skp-fs/$d/sub"
	for i in $(seq 1 20); do
		head -c $((RANDOM * 3 + i)) /dev/urandom > "/mnt/skp-fs/$d/f$i"
	done
	head -c $((4 << 20)) /dev/urandom > "/mnt/skp-fs/$d/sub/big"
done
cp -a /usr/share/doc/dmsetup /mnt/skp-fs/doc 2>/dev/null || true
(cd /mnt/skp-fs && find . -type f ! -name sums -print0 | sort -z | xargs -0 sha256sum > /tmp/fs.sums)
[ "$(wc -l < /tmp/fs.sums)" -ge 84 ] || fail "file tree not written"
umount /mnt/skp-fs
fsck.ext4 -fn /dev/mapper/skp-fs || fail "fsck after write"
dm_remove skp-fs
# the plaintext must not be on the disk
if dd if=/dev/ram2 bs=1M count=96 status=none | grep -qa "lost+found"; then
	fail "plaintext directory names on the underlying device"
fi
dm_create skp-fs "$table"
fsck.ext4 -fn /dev/mapper/skp-fs || fail "fsck after re-create"
mount -o ro /dev/mapper/skp-fs /mnt/skp-fs || fail "mount after re-create"
(cd /mnt/skp-fs && sha256sum --quiet -c /tmp/fs.sums) || fail "checksums differ after re-create"
umount /mnt/skp-fs
dm_remove skp-fs
rm -f /tmp/fs.sums
