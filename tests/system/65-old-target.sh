#!/bin/bash
# A partial upgrade: skpd built for dm-skp 1.3 with a 1.1 module still loaded (make
# kernel-test builds it from this tree with the minor version set back).  Single-key mappings
# keep working; a deep rekey is refused before it writes anything; with the module reloaded
# it runs.
. tests/lib/common.sh
. tests/system/lib/skp.sh

[ -z "$(dmsetup table --target skp 2>/dev/null | grep -v '^No devices')" ] ||
	fail "skp mappings left by an earlier test: the module cannot be swapped"
old_ko=$(. tests/vm/kver.sh && skp_old_module_path "$SKP_REPO" "$(uname -r)")
[ -f "$old_ko" ] || fail "$old_ko missing: run make kernel-test"

restore() {
	skp_cleanup
	rmmod dm_skp 2>/dev/null || true
	insmod "$SKP_KO" || echo "FAIL: could not load $SKP_KO back" >&2
}
trap restore EXIT
rmmod dm_skp
insmod "$old_ko"
assert_contains "$(dmsetup targets)" "skp              v1.1.0"

DEV=/dev/vda
default_conf
start_skpd "$W/skpd.conf" "$W/skpd.log"
fresh $DEV
skpctl format $DEV "${C[@]}" > /dev/null
MAPPINGS+=(d65)
skpctl open $DEV d65 "${C[@]}" > /dev/null
assert_contains "$(skpctl status "${C[@]}")" "dm target skp 1.1.0 loaded"
assert_contains "$(skpctl status --json "${C[@]}")" '"target_version":"1.1.0"'
dd if=/dev/urandom of=/dev/mapper/d65 bs=1M count=8 oflag=direct status=none
want=$(sum_mib /dev/mapper/d65 8)
hdr=$(dd if=$DEV bs=1M count=16 iflag=direct status=none | sha256sum)

expect_fail skpctl rekey d65 --deep "${C[@]}"
assert_contains "$out" "the loaded dm-skp target is 1.1.0; a deep rekey needs 1.3 or later"
echo "refused: $out"
assert_eq "$(dd if=$DEV bs=1M count=16 iflag=direct status=none | sha256sum)" "$hdr" "header and records after the refusal"
assert_contains "$(dmsetup table d65)" "skp aes-xts-plain64"
case "$(dmsetup table d65)" in *new_key*) fail "left in two-key mode" ;; esac
assert_eq "$(sum_mib /dev/mapper/d65 8)" "$want" "data after the refusal"
# A shallow rekey does not involve the target.
assert_contains "$(skpctl rekey d65 --shallow "${C[@]}")" "rekeyed"

# The module reloaded (devices closed first): the deep rekey runs.
skpctl close d65 "${C[@]}" > /dev/null
rmmod dm_skp
insmod "$SKP_KO"
skpctl open $DEV d65 "${C[@]}" > /dev/null
assert_contains "$(skpctl status "${C[@]}")" "dm target skp 1.3.0 loaded"
skpctl rekey d65 --deep "${C[@]}" > /dev/null
skpctl rekey d65 --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out"; fail "deep rekey after the reload"; }
assert_contains "$(cat "$W/wait.out")" "state=done"
assert_eq "$(sum_mib /dev/mapper/d65 8)" "$want" "data after the deep rekey"
echo "ok"
