#!/bin/bash
# Secrets: the table, the status and the kernel log hold key descriptions only; a logon key
# cannot be read back; "key wipe" works on a suspended device and blocks resume.
. "$(dirname "$0")/lib.bash"

oldhex=$(new_key skp:s-old)
newhex=$(new_key skp:s-new)
LEN=8192
dmesg_mark
dm_create skp-sec "0 $LEN skp aes-xts-plain64 :64:logon:skp:s-old 0 /dev/ram0 0 3 allow_discards new_key::64:logon:skp:s-new boundary:4096"
head -c $((LEN * 512)) /dev/urandom > /tmp/sec.plain
dd if=/tmp/sec.plain of=/dev/mapper/skp-sec bs=1M oflag=direct status=none
dmsetup message skp-sec 0 reencrypt 4096 4096

table=$(dmsetup table skp-sec)
showkeys=$(dmsetup table --showkeys skp-sec)
status=$(dmsetup status skp-sec)
echo "table: $table"
echo "status: $status"
assert_eq "$table" "0 $LEN skp aes-xts-plain64 :64:logon:skp:s-old 0 1:0 0 3 allow_discards new_key::64:logon:skp:s-new boundary:8192" "table line"
assert_eq "$(echo "$status" | wc -w)" 10 "status INFO has 7 fields"
all="$table $showkeys $status $(dmsetup info skp-sec) $(dmesg_new)"
for hex in "$oldhex" "$newhex"; do
	for part in "${hex:0:32}" "${hex:32:32}" "${hex:64:32}" "${hex:96:32}"; do
		case "${all,,}" in *"$part"*) fail "key bytes visible" ;; esac
	done
done
# The raw key bytes must not appear in the kernel log either (binary check).
if dmesg | grep -qaF "$(printf '%s' "${oldhex:0:16}" | xxd -r -p)"; then fail "raw key bytes in dmesg"; fi

# logon keys cannot be read from userspace
id=$(keyctl search @s logon skp:s-old) || fail "key not in the keyring"
expect_fail keyctl read "$id"
expect_fail keyctl pipe "$id"

# key wipe: refused while live, accepted when suspended, then resume is refused
expect_fail dmsetup message skp-sec 0 key wipe
cmp -s /dev/mapper/skp-sec /tmp/sec.plain || fail "data wrong before wipe"
dmsetup suspend --noudevsync skp-sec
dmsetup message skp-sec 0 key wipe || fail "key wipe while suspended"
expect_fail dmsetup resume --noudevsync skp-sec
# a reload with the keys from the keyring brings the data back
dmsetup load skp-sec --table "0 $LEN skp aes-xts-plain64 :64:logon:skp:s-old 0 /dev/ram0 0 2 new_key::64:logon:skp:s-new boundary:8192" ||
	fail "reload after wipe"
dmsetup resume --noudevsync skp-sec || fail "resume after reload"
cmp -s /dev/mapper/skp-sec /tmp/sec.plain || fail "data wrong after wipe and reload"
# discards pass only with allow_discards: the table above has none
expect_fail blkdiscard -o 0 -l 1048576 /dev/mapper/skp-sec
dm_remove skp-sec
rm -f /tmp/sec.plain
