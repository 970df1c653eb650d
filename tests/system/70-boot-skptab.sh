#!/bin/bash
# Boot from skptab: skpd opens every listed device at start with one batched KEK fetch
# per provider, then sends READY=1 to $NOTIFY_SOCKET, only once the mappings exist.
# A bad skptab line (file:line), a missing UUID and a KEK the KMS refuses are logged;
# the other devices still open, and READY comes once the failing entries have waited
# their timeout=.  Restarted with the mappings live, skpd adopts them.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
N=6
SLICE_MIB=40	# 16 MiB header area + data; 6 slices fit /dev/vdb (256 MiB)
slices_cleanup() {
	skp_cleanup
	for i in $(seq 0 $((N - 1))); do dmsetup remove --noudevsync "slice$i" 2>/dev/null || true; done
}
trap slices_cleanup EXIT
for i in $(seq 0 $((N - 1))); do
	dmsetup create --noudevsync "slice$i" --table "0 $((SLICE_MIB * 2048)) linear /dev/vdb $((i * SLICE_MIB * 2048))"
done
dmsetup mknodes
for i in $(seq 0 $((N - 1))); do fresh "/dev/mapper/slice$i"; done

# Format: slice0..4 on corp-kms (identity a), slice5 on "other" as identity b, whose KEK
# identity a may not read: at boot "other" is configured with identity a.
write_conf "$W/fmt.conf" "$S"
{ provider_section corp-kms a true "${servers[0]}"; provider_section other b false "${servers[0]}"; } >> "$W/fmt.conf"
start_skpd "$W/fmt.conf" "$W/fmt.log"
declare -A uuid sum
for i in $(seq 0 $((N - 1))); do
	p=corp-kms; [ "$i" = 5 ] && p=other
	skpctl format "/dev/mapper/slice$i" --provider $p "${C[@]}" > /dev/null
	uuid[$i]=$(skpctl dump "/dev/mapper/slice$i" | sed -n 's/^uuid: *//p')
	MAPPINGS+=("b$i")
	skpctl open "/dev/mapper/slice$i" "b$i" "${C[@]}"
	dd if=/dev/urandom of="/dev/mapper/b$i" bs=1M count=2 oflag=direct status=none
	sum[$i]=$(sum_mib "/dev/mapper/b$i" 2)
	skpctl close "b$i" "${C[@]}"
done
stop_skpd "$SKPD_PID"

# skptab: by UUID and by path, options, and lines that must fail alone.
TAB=$W/skptab
cat > "$TAB" <<TAB
# boot devices
b0 UUID=${uuid[0]}
b1 /dev/mapper/slice1 discard
b2 UUID=${uuid[2]} nofail
bad1 UUID=not-a-uuid
b3 UUID=${uuid[3]} -
bad2 /dev/mapper/slice4 bogus
gone UUID=00000000-1111-4222-8333-444444444444 timeout=2
b4 UUID=${uuid[4]} defaults
b5 UUID=${uuid[5]} timeout=3
TAB
write_conf "$W/boot.conf" "$S"
sed -i "s|^skptab = .*|skptab = /nonexistent/skptab|" "$W/boot.conf"	# --skptab overrides it
{ provider_section corp-kms a true "${servers[0]}"; provider_section other a false "${servers[0]}"; } >> "$W/boot.conf"

# A NOTIFY_SOCKET listener: on READY=1 it records which mappings exist at that moment.
NS=$W/notify.sock
/usr/bin/python3 - "$NS" "$W/ready" b0 b1 b2 b3 b4 <<'PY' &
import os, socket, sys, time
path, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(240)
t0 = time.monotonic()
while True:
    msg = s.recv(4096).decode()
    if "READY=1" in msg.split("\n"):
        break
present = [n for n in names if os.path.exists("/dev/mapper/" + n)]
with open(out + ".tmp", "w") as f:
    f.write("present %s\nafter %.1f s\n" % (" ".join(present), time.monotonic() - t0))
os.rename(out + ".tmp", out)
PY
LPID=$!
for _ in $(seq 1 50); do [ -S "$NS" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$NS skpd --config "$W/boot.conf" --skptab "$TAB" > "$W/boot.log" 2>&1 &
SKPD_PID=$!
SKPD_PIDS+=("$SKPD_PID")
wait "$LPID" || { cat "$W/boot.log" >&2; fail "no READY=1 from skpd"; }
cat "$W/ready"
log=$(cat "$W/boot.log")
echo "$log" | grep -E "skptab|$TAB" || true
assert_contains "$(cat "$W/ready")" "present b0 b1 b2 b3 b4" "mappings at READY"
assert_contains "$log" "$TAB:5: bad UUID 'not-a-uuid': line skipped"
assert_contains "$log" "$TAB:7: unknown option 'bogus' (nofail, discard, initramfs, timeout=SECONDS): line skipped"
assert_contains "$log" "$TAB:8: gone: no device with this UUID found"
assert_contains "$log" "$TAB:10: b5: getting KEK"
# 5 opened; bad1, bad2 skipped, gone and b5 pending; one batch per provider, one request
# each (one node per provider): 2 KMIP requests for the whole boot.
assert_contains "$log" "5 device(s) opened, 0 adopted (already live), 2 pending, 2 bad line(s); 5 KEK(s) fetched in 2 batch(es), 2 KMIP request(s)"
# READY waited for b5's 3 s (gone: 2 s), not for the default 90.
after=$(sed -n 's/^after \([0-9.]*\) s$/\1/p' "$W/ready")
python3 -c "import sys; a = float(sys.argv[1]); sys.exit(not 2.5 <= a <= 20)" "$after" ||
	fail "READY after $after s, expected after b5's timeout=3"
[ ! -e /dev/mapper/b5 ] && [ ! -e /dev/mapper/gone ] || fail "a failed entry got a mapping"
for i in 0 1 2 3 4; do assert_eq "$(sum_mib "/dev/mapper/b$i" 2)" "${sum[$i]}" "data of b$i"; done
assert_contains "$(dmsetup table b1)" "allow_discards"
st=$(skpctl status --json "${C[@]}" || true)
assert_contains "$st" '"devices":5'
assert_contains "$st" '"cached_keks":5'
assert_contains "$st" '"pending":[{"mapping":"gone","waiting_for":"device"'
assert_contains "$st" '{"mapping":"b5","waiting_for":"provider","provider":"other"'
assert_contains "$(skpctl status "${C[@]}" || true)" "pending b5: getting KEK"

# Restart with the mappings still live: adopted (their KEKs fetched again, in one batch
# per provider), not reopened: the tables are untouched.
t0=$(dmsetup table b0)
stop_skpd "$SKPD_PID"
skpd --config "$W/boot.conf" --skptab "$TAB" > "$W/boot2.log" 2>&1 &
SKPD_PID=$!
SKPD_PIDS+=("$SKPD_PID")
for _ in $(seq 1 300); do grep -q "KMIP request" "$W/boot2.log" && break; sleep 0.1; done
assert_contains "$(cat "$W/boot2.log")" "0 device(s) opened, 5 adopted (already live), 2 pending, 2 bad line(s); 5 KEK(s) fetched in 2 batch(es)"
assert_eq "$(dmsetup table b0)" "$t0" "b0's table after adoption"
for _ in $(seq 1 100); do skpctl status "${C[@]}" > /dev/null 2>&1; [ $? -le 3 ] && break; sleep 0.1; done
assert_contains "$(skpctl list "${C[@]}")" "b4"
echo ok
