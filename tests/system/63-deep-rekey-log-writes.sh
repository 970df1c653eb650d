#!/bin/bash
# The deep rekey against a disk with a volatile write cache: the whole rekey runs on top
# of dm-log-writes, then the device is rebuilt as it stood after every logged write
# (tests/crash/lw-replay), and once more with every write not yet flushed lost (what a
# power cut may do to a disk with a write cache, and killing the VM never does).  From each
# state a fresh skpd must open the device, finish the rekey and read back exactly the
# data written before it began.
. tests/lib/common.sh
. tests/system/lib/skp.sh

default_conf
HDR=32768		# the header area, sectors
SECT=$((HDR + 2048))	# 1 MiB of data: 4 chunks of 256 KiB (first, middle and last kinds)
DEV=/dev/ram1 LOG=/dev/ram2 SCRATCH=/dev/ram3
MAPPINGS+=(d63 r63 lw63)

start_skpd "$W/skpd.conf" "$W/skpd.log"
dmsetup create --noudevsync lw63 --table "0 $SECT linear $DEV 0"
dmsetup mknodes
fresh /dev/mapper/lw63
skpctl format /dev/mapper/lw63 --label lw "${C[@]}" > /dev/null
skpctl open /dev/mapper/lw63 d63 "${C[@]}" > /dev/null
dd if=/dev/urandom of=/dev/mapper/d63 bs=1M count=1 oflag=direct status=none
want=$(sum_mib /dev/mapper/d63 1)
skpctl close d63 "${C[@]}" > /dev/null
dd if=$DEV of="$W/base.img" bs=512 count=$SECT status=none

# The rekey, every write logged.
dd if=/dev/zero of=$LOG bs=1M count=1 status=none
dmsetup suspend lw63
dmsetup load lw63 --table "0 $SECT log-writes $DEV $LOG"
dmsetup resume lw63
skpctl open /dev/mapper/lw63 d63 "${C[@]}" > /dev/null
skpctl rekey d63 --deep --chunk 256K "${C[@]}" > /dev/null
skpctl rekey d63 --status --wait "${C[@]}" > /dev/null || { cat "$W/skpd.log"; fail "the logged rekey did not finish"; }
skpctl close d63 "${C[@]}" > /dev/null
dmsetup remove --noudevsync lw63
tests/crash/lw-replay $LOG list > "$W/entries"
n=$(wc -l < "$W/entries")
flushes=$(grep -c ' flush' "$W/entries" || true)
fuas=$(grep -c 'fua' "$W/entries" || true)
echo "# $n log entries, $flushes flushes, $fuas FUA writes"
[ "$n" -ge 10 ] && [ "$flushes" -ge 4 ] && [ "$fuas" -ge 4 ] ||
	{ cat "$W/entries"; fail "the log does not look like a rekey of 4 chunks"; }

# check K [--lose]: the state after entries [0, K), then recovery must give back the data.
check() {
	local out
	dd if="$W/base.img" of=$SCRATCH bs=1M conv=fsync status=none
	out=$(tests/crash/lw-replay $LOG replay $SCRATCH "$@") || fail "replay $*: $out"
	skpctl open $SCRATCH r63 "${C[@]}" > "$W/open.out" 2>&1 ||
		{ cat "$W/open.out"; tail -20 "$W/skpd.log"; fail "open after replaying $* ($out)"; }
	if grep -q "deep rekey" "$W/open.out"; then
		resumed=$((resumed + 1))
		skpctl rekey r63 --status --wait "${C[@]}" > "$W/wait.out" ||
			{ cat "$W/wait.out"; tail -20 "$W/skpd.log"; fail "rekey after replaying $*"; }
	fi
	[ "$(sum_mib /dev/mapper/r63 1)" = "$want" ] || fail "data differs after replaying $* ($out)"
	skpctl close r63 "${C[@]}" > /dev/null
	states=$((states + 1))
}
states=0 resumed=0
last_flush=-1
while read -r i _ _ flags _; do
	check "$i"
	# Writes after the last flush and without FUA may be lost: cut with them gone too.
	if [ "$i" -gt 0 ] && awk -v a="$last_flush" -v b="$i" 'NR > a + 1 && NR <= b && $4 !~ /fua|flush|mark/ {x = 1} END {exit !x}' "$W/entries"; then
		check "$i" --lose
	fi
	case "$flags" in *flush*) last_flush=$i ;; esac
done < "$W/entries"
# The replay is real: most states hold a rekey in flight, and the whole log is a finished one.
[ "$resumed" -ge $((states / 2)) ] || fail "only $resumed of $states states had a rekey to resume"
check "$n"
grep -q "deep rekey" "$W/open.out" && fail "the whole log replayed still shows a rekey in progress"
assert_contains "$(skpctl dump $SCRATCH)" "generation:  2" "generation after the whole log"
echo "ok ($states replayed states of $n entries, $resumed with a rekey resumed)"
