#!/bin/bash
# Shallow rekeys while fio writes and verifies (I/O never interrupted), then every
# device of provider corp-kms migrated to provider dr-kms in one command.
. tests/lib/common.sh
. tests/system/lib/skp.sh

write_conf "$W/skpd.conf" "$S"
# shellcheck disable=SC2086
{ provider_section corp-kms a true $SKP_KMS_SERVERS; provider_section dr-kms a false $SKP_KMS_SERVERS; } >> "$W/skpd.conf"
start_skpd "$W/skpd.conf" "$W/skpd.log"

fresh /dev/vda /dev/vdb
skpctl format /dev/vda --label io "${C[@]}" > /dev/null
skpctl format /dev/vdb --label second --sector-size 512 "${C[@]}" > /dev/null
MAPPINGS+=(io second)
skpctl open /dev/vda io "${C[@]}"
skpctl open /dev/vdb second "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/second bs=1M count=4 oflag=direct status=none
sum2=$(sum_mib /dev/mapper/second 4)

fio --name=verify --filename=/dev/mapper/io --rw=randwrite --bs=4k --size=24M --time_based --runtime=6 \
	--direct=1 --ioengine=psync --verify=crc32c --verify_backlog=64 --verify_fatal=1 \
	--output="$W/fio.out" &
fio_pid=$!
keks=()
for i in 1 2 3; do
	sleep 1
	kill -0 $fio_pid 2>/dev/null || break
	skpctl rekey io --shallow "${C[@]}" > /dev/null
	keks+=("$(skpctl list --json --provider corp-kms "${C[@]}" | grep -o '"mapping":"io"[^}]*' | sed -n 's/.*"kek_uid":"\([^"]*\)".*/\1/p')")
done
wait $fio_pid || { cat "$W/fio.out"; fail "fio verify failed during rekey"; }
grep -q "err= 0" "$W/fio.out" || { cat "$W/fio.out"; fail "fio reported errors"; }
[ ${#keks[@]} -ge 1 ] || fail "no rekey happened while fio ran"
[ "$(printf '%s\n' "${keks[@]}" | sort -u | wc -l)" -eq ${#keks[@]} ] || fail "rekeys reused a KEK"

# Migration: one command moves both devices to dr-kms.
out=$(skpctl rekey --all --from-provider corp-kms --to-provider dr-kms --shallow "${C[@]}")
assert_contains "$out" "migrated 2 device(s) from corp-kms to dr-kms, 0 failed"
assert_eq "$(skpctl list --provider corp-kms --json "${C[@]}")" "[]" "devices left on corp-kms"
l=$(skpctl list --provider dr-kms --json "${C[@]}")
assert_contains "$l" '"mapping":"io"'
assert_contains "$l" '"mapping":"second"'
assert_contains "$(skpctl dump /dev/vdb)" "provider:    dr-kms"
kc=$(skpctl keys count --json "${C[@]}")
assert_contains "$kc" '"corp-kms":0'
assert_contains "$kc" '"dr-kms":2'
# Bad migration requests are refused with a reason.
expect_fail skpctl rekey --all --from-provider dr-kms --to-provider nowhere --shallow "${C[@]}"
assert_contains "$out" 'provider "nowhere" is not configured'
expect_fail skpctl rekey --all --from-provider dr-kms --to-provider corp-kms "${C[@]}"
assert_contains "$out" "say which: --shallow"
expect_fail skpctl rekey --all --from-provider dr-kms --to-provider corp-kms --deep "${C[@]}"
assert_contains "$out" "only --shallow is possible"

# After migration a fresh daemon (empty cache) reopens through the new provider.
skpctl close io "${C[@]}"; skpctl close second "${C[@]}"
stop_skpd "$SKPD_PID"
start_skpd "$W/skpd.conf" "$W/skpd2.log"
skpctl open /dev/vdb second "${C[@]}"
assert_eq "$(sum_mib /dev/mapper/second 4)" "$sum2" "data after migration"
skpctl close second "${C[@]}"
echo "ok"
