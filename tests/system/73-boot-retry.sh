#!/bin/bash
# skptab entries that cannot be opened at start stay pending and open by themselves:
# skpd started with its KMS down sends READY=1 once the entry without nofail has waited
# its timeout= (nofail entries never delay it), says what it waits for in STATUS=, logs
# each failure once, and opens the devices when the KMS answers again (health probe) with
# no command; a device that appears later (a loop device attached) opens at once
# (kernel uevent).  Restarted with the mappings live and a deep rekey running or paused,
# skpd adopts them and the rekey goes on (or stays paused).
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$@"; }
wait_for() { # path seconds
	local i
	for i in $(seq 1 $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}
boundary() { dmsetup status rk | awk '{print $4}'; }
LOOP=
cleanup73() {
	skp_cleanup
	dmsetup remove --noudevsync lower73 2>/dev/null || true
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
}
trap cleanup73 EXIT

# Devices: late on vda; rk on the first 24 MiB of vdb (deep rekeys later, kept short); hot, 40 MiB
# further on vdb, seen through a loop device that is detached while skpd starts.
fresh /dev/vda /dev/vdb
dmsetup create --noudevsync lower73 --table "0 49152 linear /dev/vdb 0"
dmsetup mknodes
LOOP=$(losetup -f --show -o $((64 << 20)) --sizelimit $((40 << 20)) /dev/vdb)
fresh "$LOOP"
HEALTH_INTERVAL=2 write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "${servers[0]}" >> "$W/skpd.conf"
start_skpd "$W/skpd.conf" "$W/fmt.log"
declare -A uuid sum
for d in late:/dev/vda rk:/dev/mapper/lower73 hot:$LOOP; do
	n=${d%%:*} dev=${d#*:}
	skpctl format "$dev" "${C[@]}" > /dev/null
	uuid[$n]=$(skpctl dump "$dev" | sed -n 's/^uuid: *//p')
	MAPPINGS+=("$n")
	skpctl open "$dev" "$n" "${C[@]}" > /dev/null
	dd if=/dev/urandom of="/dev/mapper/$n" bs=1M count=8 oflag=direct status=none
	sum[$n]=$(sum_mib "/dev/mapper/$n" 8)
	skpctl close "$n" "${C[@]}" > /dev/null
done
stop_skpd "$SKPD_PID"
losetup -d "$LOOP"
LOOP=

# 1. KMS down at start.  READY after late's timeout=5, not for the nofail ones.
cat > "$W/skptab" <<TAB
late UUID=${uuid[late]} timeout=5
rk UUID=${uuid[rk]} nofail
hot UUID=${uuid[hot]} nofail
TAB
sed -i "s|^skptab = .*|skptab = $W/skptab|" "$W/skpd.conf"
tests/kms/stop "$SKP_KMS_DIR" 0
NS=$W/notify.sock
/usr/bin/python3 - "$NS" "$W/notify" <<'PY' &
import socket, sys, time
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(120)
t0 = time.monotonic()
lines = []
while True:
    msg = s.recv(4096).decode()
    for l in msg.split("\n"):
        lines.append("%.1f %s" % (time.monotonic() - t0, l))
    if "READY=1" in msg.split("\n"):
        break
with open(out + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
import os
os.rename(out + ".tmp", out)
PY
LPID=$!
for _ in $(seq 1 50); do [ -S "$NS" ] && break; sleep 0.1; done
t_start=$(now)
NOTIFY_SOCKET=$NS skpd --config "$W/skpd.conf" > "$W/boot.log" 2>&1 &
SKPD_PID=$!
SKPD_PIDS+=("$SKPD_PID")
wait "$LPID" || { cat "$W/boot.log" >&2; fail "no READY=1 from skpd"; }
cat "$W/notify"
ready_at=$(sed -n 's/^\([0-9.]*\) READY=1$/\1/p' "$W/notify")
python3 -c "import sys; a = float(sys.argv[1]); sys.exit(not 4.5 <= a <= 15)" "$ready_at" ||
	fail "READY after $ready_at s, expected after late's timeout=5"
assert_contains "$(cat "$W/notify")" "STATUS=waiting for 1 device(s): late (getting KEK"
assert_contains "$(cat "$W/notify")" "EXTEND_TIMEOUT_USEC="
! grep -q "STATUS=.*\(rk\|hot\) (" "$W/notify" || fail "a nofail entry delayed READY"
[ ! -e /dev/mapper/late ] || fail "late opened without the KMS"

# Still pending and retried (1, 2, 4, 8 s ...), the failure logged once per entry.
sleep 10
st=$(skpctl status "${C[@]}" || true)
echo "$st" | grep pending
assert_contains "$st" "pending late: getting KEK"
assert_contains "$st" "pending hot: no device with this UUID found (waiting for its device"
attempts=$(echo "$st" | sed -n 's/^pending late: .*; \([0-9]*\) attempt(s).*/\1/p')
[ "$attempts" -ge 4 ] || fail "late tried $attempts time(s) in 15 s"
assert_contains "$(skpctl status --json "${C[@]}" || true)" '{"mapping":"rk","waiting_for":"provider","provider":"corp-kms"'
assert_eq "$(grep -c "late: getting KEK" "$W/boot.log")" 1 "failure lines for late"
assert_eq "$(grep -c "hot: no device" "$W/boot.log")" 1 "failure lines for hot"

# 2. The KMS comes back: the health probe (every 2 s) finds it and both open at once,
# not at the end of their backoff (16 s by now); nobody asks.
restart_node 0
t_up=$(now)
wait_for /dev/mapper/late 30 || { cat "$W/boot.log" >&2; fail "late did not open when the KMS came back"; }
t_open=$(now)
wait_for /dev/mapper/rk 10 || fail "rk did not open when the KMS came back"
echo "KMS answering -> late open: $(elapsed "$t_up" "$t_open") s"
assert_contains "$(cat "$W/boot.log")" "late opened after"
assert_contains "$(cat "$W/boot.log")" "rk opened after"
python3 -c "import sys; sys.exit(not float(sys.argv[1]) <= 8)" "$(elapsed "$t_up" "$t_open")" ||
	fail "late opened $(elapsed "$t_up" "$t_open") s after the KMS answered (no health kick?)"
for n in late rk; do assert_eq "$(sum_mib "/dev/mapper/$n" 8)" "${sum[$n]}" "data of $n"; done

# 3. hot's device appears: a loop device attached (a block change uevent) opens it at once.
t_add=$(now)
LOOP=$(losetup -f --show -o $((64 << 20)) --sizelimit $((40 << 20)) /dev/vdb)
wait_for /dev/mapper/hot 10 || { cat "$W/boot.log" >&2; fail "hot did not open when its device appeared"; }
echo "loop attached -> hot open: $(elapsed "$t_add" "$(now)") s"
assert_eq "$(sum_mib /dev/mapper/hot 8)" "${sum[hot]}" "data of hot"
assert_contains "$(cat "$W/boot.log")" "hot opened after"
st=$(skpctl status "${C[@]}" || true)
! echo "$st" | grep -q "^pending" || fail "entries still pending: $st"

# 4. Restart with a deep rekey running: adopted at start, it goes on and finishes.
skpctl rekey rk --deep --chunk 256K --rate 2 "${C[@]}" > /dev/null
sleep 1.5
stop_skpd "$SKPD_PID"
b=$(boundary)
[ "$b" -gt 0 ] || fail "the rekey had not started (boundary $b)"
t_restart=$(now)
start_skpd "$W/skpd.conf" "$W/restart.log"
for _ in $(seq 1 100); do grep -q "KMIP request" "$W/restart.log" && break; sleep 0.1; done
assert_contains "$(cat "$W/restart.log")" "0 device(s) opened, 3 adopted (already live), 0 pending"
assert_contains "$(skpctl list "${C[@]}")" "rk"
sleep 2
# Moved on, or already done (boundary 0; generation 2 checked below).
b2=$(boundary)
[ "$b2" -gt "$b" ] || [ "$b2" = 0 ] || fail "the adopted rekey did not go on (boundary $b2, was $b)"
skpctl rekey rk --status --wait "${C[@]}" > /dev/null || { cat "$W/restart.log"; fail "adopted rekey did not finish"; }
echo "restart -> rekey done: $(elapsed "$t_restart" "$(now)") s"
assert_contains "$(skpctl dump /dev/mapper/lower73)" "generation:  2"
assert_eq "$(sum_mib /dev/mapper/rk 8)" "${sum[rk]}" "data of rk after the rekey"

# 5. Paused, then restarted: adopted, still paused.
skpctl rekey rk --deep --chunk 256K --rate 4 "${C[@]}" > /dev/null
sleep 1
skpctl rekey rk --pause "${C[@]}" > /dev/null
b=$(boundary)
stop_skpd "$SKPD_PID"
start_skpd "$W/skpd.conf" "$W/restart2.log"
for _ in $(seq 1 100); do grep -q "KMIP request" "$W/restart2.log" && break; sleep 0.1; done
assert_contains "$(cat "$W/restart2.log")" "3 adopted (already live)"
assert_contains "$(skpctl rekey rk --status "${C[@]}")" "state=paused"
sleep 1
assert_eq "$(boundary)" "$b" "boundary of a paused rekey after the restart"
skpctl rekey rk --resume "${C[@]}" > /dev/null
skpctl rekey rk --status --wait "${C[@]}" > /dev/null || fail "resumed rekey did not finish"
assert_eq "$(sum_mib /dev/mapper/rk 8)" "${sum[rk]}" "data of rk after the second rekey"
echo ok
