#!/bin/bash
# key_persistence = file: skpd warns at every start, keeps the KEKs of open devices in
# clear in KEKS_DIR/keks (dir 0700, file 0600) and, restarted with no KMS node reachable, opens its
# skptab devices from them.  Turned off again, the file is removed and the same boot fails.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
K=$W/state
SKPTAB=$W/skptab write_conf "$W/on.conf" "$S"
printf 'key_persistence = file\nkey_persistence_dir = %s\n' "$K" >> "$W/on.conf"
cp "$W/on.conf" "$W/down.conf"
provider_section corp-kms a true "${servers[@]}" >> "$W/on.conf"
# Same provider, every node unreachable (nothing listens on these ports): the KMS is down.
provider_section corp-kms a true 127.0.0.1:1 127.0.0.1:2 >> "$W/down.conf"
sed 's/^key_persistence = file/key_persistence = off/' "$W/down.conf" > "$W/off.conf"
warn="key_persistence is ON (file): the KEKs of open devices are stored in clear on this host"

start_skpd "$W/on.conf" "$W/on.log"
assert_contains "$(cat "$W/on.log")" "$warn"
fresh /dev/vda
skpctl format /dev/vda "${C[@]}" > /dev/null
uuid=$(skpctl dump /dev/vda | sed -n 's/^uuid: *//p')
MAPPINGS+=(kp)
skpctl open /dev/vda kp "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/kp bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/kp 4)
assert_eq "$(stat -c %a "$K")" 700 "state dir mode"
assert_eq "$(stat -c %a "$K/keks")" 600 "keks file mode"
assert_eq "$(wc -l < "$K/keks")" 2 "header + one KEK"
assert_contains "$(cat "$W/on.log")" "1 KEK(s) of open devices written"
# The KEK's value is in the file and nowhere in what skpd shows or logs.
key=$(awk 'NR == 2 { print $3 }' "$K/keks")
[ ${#key} -eq 64 ] || fail "no 256-bit KEK in the file"
if grep -q "$key" "$W/on.log" <(skpctl status --json "${C[@]}") <(skpctl list --json "${C[@]}"); then
	fail "KEK value shown"
fi

# "Reboot" with the KMS down: skpd stopped, the mapping gone, every node unreachable.
stop_skpd "$SKPD_PID"
dmsetup remove --noudevsync kp
echo "kp UUID=$uuid" > "$W/skptab"
start_skpd "$W/down.conf" "$W/down.log"
assert_contains "$(cat "$W/down.log")" "$warn"
assert_contains "$(cat "$W/down.log")" "key_persistence: 1 KEK(s) loaded"
assert_contains "$(cat "$W/down.log")" "1 device(s) opened, 0 adopted (already live), 0 pending, 0 bad line(s); 0 KEK(s) fetched"
assert_eq "$(sum_mib /dev/mapper/kp 4)" "$want" "data after a boot from persisted keys"

# Turned off: the file goes, and the same boot with the KMS down opens nothing.
stop_skpd "$SKPD_PID"
dmsetup remove --noudevsync kp
start_skpd "$W/off.conf" "$W/off.log"
assert_contains "$(cat "$W/off.log")" "key_persistence is off: removed the persisted KEKs"
[ ! -e "$K/keks" ] || fail "keks file left with key_persistence off"
assert_contains "$(cat "$W/off.log")" "kp: getting KEK"
! dmsetup info kp > /dev/null 2>&1 || fail "opened without the KMS or persisted keys"
echo ok
