#!/bin/bash
# Create settings (skpd.conf's operation_policy_name, object_group, attribute; skpctl kms's
# --operation-policy-name, --object-group, --attribute) against PyKMIP: what is set is what
# Get Attributes returns, the policy is the one the server applies, and what PyKMIP
# refuses is a clear error.
source "$(dirname "$0")/lib.inc" 1
KB=("$skpctl" kms "${servers[@]}" --ca "$SKP_KMS_CA" --cert "$SKP_KMS_CERT_B" --key "$SKP_KMS_KEY_B")

# PyKMIP reads its policy directory about once a second: skp-shared lets any client Get
# (PyKMIP's default policy lets only the owner), skp-deny allows nothing.
cat > "$SKP_KMS_DIR/policies/skp-test.json" <<'POLICY'
{
  "skp-shared": {"SYMMETRIC_KEY": {"GET": "ALLOW_ALL", "GET_ATTRIBUTES": "ALLOW_ALL",
    "LOCATE": "ALLOW_ALL", "ACTIVATE": "ALLOW_OWNER", "REVOKE": "ALLOW_OWNER",
    "DESTROY": "ALLOW_OWNER"}},
  "skp-deny": {"SYMMETRIC_KEY": {"GET": "DISALLOW_ALL"}}
}
POLICY
for _ in $(seq 1 50); do
	grep -q "Loading policy: skp-deny" "$SKP_KMS_DIR/server0.log" && break
	sleep 0.1
done
grep -q "Loading policy: skp-shared" "$SKP_KMS_DIR/server0.log" || fail "PyKMIP did not load the test policies"

# "UID NAME=VALUE" lines of each key's Operation Policy Name and Object Group, as PyKMIP's
# own client reads them (identity A); one process for all keys (PyKMIP is slow to load).
attrs() {
	/usr/bin/python3 - "$base" "$SKP_KMS_CA" "$SKP_KMS_CERT" "$SKP_KMS_KEY" "$@" <<'PY'
import sys
from kmip.core import enums
from kmip.pie.client import ProxyKmipClient
port, ca, cert, key = sys.argv[1:5]
c = ProxyKmipClient(hostname='127.0.0.1', port=int(port), cert=cert, key=key, ca=ca,
                    config_file='/dev/null', kmip_version=enums.KMIPVersion.KMIP_1_1)
c.open()
try:
    for uid in sys.argv[5:]:
        _, got = c.get_attributes(uid, ['Operation Policy Name', 'Object Group'])
        for a in sorted(got, key=lambda a: a.attribute_name.value):
            print('%s %s=%s' % (uid, a.attribute_name.value, a.attribute_value))
finally:
    c.close()
PY
}

# create-kek, as format and rekey create KEKs: both settings set, the key Active; and
# create (no Activate).  A key without settings gets PyKMIP's "default" policy.
name=kek-$RANDOM$RANDOM
uid=$("${K[@]}" create-kek "$name" --operation-policy-name skp-shared --object-group skp-disks)
uid2=$("${K[@]}" create "g-$name" --object-group skp-other)
plain=$("${K[@]}" create-kek "plain-$name")
assert_eq "$(attrs "$uid" "$uid2" "$plain")" "$(printf '%s\n' "$uid Object Group=skp-disks" \
	"$uid Operation Policy Name=skp-shared" "$uid2 Object Group=skp-other" \
	"$uid2 Operation Policy Name=default" "$plain Operation Policy Name=default")" \
	"attributes as PyKMIP's client reads them"
out=$("${K[@]}" attrs "$uid"); assert_contains "$out" "state Active (2)"; assert_contains "$out" "name $name"
# The server applies that policy: another client may Get this key, not one under the default.
"${KB[@]}" get "$uid" > /dev/null || fail "skp-shared did not let client B Get the key"
expect_fail "${KB[@]}" get "$plain"; assert_contains "$out" "Permission Denied"

# A policy that denies skp: the Create passes, the Activate right after it is refused.
rc=0; out=$("${K[@]}" create-kek "deny-$name" --operation-policy-name skp-deny 2>&1) || rc=$?
assert_eq "$rc" 7 "exit code of a refused KEK"
assert_contains "$out" "created but not activated: Activate refused (Activate failed: Permission Denied (reason 0x0C)"
# So does a policy name the server does not know.
expect_fail "${K[@]}" create-kek "nopol-$name" --operation-policy-name no-such-policy
assert_contains "$out" "Activate failed: Permission Denied"

# PyKMIP 0.10 stores no Custom Attribute and no Contact Information: it says so.
expect_fail "${K[@]}" create-kek "x-$name" --attribute "x-site: fra1"
assert_contains "$out" "Create failed: Invalid Field (reason 0x07): The x-site attribute is unsupported"
expect_fail "${K[@]}" create-kek "ci-$name" --attribute "Contact Information: ops@example.com"
assert_contains "$out" "The Contact Information attribute is unsupported"
assert_eq "$("${K[@]}" locate "x-$name")" "" "a refused Create made a key"

# Bad settings never reach the KMS: a usage error, as in skpd.conf.
rc=0; out=$("${K[@]}" create-kek "bad-$name" --attribute "Name: other" 2>&1) || rc=$?
assert_eq "$rc" 2 "exit code of a bad --attribute"
assert_contains "$out" "--attribute: attribute 'Name' is set by skp"
rc=0; out=$("${K[@]}" get "$uid" --object-group g 2>&1) || rc=$?
assert_eq "$rc" 2 "--object-group on get"
echo "ok: $uid $uid2 $plain"
