#!/bin/bash
# Key bytes in skpd's memory (issue 11, item 6), found by scanning /proc/PID/mem of the live
# daemon (lib/memscan.py) for keys the test gets without skpd (lib/keys.py: the KEK from
# PyKMIP's own client, the DEK unwrapped from the header with it).
# 1. The production skpd opens a device (fetching its KEK): the KEK is only in skp's secmem
#    (the KEK cache: locked, not dumped), not in memory where OpenSSL freed its TLS buffers,
#    while the connection that carried it is alive and after it ended (reload); the DEK is
#    nowhere.  All of skpd's memory is locked (mlockall: VmLck is every mapping).
# 2. The test build, a deep rekey paused, SIGTERM: stopped at the end of its exit path
#    (SKP_TEST_STOP_AT=exit:1), skpd holds no copy of either DEK or KEK.
# Findings are collected and reported together at the end.
. tests/lib/common.sh
. tests/system/lib/skp.sh

PY=/usr/bin/python3
MEMSCAN=tests/system/lib/memscan.py
default_conf
fresh /dev/vdb
# 32 MiB: 16 MiB of data
dmsetup create --noudevsync lower55 --table "0 65536 linear /dev/vdb 0"
dmsetup mknodes
MAPPINGS+=(d55 lower55)

start_skpd "$W/skpd.conf" "$W/skpd0.log"
skpctl format /dev/mapper/lower55 --label mem "${C[@]}" > /dev/null
stop_skpd "$SKPD_PID"
keys=$("$PY" tests/system/lib/keys.py /dev/mapper/lower55) || fail "cannot get the keys with PyKMIP"
key() { sed -n "s/^$1=//p" <<< "$keys"; }
kek0=$(key kek0) dek0=$(key dek0)
[ "${#kek0}:${#dek0}" = 64:128 ] || fail "keys.py: $keys"

# scan PID WHAT NAME=HEX...: prints where each key is; sets SCAN (memscan's output).
scan() {
	local pid=$1 what=$2
	shift 2
	SCAN=$("$PY" "$MEMSCAN" scan "$pid" "$@") || fail "memscan failed"
	echo "$what:"
	awk '$1 == "hit" { print "  " $0 }' <<< "$SCAN"
}
# copies NAME total|secmem|other|unlocked: from memscan's "count NAME TOTAL SECMEM OTHER UNLOCKED"
copies() {
	awk -v n="$1" -v w="$2" 'BEGIN { f["total"] = 3; f["secmem"] = 4; f["other"] = 5; f["unlocked"] = 6 }
		$1 == "count" && $2 == n { print $f[w] }' <<< "$SCAN"
}
FINDINGS=()
# want WHAT GOT EXPECTED
want() { [ "$2" = "$3" ] || FINDINGS+=("$1: $2, want $3"); }
# kek_only_cached WHEN: one copy of the KEK (the cache's, in secmem), no DEK anywhere.
kek_only_cached() {
	want "KEK copies outside secmem $1" "$(copies kek0 other)" 0
	want "KEK copies in unlocked memory $1" "$(copies kek0 unlocked)" 0
	# The cached copy must be seen: else the scan proves nothing.
	want "KEK copies in secmem (the cache's) $1" "$(copies kek0 secmem)" 1
	want "DEK copies $1" "$(copies dek0 total)" 0
}

# 1. Open: a fresh skpd fetches the KEK.
start_skpd "$W/skpd.conf" "$W/skpd1.log"
skpctl open /dev/mapper/lower55 d55 "${C[@]}" > /dev/null
scan "$SKPD_PID" "after open (connection alive)" kek0="$kek0" dek0="$dek0"
kek_only_cached "after open"
# A reload replaces the providers: the connection that carried the KEK ends.
kill -HUP "$SKPD_PID"
for _ in $(seq 1 100); do grep -q "reloaded" "$W/skpd1.log" && break; sleep 0.1; done
grep -q "reloaded" "$W/skpd1.log" || { cat "$W/skpd1.log"; fail "no reload"; }
scan "$SKPD_PID" "after reload (connection closed)" kek0="$kek0" dek0="$dek0"
kek_only_cached "after the connection ended"

locked=$("$PY" "$MEMSCAN" locked "$SKPD_PID") || fail "memscan locked failed"
head -n 6 <<< "$locked"
read -r _ vmlck mapped < <(grep '^vmlck' <<< "$locked")
want "mappings of skpd not locked" "$(grep -c '^unlocked' <<< "$locked")" 0
want "VmLck (kB) against all of skpd's mappings (kB)" "$vmlck" "$mapped"
want "core size limit" "$(awk '/^Max core file size/ { print $5 }' "/proc/$SKPD_PID/limits")" 0
skpctl close d55 "${C[@]}" > /dev/null
stop_skpd "$SKPD_PID"

# 2. SIGTERM during a paused deep rekey: both DEKs wiped before skpd exits.
SKPD=$SKPD_TEST SKP_TEST_STOP_AT=exit:1 start_skpd "$W/skpd.conf" "$W/skpd2.log"
skpctl open /dev/mapper/lower55 d55 "${C[@]}" > /dev/null
skpctl rekey d55 --deep --chunk 256K --rate 1 "${C[@]}" > /dev/null
sleep 1
assert_contains "$(skpctl rekey d55 --pause "${C[@]}")" "paused"
keys=$("$PY" tests/system/lib/keys.py /dev/mapper/lower55) || fail "cannot get the keys with PyKMIP"
kek1=$(key kek1) dek1=$(key dek1)
[ "${#kek1}:${#dek1}" = 64:128 ] || fail "keys.py during the rekey: $keys"
all=(kek0="$kek0" dek0="$dek0" kek1="$kek1" dek1="$dek1")
scan "$SKPD_PID" "deep rekey paused" "${all[@]}"
for k in dek0 dek1; do
	want "$k copies outside secmem during the rekey" "$(copies $k other)" 0
	[ "$(copies $k secmem)" -ge 1 ] || fail "$k not seen in the paused rekey's state: the scan proves nothing"
done
kill -TERM "$SKPD_PID"
stopped() { [ "$(awk '{print $3}' "/proc/$SKPD_PID/stat" 2>/dev/null)" = T ]; }
for _ in $(seq 1 100); do stopped && break; sleep 0.1; done
stopped || { cat "$W/skpd2.log"; fail "skpd did not stop at the end of its exit path"; }
scan "$SKPD_PID" "SIGTERM, at exit" "${all[@]}"
kill -CONT "$SKPD_PID"
wait "$SKPD_PID" || fail "skpd exited $? on SIGTERM"
for k in kek0 dek0 kek1 dek1; do
	want "$k copies left when skpd exits" "$(copies $k total)" 0
done
[ ${#FINDINGS[@]} = 0 ] || fail "$(printf '\n  %s' "${FINDINGS[@]}")"
echo "keys only in secmem, all memory locked, keys wiped on SIGTERM"
