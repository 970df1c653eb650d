#!/bin/bash
# IEEE 1619 XTS-AES-256 known answers through the target, both directions, with the
# data-unit number reached through iv_offset, through the sector position, and both.
. "$(dirname "$0")/lib.bash"

vectors=$(grep -v '^#' tests/kernel/data/xts-aes256-vectors.txt)
[ -n "$vectors" ] || fail "no vectors"
n=0
while read -r dun key ptext ctext; do
	add_key skp:kat "$key"
	printf '%s' "$ptext" | xxd -r -p > /tmp/kat.p
	printf '%s' "$ctext" | xxd -r -p > /tmp/kat.c
	for pos in "$dun 0" "0 $dun" "$((dun / 2)) $((dun - dun / 2))"; do
		read -r ivoff sector <<< "$pos"
		dd if=/dev/zero of=/dev/ram0 bs=1M count=2 status=none
		dm_create skp-kat "0 4096 skp aes-xts-plain64 :64:logon:skp:kat $ivoff /dev/ram0 8"
		# encrypt: plaintext in, the vector's ciphertext on the device
		dd if=/tmp/kat.p of=/dev/mapper/skp-kat bs=512 seek="$sector" oflag=direct status=none
		got=$(dd if=/dev/ram0 bs=512 skip=$((8 + sector)) count=1 status=none | od -An -tx1 -v | tr -d ' \n')
		assert_eq "$got" "$ctext" "ciphertext of vector dun=$dun iv_offset=$ivoff sector=$sector"
		# decrypt: the vector's ciphertext on the device, plaintext out
		dd if=/dev/zero of=/dev/ram0 bs=512 seek=$((8 + sector)) count=1 conv=notrunc status=none
		dd if=/tmp/kat.c of=/dev/ram0 bs=512 seek=$((8 + sector)) conv=notrunc oflag=direct status=none
		got=$(dd if=/dev/mapper/skp-kat bs=512 skip="$sector" count=1 iflag=direct status=none | od -An -tx1 -v | tr -d ' \n')
		assert_eq "$got" "$ptext" "plaintext of vector dun=$dun iv_offset=$ivoff sector=$sector"
		# the neighbouring sector must not decrypt to the vector (the IV really moves)
		got=$(dd if=/dev/mapper/skp-kat bs=512 skip=$((sector + 1)) count=1 iflag=direct status=none | od -An -tx1 -v | tr -d ' \n')
		[ "$got" != "$ptext" ] || fail "sector $((sector + 1)) decrypts to the vector too"
		dm_remove skp-kat
		n=$((n + 1))
	done
	keyctl clear @s
done <<< "$vectors"
[ "$n" -ge 3 ] || fail "only $n known-answer runs"
echo "known answers: $n runs passed"
