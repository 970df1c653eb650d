#!/bin/bash
# A header with any single field flipped (checksums recomputed, as an attacker would)
# is refused by open, and nothing is written to the device.  A torn copy (bad
# checksum) falls back to the other copy.  Header backup and restore.  Adoption of a
# live mapping (skpd restarted) authenticates the header as open does and checks that
# the mapping sits on the device named.
. tests/lib/common.sh
. tests/system/lib/skp.sh

DEV=/dev/vda
default_conf
start_skpd "$W/skpd.conf" "$W/skpd.log"
fresh $DEV
skpctl format $DEV --label tamper "${C[@]}" > /dev/null
MAPPINGS+=(t)
skpctl open $DEV t "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/t bs=1M count=2 oflag=direct status=none
want=$(sum_mib /dev/mapper/t 2)
skpctl close t "${C[@]}"
skpctl header backup $DEV "$W/hdr.bak"
dd if=$DEV of="$W/orig.img" bs=64K count=2 status=none
# what open could touch: the header area and the start of the data area
state() { { dd if=$DEV bs=64K count=2 status=none; dd if=$DEV bs=1M skip=16 count=1 status=none; } | sha256sum; }

# flipped OFFSET...: for each offset, $W/flip-OFFSET.img is the header area with one bit
# flipped at OFFSET in both copies and their checksums fixed (one python for all: its
# start costs about a second under TCG).
flipped() {
	/usr/bin/python3 - "$W/orig.img" "$W" "$@" <<'PY'
import hashlib, sys
orig, out, offs = open(sys.argv[1], 'rb').read(), sys.argv[2], sys.argv[3:]
for o in offs:
    b = bytearray(orig)
    for base in (0, 65536):
        b[base + int(o)] ^= 0x01
        b[base + 4064:base + 4096] = hashlib.sha256(bytes(b[base:base + 4064])).digest()
    open('%s/flip-%s.img' % (out, o), 'wb').write(b)
PY
}
flip() { dd if="$W/flip-$1.img" of=$DEV bs=64K count=2 conv=fsync status=none; }
# One offset inside every field: magic, version, copy size, seq, copy offset, uuid,
# label, cipher, sector size, flags, data offset/length, resilience, reserved, slot
# state, DEK length, generation, provider, KEK uid, KEK name, wrapped length,
# wrapped DEK, MAC, slot reserved, slot 1, rekey state, trailing reserved.
offsets=(0 8 10 12 16 24 32 50 112 144 148 152 160 168 176 200
	256 260 264 272 336 400 600 650 700 760 800 1300 2000)
flipped "${offsets[@]}"
for off in "${offsets[@]}"; do
	flip $off
	before=$(state)
	expect_fail skpctl open $DEV t "${C[@]}"
	[ -n "$out" ] || fail "no message for flip at $off"
	case "$out" in *$'\n'*) fail "multi-line error for flip at $off: $out" ;; esac
	[ ! -e /dev/mapper/t ] || fail "flip at $off: mapping created"
	assert_eq "$(state)" "$before" "device written after flip at $off"
	echo "flip $off refused: $out"
	dd if="$W/orig.img" of=$DEV bs=64K count=2 conv=fsync status=none
done

# Torn copy A (checksum wrong): copy B still opens the device, and open writes nothing.
printf 'garbage' | dd of=$DEV bs=1 seek=300 conv=notrunc,fsync status=none
before=$(state)
assert_contains "$(skpctl dump $DEV)" "copy A:        INVALID: checksum mismatch"
skpctl open $DEV t "${C[@]}"
assert_eq "$(sum_mib /dev/mapper/t 2)" "$want" "data via copy B"
skpctl close t "${C[@]}"
assert_eq "$(state)" "$before" "open wrote to the device"

# Both headers wiped: restore from the backup brings the device back.
dd if=/dev/zero of=$DEV bs=64K count=2 conv=fsync status=none
expect_fail skpctl open $DEV t "${C[@]}"
assert_contains "$out" "not an skp device"
expect_fail skpctl header restore $DEV /etc/hostname
skpctl header restore $DEV "$W/hdr.bak"
skpctl open $DEV t "${C[@]}"
assert_eq "$(sum_mib /dev/mapper/t 2)" "$want" "data after header restore"
# restore refuses a device that is open
expect_fail skpctl header restore $DEV "$W/hdr.bak"
assert_contains "$out" "in use"

# skpd restarts; t stays live.  A copy of its header on another disk is not t's device,
# and a header altered while t is live does not authenticate: neither is adopted.
stop_skpd "$SKPD_PID"
start_skpd "$W/skpd.conf" "$W/skpd2.log"
dd if=$DEV of=/dev/vdb bs=64K count=2 conv=fsync status=none
expect_fail skpctl open /dev/vdb t "${C[@]}"
assert_contains "$out" "not on /dev/vdb"
echo "adopt, other device: $out"
dd if=$DEV of="$W/live.img" bs=64K count=2 status=none
cp "$W/live.img" "$W/orig.img"
flipped 50
flip 50
expect_fail skpctl open $DEV t "${C[@]}"
assert_contains "$out" "header authentication failed"
echo "adopt, altered header: $out"
dd if="$W/live.img" of=$DEV bs=64K count=2 conv=fsync status=none
assert_contains "$(skpctl open $DEV t "${C[@]}")" "adopted /dev/mapper/t"
assert_eq "$(sum_mib /dev/mapper/t 2)" "$want" "data after adoption"
skpctl close t "${C[@]}"
echo ok
