#!/bin/bash
# Remediation: every remediation_interval skpd checks that each open device's KEK is
# present and Active in its KMS.  A KEK revoked behind skpd's back shows as a device
# problem in status (exit 3, as alarms) and in the audit; the device keeps working; a
# shallow rekey onto a fresh KEK clears it.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
REMEDIATION_INTERVAL=1 write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "${servers[0]}" >> "$W/skpd.conf"
start_skpd "$W/skpd.conf" "$W/skpd.log"
KMS=(skpctl kms --server "${servers[0]}" --ca "$W/pki/ca.pem" --cert "$W/pki/a.pem" --key "$W/pki/a.key")

fresh /dev/vda /dev/vdb
skpctl format /dev/vda "${C[@]}" > /dev/null
skpctl format /dev/vdb "${C[@]}" > /dev/null
MAPPINGS+=(r1 r2)
skpctl open /dev/vda r1 "${C[@]}"
skpctl open /dev/vdb r2 "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/r1 bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/r1 4)
kek_of() { skpctl list --json "${C[@]}" | tr '}' '\n' | sed -n "s/.*\"mapping\":\"$1\".*\"kek_uid\":\"\([^\"]*\)\".*/\1/p"; }
k1=$(kek_of r1); k2=$(kek_of r2)
[ -n "$k1" ] && [ -n "$k2" ] || fail "no KEK uids in the audit"
sleep 3	# a few remediation rounds with every KEK Active
skpctl status "${C[@]}" > "$W/status.out" || { cat "$W/status.out"; fail "status not ok before the revoke"; }

# Revoked as compromised (reason 2): Compromised in the KMS.  r2 is revoked and then
# destroyed (PyKMIP destroys only non-Active keys).
"${KMS[@]}" --batch revoke "$k1" 2
"${KMS[@]}" --batch revoke "$k2"
"${KMS[@]}" --batch destroy "$k2"
# Both problems: a remediation round between the two revokes sees only r1's.
wait_status 3 30 "device r1: PROBLEM:" "device r2: PROBLEM:"
cat "$W/status.out"
assert_contains "$(cat "$W/status.out")" "device r1: PROBLEM: KEK $k1 is Compromised in the KMS, not Active"
assert_contains "$(cat "$W/status.out")" "device r2: PROBLEM:"
assert_contains "$(cat "$W/status.out")" "status: ALARM"
assert_contains "$(skpctl status --json "${C[@]}" || true)" "\"device_problems\":[{\"mapping\":\"r1\""
assert_contains "$(skpctl list --json "${C[@]}")" "is Compromised in the KMS"
assert_contains "$(cat "$W/skpd.log")" "remediation: r1: KEK $k1 is Compromised"

# The kernel holds the DEK: I/O goes on.
dd if=/dev/urandom of=/dev/mapper/r1 bs=1M seek=4 count=2 oflag=direct status=none
assert_eq "$(sum_mib /dev/mapper/r1 4)" "$want" "I/O with a revoked KEK"

# The fix: a shallow rekey wraps the DEK with a new Active KEK.
skpctl rekey r1 --shallow "${C[@]}" > /dev/null
skpctl rekey r2 --shallow "${C[@]}" > /dev/null
wait_status 0 30
assert_contains "$(cat "$W/status.out")" "status: ok"
skpctl close r1 "${C[@]}"
skpctl close r2 "${C[@]}"
echo ok
