#!/bin/bash
# skpctl against a real skpd and KMS (issue 14): the exit code and the wording of the
# common mistakes (wrong device, missing provider, daemon not running, not root, KMS down),
# busy (5) and refused by the KMS (7); open --readonly and --allow-discards; dump --json;
# kms destroy asks first.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "${servers[0]}" >> "$W/skpd.conf"
KMS=(skpctl kms --server "${servers[0]}" --ca "$W/pki/ca.pem" --cert "$W/pki/a.pem" --key "$W/pki/a.key")
# rc COMMAND...: exit code in $RC, output (both streams) in $out.
rc() { RC=0; out=$("$@" 2>&1) || RC=$?; }
# want CODE TEXT COMMAND...
want() {
	local code=$1 text=$2
	shift 2
	rc "$@"
	assert_eq "$RC" "$code" "exit code of: $* ($out)"
	assert_contains "$out" "$text" "message of: $*"
	echo "exit $RC: $*: $out"
}
fresh /dev/vda /dev/vdb
MAPPINGS+=(c1 c2)

# Daemon not running.
want 8 "skpd is not running (nothing listens at $S); start it with systemctl start skpd" skpctl status "${C[@]}"
start_skpd "$W/skpd.conf" "$W/skpd.log"

# Wrong device: not skp, missing, no such mapping.
want 4 "not an skp device" skpctl open /dev/vda c1 "${C[@]}"
want 4 "/dev/vdz: No such file or directory" skpctl open /dev/vdz c1 "${C[@]}"
want 4 "no mapping nosuch" skpctl close nosuch "${C[@]}"
want 4 "nosuch is not a device opened by this skpd" skpctl rekey nosuch --shallow "${C[@]}"
# Missing provider.
want 1 'provider "nope" is not configured' skpctl format /dev/vda --provider nope "${C[@]}"
skpctl format /dev/vda "${C[@]}" > /dev/null
skpctl format /dev/vdb --label ro "${C[@]}" > /dev/null

# Busy: the name taken, the device open, the mapping mounted.
skpctl open /dev/vda c1 "${C[@]}" > /dev/null
want 5 "mapping c1 already exists" skpctl open /dev/vda c1 "${C[@]}"
want 5 "in use" skpctl open /dev/vda c2 "${C[@]}"
mkfs.ext4 -q /dev/mapper/c1
mkdir -p "$W/mnt"
mount /dev/mapper/c1 "$W/mnt"
want 5 "mapping c1 is in use" skpctl close c1 "${C[@]}"
umount "$W/mnt"

# open --readonly --allow-discards: writes refused, discards passed, no rekey.
skpctl open /dev/vdb c2 --readonly --allow-discards "${C[@]}" > /dev/null
assert_contains "$(dmsetup info c2)" "READ-ONLY" "dmsetup info c2"
assert_contains "$(dmsetup table c2)" "allow_discards" "table of c2"
if dd if=/dev/zero of=/dev/mapper/c2 bs=4k count=1 oflag=direct status=none 2>/dev/null; then
	fail "a write to a read-only mapping succeeded"
fi
assert_contains "$(skpctl list "${C[@]}")" "(read-only)" "list"
assert_contains "$(skpctl list --json "${C[@]}")" '"read_only":true,"discards":true' "list --json"
want 1 "c2 is open read-only: a rekey writes its header" skpctl rekey c2 --shallow "${C[@]}"
want 1 "c2 is open read-only: a deep rekey writes it" skpctl rekey c2 --deep "${C[@]}"
skpctl close c2 "${C[@]}" > /dev/null

# dump --json: the header's fields, parsed.
kek=$(skpctl dump --json /dev/vdb | /usr/bin/python3 -c '
import json, sys
h = json.load(sys.stdin)
assert h["label"] == "ro" and h["sector_size"] == 4096 and h["cipher"] == "aes-xts-plain64", h
assert [c["valid"] for c in h["copies"]] == [True, True], h["copies"]
s = h["slots"]
assert s[0]["state"] == "active" and s[0]["provider"] == "corp-kms" and s[1] == {"slot": 1, "state": "empty"}, s
print(s[0]["kek_uid"])') || fail "dump --json"
assert_contains "$(skpctl dump /dev/vdb)" "kek uid:     $kek" "dump and dump --json agree"

# Not root: the socket's directory and mode keep others out.
want 9 "skpctl must run as root" setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$(command -v skpctl)" status "${C[@]}"

# kms destroy asks first: not on a terminal, only with --batch.
want 1 "not on a terminal: add --batch" "${KMS[@]}" destroy "$kek"

# KMS down: a fresh skpd (no cached KEK) whose corp-kms node does not answer (a port where
# nothing listens: the real node stays up for what follows).
skpctl close c1 "${C[@]}" > /dev/null
stop_skpd "$SKPD_PID"
write_conf "$W/down.conf" "$S"
provider_section corp-kms a true 127.0.0.1:1 >> "$W/down.conf"
start_skpd "$W/down.conf" "$W/skpd2.log"
want 6 "all 1 KMS node(s) failed" skpctl open /dev/vdb c2 "${C[@]}"
stop_skpd "$SKPD_PID"

# Refused by the KMS: vdb's KEK revoked and destroyed behind skpd's back.
"${KMS[@]}" --batch revoke "$kek" > /dev/null
"${KMS[@]}" --batch destroy "$kek" > /dev/null
start_skpd "$W/skpd.conf" "$W/skpd3.log"
want 7 "Item Not Found" skpctl open /dev/vdb c2 "${C[@]}"
echo ok
