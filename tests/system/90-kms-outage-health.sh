#!/bin/bash
# Health alarm raised when a node keeps failing and cleared when it is back; every KMS
# node down: open devices keep working, close + reopen works from the cache; a daemon
# restarted during the outage cannot open (clear message) until a node is back.
# Runs last: it stops KMS nodes and brings one back.
. tests/lib/common.sh
. tests/system/lib/skp.sh

read -ra servers <<< "$SKP_KMS_SERVERS"
[ ${#servers[@]} -ge 2 ] || fail "needs --kms 2"
HEALTH_INTERVAL=1 write_conf "$W/skpd.conf" "$S"
provider_section corp-kms a true "${servers[@]}" >> "$W/skpd.conf"
start_skpd "$W/skpd.conf" "$W/skpd.log"
fresh /dev/vda
skpctl format /dev/vda "${C[@]}" > /dev/null
MAPPINGS+=(o)
skpctl open /dev/vda o "${C[@]}"
dd if=/dev/urandom of=/dev/mapper/o bs=1M count=4 oflag=direct status=none
want=$(sum_mib /dev/mapper/o 4)
skpctl status "${C[@]}" > /dev/null || fail "status not ok with the KMS up"

# one node down: alarm after it keeps failing (exit 3), node named in status
tests/kms/stop "$SKP_KMS_DIR" 1
wait_status 3 30
assert_contains "$(cat "$W/status.out")" "ALARM: node ${servers[1]} failing"
assert_contains "$(skpctl status --json "${C[@]}")" '"state":"failing"'
assert_contains "$(cat "$W/skpd.log")" "alarm: provider \"corp-kms\""

# every node down: I/O goes on, close + reopen from the cache
tests/kms/stop "$SKP_KMS_DIR" 0
for _ in $(seq 1 30); do
	skpctl status "${C[@]}" > "$W/status.out" 2>&1 || true
	grep -q "no reachable KMS node" "$W/status.out" && break
	sleep 1
done
assert_contains "$(cat "$W/status.out")" "no reachable KMS node"
dd if=/dev/urandom of=/dev/mapper/o bs=1M seek=4 count=2 oflag=direct status=none
assert_eq "$(sum_mib /dev/mapper/o 4)" "$want" "I/O during the outage"
want6=$(sum_mib /dev/mapper/o 6)
skpctl close o "${C[@]}"
skpctl open /dev/vda o "${C[@]}"
assert_eq "$(sum_mib /dev/mapper/o 6)" "$want6" "reopen from the cache"
expect_fail skpctl rekey o --shallow "${C[@]}"
echo "rekey during outage: $out"
skpctl close o "${C[@]}"

# daemon restart during the outage: empty cache, open fails clearly
stop_skpd "$SKPD_PID"
start_skpd "$W/skpd.conf" "$W/skpd2.log"
expect_fail skpctl open /dev/vda o "${C[@]}"
assert_contains "$out" "getting KEK"
echo "open during outage: $out"
[ ! -e /dev/mapper/o ] || fail "mapping created without a key"

# a node back: open works, the alarm clears for good once the provider is reachable
restart_node 0
skpctl open /dev/vda o "${C[@]}"
assert_eq "$(sum_mib /dev/mapper/o 6)" "$want6" "after the KMS came back"
restart_node 1
wait_status 0 60
assert_contains "$(cat "$W/skpd2.log")" "alarm cleared"
skpctl close o "${C[@]}"
echo ok
