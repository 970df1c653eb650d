#!/bin/bash
# Portability: a second skpd (own socket, empty cache, same provider name) opens a
# copy of the device.  Another KMS identity (skp-host-b) cannot read the KEK: open
# fails with a clear permission error.  Files skpd trusts: a CA others can write is
# refused with its file:line and the fix; an existing shared directory holding the
# socket is used as it is, never chmod'ed.  A device path with spaces, which would split
# the dm table line, opens all the same (the table names major:minor; skpctl already
# refuses control characters).
. tests/lib/common.sh
. tests/system/lib/skp.sh

S=$W/a.sock S2=$W/b.sock S3=$W/c.sock
write_conf "$W/a.conf" "$S"
# shellcheck disable=SC2086
provider_section corp-kms a true $SKP_KMS_SERVERS >> "$W/a.conf"
start_skpd "$W/a.conf" "$W/a.log"
fresh /dev/vda
skpctl format /dev/vda --socket "$S" > /dev/null
MAPPINGS+=(src copy denied)
skpctl open /dev/vda src --socket "$S"
dd if=/dev/urandom of=/dev/mapper/src bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/src 4)
skpctl close src --socket "$S"
# the device travels: copy header and data to the second disk
dd if=/dev/vda of=/dev/vdb bs=1M count=24 conv=fsync status=none

write_conf "$W/b.conf" "$S2"
# shellcheck disable=SC2086
provider_section corp-kms a true $SKP_KMS_SERVERS >> "$W/b.conf"
start_skpd "$W/b.conf" "$W/b.log"
assert_contains "$(skpctl status --json --socket "$S2")" '"cached_keks":0'
skpctl open /dev/vdb copy --socket "$S2"
assert_eq "$(sum_mib /dev/mapper/copy 4)" "$want" "data on the copy"
skpctl close copy --socket "$S2"

write_conf "$W/c.conf" "$S3"
# shellcheck disable=SC2086
provider_section corp-kms b true $SKP_KMS_SERVERS >> "$W/c.conf"
start_skpd "$W/c.conf" "$W/c.log"
expect_fail skpctl open /dev/vdb denied --socket "$S3"
assert_contains "$out" "Permission Denied"
[ ! -e /dev/mapper/denied ] || fail "mapping created without the KEK"
echo "refused: $out"

cp "$W/pki/ca.pem" "$W/pki/ca-open.pem"
chmod 666 "$W/pki/ca-open.pem"
write_conf "$W/d.conf" "$W/d.sock"
# shellcheck disable=SC2086
provider_section corp-kms a true $SKP_KMS_SERVERS | sed "s|/ca.pem|/ca-open.pem|" >> "$W/d.conf"
line=$(grep -n '^ca = ' "$W/d.conf" | cut -d: -f1)
expect_fail timeout 30 skpd --config "$W/d.conf"
assert_contains "$out" "d.conf:$line: ca: $W/pki/ca-open.pem is writable by group or others"
assert_contains "$out" "chmod go-w"
echo "refused: $out"
mkdir -m 0755 "$W/shared"
write_conf "$W/e.conf" "$W/shared/e.sock"
# shellcheck disable=SC2086
provider_section corp-kms a true $SKP_KMS_SERVERS >> "$W/e.conf"
start_skpd "$W/e.conf" "$W/e.log"
assert_eq "$(stat -c %a "$W/shared")" 755 "mode of the socket's shared directory"
odd="$W/disk by label x y"
mknod "$odd" b "$((16#$(stat -c %t /dev/vdb)))" "$((16#$(stat -c %T /dev/vdb)))"
MAPPINGS+=(odd)
skpctl open "$odd" odd --socket "$W/shared/e.sock"
assert_eq "$(sum_mib /dev/mapper/odd 4)" "$want" "data through a path with spaces"
skpctl close odd --socket "$W/shared/e.sock"
echo ok
