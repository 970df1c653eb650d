#!/bin/bash
# A native provider (type = native: KEKs made by this host, sealed by its TPM, the guest's
# /dev/tpmrm0 from vm.args' --tpm new): format on it, "reboot" (skpd restarted, the
# mapping gone) and the device opens from the sealed store through skptab.  A backup
# under a passphrase; a wrong passphrase and a flipped byte refused; restored on "another
# host" (a second skpd on a second, fresh TPM: a guest swtpm through tpm_tcti, its own
# native_dir) where the device then opens.  Then shallow rekeys under fio with
# verification: native -> KMIP for one device, KMIP -> native with --all, and a restart
# opens it from the native store again.  No TPM: skpd runs, the provider in alarm, and
# `provider test` says a native provider needs a TPM.
. tests/lib/common.sh
. tests/system/lib/skp.sh

[ -c /dev/tpmrm0 ] || fail "no /dev/tpmrm0: run with tests/vm/run --tpm"
read -ra servers <<< "$SKP_KMS_SERVERS"
N=$W/native
native_section() { printf '[provider "%s"]\ntype = native\ndefault = %s\n' "$1" "$2"; }
SKPTAB=$W/skptab write_conf "$W/a.conf" "$S"
echo "native_dir = $N" >> "$W/a.conf"
# A create under fio on a loaded host may take the KMS more than the usual 5 s.
{ native_section local true; provider_section corp-kms a false "${servers[@]}" | sed 's/^timeout = .*/timeout = 20/'; } \
	>> "$W/a.conf"
: > "$W/skptab"

start_skpd "$W/a.conf" "$W/a.log"
out=$(skpctl provider test local "${C[@]}")
assert_contains "$out" "native: TPM-sealed store $N/local: ok"
assert_contains "$(skpctl status "${C[@]}")" "provider local (default): ok"

fresh /dev/vda
skpctl format /dev/vda "${C[@]}" > /dev/null
assert_contains "$(skpctl dump /dev/vda)" "provider:    local"
uuid=$(skpctl dump /dev/vda | sed -n 's/^uuid: *//p')
MAPPINGS+=(nat)
skpctl open /dev/vda nat "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/nat bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/nat 4)
assert_eq "$(stat -c %a "$N/local/keys.sealed")" 600 "store mode"
assert_eq "$(stat -c %a "$N/local")" 700 "store directory mode"

# "Reboot": skpd stopped, the mapping gone; skptab opens it from the sealed store.
echo "nat UUID=$uuid" > "$W/skptab"
stop_skpd "$SKPD_PID"
dmsetup remove --noudevsync nat
start_skpd "$W/a.conf" "$W/a2.log"
for _ in $(seq 50); do dmsetup info nat > /dev/null 2>&1 && break; sleep 0.1; done
assert_contains "$(cat "$W/a2.log")" "native provider \"local\": 1 KEK(s) in $N/local, sealed by the TPM"
assert_eq "$(sum_mib /dev/mapper/nat 4)" "$want" "data after a reboot from the sealed store"

# Backup under a passphrase (a file for the script; a terminal prompt otherwise).
printf 'correct horse battery staple\n' > "$W/pass"
printf 'not the passphrase\n' > "$W/wrong"
chmod 600 "$W/pass" "$W/wrong"
out=$(skpctl provider backup local "$W/local.bak" --passphrase-file "$W/pass" --config "$W/a.conf")
assert_contains "$out" "backed up 1 KEK(s) of native provider \"local\" to $W/local.bak"
assert_eq "$(stat -c %a "$W/local.bak")" 600 "backup mode"
expect_fail skpctl provider backup local "$W/local.bak" --passphrase-file "$W/pass" --config "$W/a.conf"
assert_contains "$out" "File exists"

# Another host: a fresh TPM (swtpm), its own store directory and socket.
start_swtpm "$W/tpm2"
SB=$W/b.sock
write_conf "$W/b.conf" "$SB"
printf 'native_dir = %s\ntpm_tcti = swtpm:path=%s\n' "$W/hostb" "$W/tpm2/sock" >> "$W/b.conf"
native_section local true >> "$W/b.conf"
skpctl close nat "${C[@]}"
stop_skpd "$SKPD_PID"
start_skpd "$W/b.conf" "$W/b.log"
rc=0
out=$(skpctl open /dev/vda nat --socket "$SB" 2>&1) || rc=$?
assert_eq "$rc" 7 "open on another host before the restore"
assert_contains "$out" "native provider \"local\" holds no KEK"
expect_fail skpctl provider restore local "$W/local.bak" --passphrase-file "$W/wrong" --config "$W/b.conf"
assert_contains "$out" "wrong passphrase"
cp "$W/local.bak" "$W/flipped.bak"
/usr/bin/python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-20] ^= 1; open(sys.argv[1], "wb").write(b)' \
	"$W/flipped.bak"
expect_fail skpctl provider restore local "$W/flipped.bak" --passphrase-file "$W/pass" --config "$W/b.conf"
assert_contains "$out" "the file is changed or damaged"
[ ! -e "$W/hostb/local/keys.sealed" ] || fail "a refused restore wrote the store"
# Restored while this skpd runs: it finds the KEK in the store at the next open.
out=$(skpctl provider restore local "$W/local.bak" --passphrase-file "$W/pass" --config "$W/b.conf")
assert_contains "$out" "restored 1 KEK(s) into native provider \"local\" (0 already there)"
skpctl open /dev/vda nat --socket "$SB"
assert_eq "$(sum_mib /dev/mapper/nat 4)" "$want" "data on another host after the restore"
cmp -s "$W/hostb/local/keys.sealed" "$N/local/keys.sealed" && fail "the same sealed store on two TPMs"
skpctl close nat --socket "$SB"
stop_skpd "$SKPD_PID"

# Back on host A: native -> KMIP (one device) -> native (--all) under fio, verified.
start_skpd "$W/a.conf" "$W/a3.log"
for _ in $(seq 50); do dmsetup info nat > /dev/null 2>&1 && break; sleep 0.1; done
fio --name=verify --filename=/dev/mapper/nat --rw=randwrite --bs=4k --size=16M --time_based --runtime=12 \
	--direct=1 --ioengine=psync --verify=crc32c --verify_backlog=64 --verify_fatal=1 \
	--output="$W/fio.out" &
fio_pid=$!
sleep 1
skpctl rekey nat --shallow --provider corp-kms "${C[@]}" > /dev/null
assert_contains "$(skpctl dump /dev/vda)" "provider:    corp-kms"
out=$(skpctl rekey --all --from-provider corp-kms --to-provider local --shallow "${C[@]}")
assert_contains "$out" "migrated 1 device(s) from corp-kms to local, 0 failed"
kill -0 $fio_pid 2>/dev/null || fail "fio ended before the migrations did"
wait $fio_pid || { cat "$W/fio.out"; fail "fio verify failed during the migrations"; }
grep -q "err= 0" "$W/fio.out" || { cat "$W/fio.out"; fail "fio reported errors"; }
assert_contains "$(skpctl dump /dev/vda)" "provider:    local"
sum=$(sum_mib /dev/mapper/nat 16)
# Reopened from the native store alone (the KMS has nothing of it now).
stop_skpd "$SKPD_PID"
dmsetup remove --noudevsync nat
start_skpd "$W/a.conf" "$W/a4.log"
for _ in $(seq 50); do dmsetup info nat > /dev/null 2>&1 && break; sleep 0.1; done
assert_eq "$(sum_mib /dev/mapper/nat 16)" "$sum" "data after native -> KMIP -> native"
assert_contains "$(cat "$W/a4.log")" "native provider \"local\": 2 KEK(s)"

# No TPM: skpd still serves, the native provider is in alarm, and says why.
SC=$W/c.sock
write_conf "$W/c.conf" "$SC"
printf 'native_dir = %s\ntpm_tcti = device:/dev/no-tpm\n' "$W/hostc" >> "$W/c.conf"
native_section local true >> "$W/c.conf"
start_skpd "$W/c.conf" "$W/c.log"
rc=0
out=$(skpctl provider test local --socket "$SC" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "provider test passed without a TPM"
assert_contains "$out" "native provider \"local\" needs a TPM, and none is usable"
rc=0
out=$(skpctl status --socket "$SC") || rc=$?
assert_eq "$rc" 3 "status exit without a TPM"
assert_contains "$out" "ALARM: native provider \"local\" needs a TPM"
echo ok
