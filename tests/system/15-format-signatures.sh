#!/bin/bash
# skpctl format over what a device already holds (issue 14), with the real tools: ext4,
# LUKS2, GPT and swap are refused by name and left untouched; --force --batch wipes them
# all (LUKS2's secondary header, the GPT's backup at the end of the disk) and the volume
# works; a partition formats and the disk's table survives; an skp device is refused as
# before; on a terminal format asks (no: nothing written, YES: formatted).
# Small loop devices over files: a few seconds besides the KMS's key creations.
. tests/lib/common.sh
. tests/system/lib/skp.sh

LOOPS=()
cleanup15() {
	local l
	skp_cleanup
	for l in "${LOOPS[@]}"; do losetup -d "$l" 2>/dev/null || true; done
}
trap cleanup15 EXIT

default_conf
start_skpd "$W/skpd.conf" "$W/skpd.log"
head -c 32 /dev/urandom > "$W/luks.key"
head -c 1M /dev/urandom > "$W/payload"
payload=$(sha256sum < "$W/payload" | cut -d' ' -f1)

# newdev NAME MiB [losetup options]: a loop device over a new sparse file, in $dev.
newdev() {
	truncate -s "$2M" "$W/$1.img"
	dev=$(losetup -f --show "${@:3}" "$W/$1.img")
	LOOPS+=("$dev")
}

# ends DEV: one sum over its first and last MiB.
ends() {
	local mib=$(($(blockdev --getsize64 "$1") >> 20))
	{
		dd if="$1" bs=1M count=1 iflag=direct status=none
		dd if="$1" bs=1M skip=$((mib - 1)) count=1 iflag=direct status=none
	} | sha256sum | cut -d' ' -f1
}

# nothing_foreign DEV: blkid, wipefs (no-act) and cryptsetup find nothing but skp on it.
nothing_foreign() {
	local found
	found=$(blkid -p -o export "$1" 2>&1 || true)
	[ -z "$found" ] || fail "blkid -p still finds on $1: $found"
	found=$(wipefs --no-act --all "$1" 2>&1)
	[ -z "$found" ] || fail "wipefs still finds on $1: $found"
	if cryptsetup isLuks "$1"; then fail "$1 is still LUKS"; fi
	skpctl dump "$1" > /dev/null || fail "no skp header on $1"
}

# data_path DEV NAME: open, write and read back 1 MiB, close.
data_path() {
	MAPPINGS+=("$2")
	skpctl open "$1" "$2" "${C[@]}" > /dev/null
	dd if="$W/payload" of="/dev/mapper/$2" bs=1M oflag=direct status=none
	assert_eq "$(sum_mib "/dev/mapper/$2" 1)" "$payload" "$2: read back"
	skpctl close "$2" "${C[@]}" > /dev/null
}

# refused_then_forced NAME WANT [--no-batch]: the signature on $dev is named and refused
# without writing (and, with --no-batch, refused again by --force without a terminal or
# --batch), then wiped by --force --batch.
refused_then_forced() {
	local name=$1 want=$2 before
	before=$(ends "$dev")
	expect_fail skpctl format "$dev" "${C[@]}"
	assert_contains "$out" "$dev holds $want" "$name: refusal names it"
	assert_contains "$out" "refusing to format; --force to overwrite it"
	if [ "${3:-}" = --no-batch ]; then
		expect_fail skpctl format "$dev" --force "${C[@]}"
		assert_contains "$out" "not wiping it without a confirmation"
	fi
	assert_eq "$(ends "$dev")" "$before" "$name: first and last MiB after the refusal"
	out=$(skpctl format "$dev" --force --batch "${C[@]}") || fail "$name: format --force --batch failed"
	assert_contains "$out" "wiped from $dev: "
	assert_contains "$out" "formatted $dev"
	grep -q "format --force of $dev: wiped " "$W/skpd.log" || fail "$name: skpd did not log the wipe"
	nothing_foreign "$dev"
	data_path "$dev" "f15-$name"
}

newdev ext4 32
mkfs.ext4 -q -L data "$dev"
uuid=$(blkid -p -o value -s UUID "$dev")
refused_then_forced ext4 "ext4 (label \"data\", UUID $uuid)" --no-batch

# LUKS2: the secondary header at 0x4000 is what survived a format before.
newdev luks 32
cryptsetup luksFormat --type luks2 --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
	--key-file "$W/luks.key" "$dev"
[ "$(wipefs "$dev" | grep -c crypto_LUKS)" = 2 ] || fail "cryptsetup wrote no secondary header"
refused_then_forced luks "crypto_LUKS (UUID $(cryptsetup luksUUID "$dev"))"
assert_contains "$out" "crypto_LUKS at 0x4000"

# GPT: primary header, backup at the end of the disk, protective MBR; the partitions go.
newdev gpt 32 -P
printf 'label: gpt\nsize=8MiB, type=linux\n' | sfdisk -q "$dev"
[ -b "${dev}p1" ] || fail "no ${dev}p1 after sfdisk"
refused_then_forced gpt "gpt (UUID $(blkid -p -o value -s PTUUID "$dev")), PMBR"
[ ! -e "${dev}p1" ] || fail "the kernel still has ${dev}p1"

newdev swap 32
mkswap -q -L swp "$dev"
refused_then_forced swap "swap (label \"swp\", UUID $(blkid -p -o value -s UUID "$dev"))"

# A partition of a GPT disk: formatted (nothing on it: nothing wiped); the table stays.
newdev part 64 -P
disk=$dev
printf 'label: gpt\nsize=40MiB, type=linux\n' | sfdisk -q "$disk"
table=$(sfdisk --dump "$disk")
out=$(skpctl format "${disk}p1" --batch "${C[@]}") || fail "format of ${disk}p1 failed"
assert_contains "$out" "formatted ${disk}p1"
case "$out" in *wiped*) fail "something wiped from an empty partition: $out" ;; esac
assert_eq "$(sfdisk --dump "$disk")" "$table" "the disk's partition table"
assert_eq "$(blkid -p -o value -s PTTYPE "$disk")" gpt "the disk is still GPT"
data_path "${disk}p1" f15-part

# An skp device: refused as before this change, --force or not, nothing written.  From a
# script without a terminal, an empty device formats unasked and without --batch.
newdev skp 32
out=$(skpctl format "$dev" "${C[@]}") || fail "plain format from a script failed"
before=$(ends "$dev")
expect_fail skpctl format "$dev" "${C[@]}"
assert_contains "$out" "already holds an skp header"
expect_fail skpctl format "$dev" --force --batch "${C[@]}"
assert_contains "$out" "already holds an skp header"
assert_eq "$(ends "$dev")" "$before" "skp device after the refusals"

# ask ANSWER CMD...: CMD on a pseudo-terminal, ANSWER typed at its question; prints what
# the terminal showed and exits with CMD's status.
ask() {
	/usr/bin/python3 - "$@" <<'PY'
import os, pty, select, sys, time

answer = sys.argv[1].encode() + b"\n"
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
seen, sent, end = b"", False, time.time() + 60
while time.time() < end:
    if fd in select.select([fd], [], [], 1)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        seen += data
        if not sent and b"Are you sure?" in seen:
            os.write(fd, answer)
            sent = True
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

newdev tty 32
mkfs.ext4 -q -L tty "$dev"
before=$(ends "$dev")
if out=$(ask no skpctl format "$dev" --force "${C[@]}"); then fail "answered no, formatted: $out"; fi
assert_contains "$out" "It holds ext4 (label \"tty\""
assert_contains "$out" "Are you sure? (Type 'yes' in capital letters)"
assert_contains "$out" "cancelled; nothing written"
assert_eq "$(ends "$dev")" "$before" "after no"
out=$(ask YES skpctl format "$dev" --force "${C[@]}") || fail "answered YES, not formatted: $out"
assert_contains "$out" "formatted $dev"
nothing_foreign "$dev"
# On a terminal an empty device is asked about too.
newdev tty2 32
if out=$(ask no skpctl format "$dev" "${C[@]}"); then fail "answered no, formatted: $out"; fi
assert_contains "$out" "Are you sure?"
if skpctl dump "$dev" > /dev/null 2>&1; then fail "a header was written after no"; fi
echo "ok"
