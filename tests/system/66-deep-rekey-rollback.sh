#!/bin/bash
# Rollback to a superseded data key (issue 11, item 3): a deep rekey wraps the new DEK with
# a new KEK and revokes the old KEK as Superseded (Deactivated: Get still works).  A header
# backup from before the rekey, written back, then opens read-only, on this skpd and on a
# second one sharing the KMS ("another host"), and read-write only with
# --allow-superseded, which is logged.  The current header still opens read-write.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
KMS=(skpctl kms --server "${servers[0]}" --ca "$W/pki/ca.pem" --cert "$W/pki/a.pem" --key "$W/pki/a.key")
DEV=/dev/vdb
default_conf
start_skpd "$W/skpd.conf" "$W/skpd.log"
fresh $DEV
skpctl format $DEV "${C[@]}" > /dev/null
MAPPINGS+=(rb)
skpctl open $DEV rb "${C[@]}" > /dev/null
dd if=/dev/urandom of=/dev/mapper/rb bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/rb 4)
kek_of() { skpctl list --json "${C[@]}" | tr '}' '\n' | sed -n "s/.*\"mapping\":\"$1\".*\"kek_uid\":\"\([^\"]*\)\".*/\1/p"; }
k_old=$(kek_of rb)
[ -n "$k_old" ] || fail "no KEK uid in the audit"
skpctl header backup $DEV "$W/old.hdr" > /dev/null

skpctl rekey rb --deep "${C[@]}" > /dev/null
skpctl rekey rb --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out"; fail "deep rekey"; }
k_new=$(kek_of rb)
if [ -z "$k_new" ] || [ "$k_new" = "$k_old" ]; then fail "the deep rekey kept KEK $k_old"; fi
assert_contains "$("${KMS[@]}" attrs "$k_old")" "Deactivated" "old KEK after the deep rekey"
assert_contains "$("${KMS[@]}" attrs "$k_new")" "Active" "new KEK"
grep -q "old KEK $k_old revoked as Superseded" "$W/skpd.log" || fail "no revoke in the log"
assert_eq "$(sum_mib /dev/mapper/rb 4)" "$want" "data after the deep rekey"

# The current header: read-write as ever.
skpctl close rb "${C[@]}" > /dev/null
out=$(skpctl open $DEV rb "${C[@]}")
case "$out" in *read-only*) fail "the current header opened read-only: $out" ;; esac
assert_eq "$(blockdev --getro /dev/mapper/rb)" 0 "current header"
skpctl close rb "${C[@]}" > /dev/null

# The old header written back (as an attacker with a backup would): read-only here...
dd if="$W/old.hdr" of=$DEV bs=64K count=2 conv=fsync status=none
out=$(skpctl open $DEV rb "${C[@]}")
assert_contains "$out" "opened READ-ONLY" "old header"
assert_contains "$out" "superseded data key (DEK generation 1"
assert_eq "$(blockdev --getro /dev/mapper/rb)" 1 "old header"
if dd if=/dev/zero of=/dev/mapper/rb bs=4k count=1 oflag=direct status=none 2> /dev/null; then
	fail "a write through the superseded header succeeded"
fi
skpctl close rb "${C[@]}" > /dev/null

# ...and on another host of the same KMS (a second skpd with its own cache).
S2=$W/b.sock
write_conf "$W/b.conf" "$S2"
provider_section corp-kms a true "${servers[@]}" >> "$W/b.conf"
start_skpd "$W/b.conf" "$W/b.log"
out=$(skpctl open $DEV rb --socket "$S2")
assert_contains "$out" "opened READ-ONLY" "old header on the second skpd"
assert_eq "$(blockdev --getro /dev/mapper/rb)" 1 "old header on the second skpd"
skpctl close rb --socket "$S2" > /dev/null

# Restoring the backup on purpose: read-write, with a warning and a log line.
out=$(skpctl open $DEV rb --allow-superseded "${C[@]}")
assert_contains "$out" "read-write as asked (--allow-superseded)"
assert_eq "$(blockdev --getro /dev/mapper/rb)" 0 "--allow-superseded"
grep -q "opened read-write on explicit request (--allow-superseded)" "$W/skpd.log" ||
	fail "the override is not logged"
skpctl close rb "${C[@]}" > /dev/null
assert_eq "$(dd if=$DEV bs=64K count=2 status=none | sha256sum)" \
	"$(dd if="$W/old.hdr" bs=64K count=2 status=none | sha256sum)" "the opens wrote no header"
echo "rollback: ok"
