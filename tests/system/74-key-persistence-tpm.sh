#!/bin/bash
# key_persistence = tpm (vm.args: --tpm new, the guest's /dev/tpmrm0): the KEKs of open
# devices sealed by this TPM in KEKS_DIR/keks.sealed, bound to PCR 23; restarted with
# every KMS node down, skpd opens its skptab devices from them.  The KEK is in no file
# under KEKS_DIR or /var/lib/skp.  A flipped byte, PCR 23 extended after sealing, or the
# file copied to another host (a second TPM: a guest swtpm, reached through tpm_tcti)
# open nothing, say why and leave skpd running.  tpm with no TPM persists nothing;
# true with a TPM means tpm.
. tests/lib/common.sh
. tests/system/lib/skp.sh

[ -c /dev/tpmrm0 ] || fail "no /dev/tpmrm0: run with tests/vm/run --tpm"
PY=/usr/bin/python3
T=(-T device:/dev/tpmrm0)
tpm2_pcrreset "${T[@]}" 23 || fail "cannot reset PCR 23"
read -ra servers <<< "$SKP_KMS_SERVERS"
K=$W/state
SKPTAB=$W/skptab write_conf "$W/on.conf" "$S"
printf 'key_persistence = tpm\nkey_persistence_dir = %s\ntpm_pcrs = 23\n' "$K" >> "$W/on.conf"
cp "$W/on.conf" "$W/down.conf"
provider_section corp-kms a true "${servers[@]}" >> "$W/on.conf"
provider_section corp-kms a true 127.0.0.1:1 127.0.0.1:2 >> "$W/down.conf"
warn="key_persistence is ON (tpm): the KEKs of open devices are stored in $K/keks.sealed, encrypted under a key sealed by this host's TPM (PCRs: 23)"

start_skpd "$W/on.conf" "$W/on.log"
assert_contains "$(cat "$W/on.log")" "$warn"
fresh /dev/vda
skpctl format /dev/vda "${C[@]}" > /dev/null
uuid=$(skpctl dump /dev/vda | sed -n 's/^uuid: *//p')
MAPPINGS+=(kp)
skpctl open /dev/vda kp "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/kp bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/kp 4)
assert_eq "$(stat -c %a "$K/keks.sealed")" 600 "sealed file mode"
[ ! -e "$K/keks" ] || fail "a clear keks file with key_persistence = tpm"
assert_contains "$(cat "$W/on.log")" "1 KEK(s) of open devices written to $K/keks.sealed"
kek=$("$PY" tests/system/lib/keys.py /dev/vda | sed -n 's/^kek0=//p')
[ ${#kek} -eq 64 ] || fail "cannot get the KEK with PyKMIP"
# no_kek DIR...: the KEK in no file, neither in hex nor in binary.
no_kek() {
	"$PY" - "$kek" "$@" <<'PYEOF' || fail "the KEK is on disk"
import os, sys
k = bytes.fromhex(sys.argv[1])
for d in sys.argv[2:]:
    for root, _, files in os.walk(d):
        for f in files:
            b = open(os.path.join(root, f), "rb").read()
            if k in b or sys.argv[1].encode() in b.lower():
                sys.exit("KEK found in " + os.path.join(root, f))
PYEOF
}
mkdir -p /var/lib/skp
no_kek "$K" /var/lib/skp

# reboot CONF LOG: skpd stopped, the mapping gone, started again on CONF.
reboot() {
	stop_skpd "$SKPD_PID"
	dmsetup remove --noudevsync kp 2>/dev/null || true
	start_skpd "$1" "$2"
}
echo "kp UUID=$uuid" > "$W/skptab"
reboot "$W/down.conf" "$W/down.log"
assert_contains "$(cat "$W/down.log")" "key_persistence: 1 KEK(s) loaded from $K/keks.sealed"
assert_contains "$(cat "$W/down.log")" "1 device(s) opened, 0 adopted (already live), 0 pending, 0 bad line(s); 0 KEK(s) fetched"
assert_eq "$(sum_mib /dev/mapper/kp 4)" "$want" "data after a boot from the sealed KEKs"
no_kek "$K" /var/lib/skp
cp "$K/keks.sealed" "$W/sealed.good"

# refused LOG WHY: nothing opened, the reason said, skpd still answering.
refused() {
	assert_contains "$(cat "$1")" "keks.sealed cannot be opened on this host: $2"
	assert_contains "$(cat "$1")" "no KEK loaded from it (devices open through the KMS)"
	assert_contains "$(cat "$1")" "kp: getting KEK"
	! dmsetup info kp > /dev/null 2>&1 || fail "opened from a sealed set that should be refused"
	# Still running and answering (exit 3: the alarm of the KMS being down).
	kill -0 "$SKPD_PID" || fail "skpd died on a refused sealed set"
	local rc=0
	skpctl status "${C[@]}" > /dev/null || rc=$?
	[ "$rc" = 3 ] || fail "skpctl status: exit $rc after a refused sealed set"
}

# A flipped byte in the data: refused whole, and kept aside.
"$PY" -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-40] ^= 4; open(sys.argv[1], "wb").write(b)' "$K/keks.sealed"
reboot "$W/down.conf" "$W/flip.log"
refused "$W/flip.log" "sealed file does not authenticate"
[ -e "$K/keks.sealed.rejected" ] || fail "the refused file was not kept aside"

# PCR 23 extended after sealing: the TPM refuses; reset, the same file opens again.
install -m 600 "$W/sealed.good" "$K/keks.sealed"
tpm2_pcrextend "${T[@]}" 23:sha256=0000000000000000000000000000000000000000000000000000000000000001
reboot "$W/down.conf" "$W/pcr.log"
refused "$W/pcr.log" "TPM: refused to unseal: PCR(s) 23 changed since sealing"
tpm2_pcrreset "${T[@]}" 23
install -m 600 "$W/sealed.good" "$K/keks.sealed"
reboot "$W/down.conf" "$W/pcr-back.log"
assert_contains "$(cat "$W/pcr-back.log")" "key_persistence: 1 KEK(s) loaded"
dmsetup info kp > /dev/null || fail "not opened with PCR 23 back"

# Copied to another host: a second, fresh TPM (swtpm in the guest) cannot unseal it.
mkdir -p "$W/other"
start_swtpm "$W/tpm2"
install -m 700 -d "$W/other/skp" && install -m 600 "$W/sealed.good" "$W/other/skp/keks.sealed"
sed "s|^key_persistence_dir = .*|key_persistence_dir = $W/other/skp\ntpm_tcti = swtpm:path=$W/tpm2/sock|" \
	"$W/down.conf" > "$W/other.conf"
reboot "$W/other.conf" "$W/other.log"
refused "$W/other.log" "TPM: the sealed key was not made by this TPM"

# tpm and no usable TPM: said at start, nothing persisted even with a device open.
sed "s|^key_persistence_dir = .*|key_persistence_dir = $W/none\ntpm_tcti = device:/dev/no-tpm|" \
	"$W/on.conf" > "$W/none.conf"
reboot "$W/none.conf" "$W/none.log"
assert_contains "$(cat "$W/none.log")" "key_persistence = tpm but no usable TPM (no TPM: /dev/no-tpm"
dmsetup info kp > /dev/null || fail "not opened through the KMS"
[ -z "$(ls -A "$W/none" 2>/dev/null)" ] || fail "persisted without a TPM: $(ls "$W/none")"

# true with a TPM present: tpm, said so.
sed 's/^key_persistence = tpm/key_persistence = true/' "$W/on.conf" > "$W/true.conf"
reboot "$W/true.conf" "$W/true.log"
assert_contains "$(cat "$W/true.log")" "key_persistence is ON (tpm, as key_persistence = true and a TPM is present)"
[ ! -e "$K/keks" ] || fail "a clear keks file with key_persistence = true and a TPM"
no_kek "$K" /var/lib/skp
echo ok
