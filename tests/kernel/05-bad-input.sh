#!/bin/bash
# Bad table lines and bad messages: each refused with its own message in the kernel log,
# the underlying device untouched.
. "$(dirname "$0")/lib.bash"

keyhex=$(new_key skp:good)
goodhex=$(new_key skp:good2)
add_key skp:short "00112233445566778899aabbccddeeff"
add_key skp:ushort "00112233445566778899aabbccddeeff" user
add_key skp:halves "$(printf '%s%s' "$(printf '11%.0s' $(seq 32))" "$(printf '11%.0s' $(seq 32))")"
revid=$(printf '%s' "$goodhex" | xxd -r -p | keyctl padd logon skp:revoked @s)
keyctl revoke "$revid"
add_key skp:same "$keyhex"

dd if=/dev/urandom of=/dev/ram0 bs=1M count=4 status=none
before=$(dd if=/dev/ram0 bs=1M count=4 status=none | md5sum)

K=":64:logon:skp:good"
D="/dev/ram0"
# table|expected message
cases=(
	"0 8192 skp aes-xts-plain64 $K 0|Not enough arguments"
	"0 8192 skp aes-cbc-essiv:sha256 $K 0 $D 0|Unsupported cipher"
	"0 8192 skp aes-xts-plain64 $goodhex 0 $D 0|Hex keys are refused"
	"0 8192 skp aes-xts-plain64 :32:logon:skp:good 0 $D 0|Key size must be 64 bytes"
	"0 8192 skp aes-xts-plain64 :6x:logon:skp:good 0 $D 0|Invalid key size"
	"0 8192 skp aes-xts-plain64 :64logon 0 $D 0|Invalid key specification"
	"0 8192 skp aes-xts-plain64 :64:encrypted:skp:good 0 $D 0|Key type must be logon or user"
	"0 8192 skp aes-xts-plain64 :64:logon: 0 $D 0|Empty key description"
	"0 8192 skp aes-xts-plain64 :64:logon:skp:missing 0 $D 0|Key not found in the keyring"
	"0 8192 skp aes-xts-plain64 :64:logon:skp:revoked 0 $D 0|Key has been revoked"
	"0 8192 skp aes-xts-plain64 :64:logon:skp:short 0 $D 0|Key payload is not 64 bytes long"
	"0 8192 skp aes-xts-plain64 :64:user:skp:ushort 0 $D 0|Key payload is not 64 bytes long"
	"0 8192 skp aes-xts-plain64 :64:logon:skp:halves 0 $D 0|XTS key halves are equal"
	"0 8192 skp aes-xts-plain64 $K 12x $D 0|Invalid iv_offset"
	"0 8192 skp aes-xts-plain64 $K 0 /dev/nonexistent 0|Device lookup failed"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0x10|Invalid device offset"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2x iv_large_sectors|Invalid number of optional parameters"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 9 iv_large_sectors|Invalid number of optional parameters"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 iv_large_sectors|Invalid number of optional parameters"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 same_cpu_crypt|Unknown optional parameter"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 allow_discards allow_discards|Duplicate optional parameter"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 sector_size:1000|sector_size must be 512, 1024, 2048 or 4096"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 sector_size:8192|sector_size must be 512, 1024, 2048 or 4096"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 sector_size:4096k|sector_size must be 512, 1024, 2048 or 4096"
	"0 8190 skp aes-xts-plain64 $K 0 $D 0 1 sector_size:4096|Target length is not a multiple of sector_size"
	"0 8192 skp aes-xts-plain64 $K 0 $D 4 1 sector_size:4096|Device offset is not a multiple of sector_size"
	"0 8192 skp aes-xts-plain64 $K 3 $D 0 1 sector_size:4096|iv_offset is not a multiple of sector_size"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 new_key::64:logon:skp:good2|new_key needs boundary"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 boundary:0|boundary needs new_key"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 new_key::64:logon:skp:good2 boundary:8200|boundary is past the end of the target"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 3 sector_size:4096 new_key::64:logon:skp:good2 boundary:4|boundary is not a multiple of sector_size"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 new_key::64:logon:skp:good2 boundary:1z|Invalid boundary"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 new_key::64:logon:skp:same boundary:0|new_key has the same bytes as key"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 new_key:$goodhex boundary:0|Hex keys are refused"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 2 new_key: boundary:0|Empty new_key"
	"0 8192 skp aes-xts-plain64 $K 0 $D 0 1 iv_large_sectors extra|Too many arguments"
)
n=0
for c in "${cases[@]}"; do
	table=${c%|*}
	msg=${c##*|}
	dmesg_mark
	if dmsetup create --noudevsync skp-bad --table "$table" 2>/dev/null; then
		dmsetup remove --noudevsync skp-bad
		fail "accepted: $table"
	fi
	log=$(dmesg_new)
	assert_contains "$log" "skp: $msg" "kernel message for: $table"
	n=$((n + 1))
done
[ "$n" -ge 25 ] || fail "only $n bad tables"
dmsetup ls | grep -q skp-bad && fail "a failed create left a device"
echo "$n bad table lines refused"

# Bad messages on a two-key device.
dm_create skp-msg "0 8192 skp aes-xts-plain64 $K 0 $D 0 3 sector_size:4096 new_key::64:logon:skp:good2 boundary:0"
status0=$(dmsetup status skp-msg)
msgs=(
	"reencrypt 8 8|reencrypt: sector 8 is not the boundary 0"
	"reencrypt 0 0|reencrypt: count is zero"
	"reencrypt 0 999999|reencrypt: count 999999 exceeds 8192 sectors"
	"reencrypt 0 4|reencrypt: sector or count not a multiple of sector_size"
	"reencrypt 8192 8|reencrypt: range past the end of the target"
	"reencrypt 0 8x|reencrypt: invalid number"
	"reencrypt 0|reencrypt: expected <sector> <count>"
	"key wipe|key wipe: the device is not suspended"
	"key set :64:logon:skp:good|key: only \"key wipe\" is supported"
	"frobnicate 1|unrecognised message: frobnicate"
)
for c in "${msgs[@]}"; do
	m=${c%|*}
	msg=${c##*|}
	dmesg_mark
	# shellcheck disable=SC2086
	expect_fail dmsetup message skp-msg 0 $m
	assert_contains "$out" "Invalid argument" "errno of message '$m'"
	assert_contains "$(dmesg_new)" "skp: $msg" "kernel message for message '$m'"
done
assert_eq "$(dmsetup status skp-msg)" "$status0" "status changed by bad messages"
dm_remove skp-msg
# reencrypt on a one-key device
dm_create skp-msg "0 8192 skp aes-xts-plain64 $K 0 $D 0"
dmesg_mark
expect_fail dmsetup message skp-msg 0 reencrypt 0 8
assert_contains "$(dmesg_new)" "skp: reencrypt: the table has no new_key"
dm_remove skp-msg

after=$(dd if=/dev/ram0 bs=1M count=4 status=none | md5sum)
assert_eq "$after" "$before" "the underlying device was modified"
