#!/bin/bash
# Guest side of the power-cut matrix (tests/crash/matrix runs it, one boot per step).
# The disk (/dev/vda) and $SKP_VM_STATE (the file manifest and the count
# of acknowledged writes) outlive each boot; everything else is lost when the power is cut.
#   guest.sh cut N POINT [setup]
#                           recover and check what the last cut left (with setup, the
#                           first boot: format, open, mkfs.ext4, write the file tree and
#                           record its sums instead), then deep-rekey again with a churn
#                           writer running and cut the power at POINT:
#                           <step>:<n> (SKP_TEST_STOP_AT, skpd stops there) or random:<s>
#   guest.sh final          recover and check only
. tests/lib/common.sh
. tests/system/lib/skp.sh
ST=$SKP_VM_STATE
[ -d "$ST" ] || fail "no state directory: run under tests/vm/run --state DIR"
DEV=/dev/vda
M=/mnt/crash
default_conf
SKPD=$SKPD_TEST	# SKP_TEST_STOP_AT
mkdir -p "$M"
MAPPINGS+=(c)

cut_power() { # why
	echo "cut: $1"
	sync "$ST" 2>/dev/null || true
	touch "$SKP_VM_RUN/out/power-cut"
	sleep 600
	fail "the power was not cut"
}

# A churn writer: 64 KiB records, each written O_DIRECT|O_DSYNC; a record counts as
# acknowledged (in $ST/acked.N) only after its write returned, so it must survive any cut.
record() { head -c 65536 < <(yes "record $1 of churn $2"); }
churn() { # N
	local i
	for ((i = 0; i < 256; i++)); do
		record "$i" "$1" | dd of="$M/churn.$1" bs=64K seek="$i" count=1 \
			oflag=direct,dsync conv=notrunc status=none iflag=fullblock || return 0
		echo "$((i + 1))" > "$ST/new-acked.$1" && mv "$ST/new-acked.$1" "$ST/acked.$1"
	done
}

# Open (recovering an interrupted rekey), mount (journal replay), check every file and
# acknowledged record while the resumed rekey runs, let it finish, fsck, check the header.
recover_and_check() { # knob-for-the-recovery-skpd
	local out n f
	SKP_TEST_STOP_AT=$1 start_skpd "$W/skpd.conf" "$W/skpd-a.log"
	if [ -n "$1" ]; then
		skpctl open "$DEV" c "${C[@]}" > "$W/open.out" 2>&1 &
		for _ in $(seq 1 600); do
			[ "$(awk '{print $3}' "/proc/$SKPD_PID/stat")" = T ] && cut_power "$1 (during recovery)"
			sleep 0.1
		done
		cat "$W/skpd-a.log"
		fail "skpd never reached $1 during recovery"
	fi
	skpctl open "$DEV" c "${C[@]}" > "$W/open.out" 2>&1 || { cat "$W/open.out" "$W/skpd-a.log"; fail "open after the cut"; }
	grep -q "interrupted deep rekey" "$W/skpd-a.log" && echo "recovered: an interrupted deep rekey"
	mount /dev/mapper/c "$M" || fail "mount after the cut"
	(cd "$M" && sha256sum -c --quiet "$ST/manifest") || fail "file checksums differ after the cut"
	for f in "$ST"/acked.[0-9]*; do
		[ -e "$f" ] || continue
		n=${f##*.}
		want=$(cat "$f")
		for ((i = 0; i < want; i++)); do
			cmp -s <(record "$i" "$n") <(dd if="$M/churn.$n" bs=64K skip="$i" count=1 status=none) ||
				fail "acknowledged record $i of churn $n lost or wrong after the cut"
		done
		echo "checked: $want acknowledged records of churn $n"
		rm -f "$M/churn.$n" "$f"
	done
	if grep -q "deep rekey" "$W/open.out"; then
		skpctl rekey c --status --wait "${C[@]}" > "$W/wait.out" || { cat "$W/wait.out" "$W/skpd-a.log"; fail "the resumed rekey did not finish"; }
		echo "resumed rekey finished"
	fi
	sync
	umount "$M"
	fsck.ext4 -fn /dev/mapper/c > "$W/fsck.out" 2>&1 || { cat "$W/fsck.out"; fail "fsck after the cut"; }
	out=$(skpctl dump "$DEV")
	assert_contains "$out" "slot 1:        empty" "slot 1 after recovery"
	assert_contains "$out" "format:        1.0" "header format after recovery"
	skpctl close c "${C[@]}" > /dev/null
	stop_skpd "$SKPD_PID"
	echo "recovery ok"
}

# A new header and ext4 with 24 files of random sizes, their checksums in $ST/manifest.
setup() {
	start_skpd "$W/skpd.conf" "$W/skpd.log"
	fresh "$DEV"
	skpctl format "$DEV" --label crash "${C[@]}" > /dev/null
	skpctl open "$DEV" c "${C[@]}" > /dev/null
	mkfs.ext4 -q /dev/mapper/c
	mount /dev/mapper/c "$M"
	for d in 1 2 3 4; do
		mkdir "$M/d$d"
		for f in 1 2 3 4 5 6; do
			head -c $(((RANDOM % 700 + 20) * 1024)) /dev/urandom > "$M/d$d/f$f"
		done
	done
	(cd "$M" && find . -type f -print0 | xargs -0 sha256sum) > "$ST/manifest"
	umount "$M"
	skpctl close c "${C[@]}" > /dev/null
	stop_skpd "$SKPD_PID"
	echo "setup: $(wc -l < "$ST/manifest") files"
}

case "${1:-}" in
cut)
	# The first boot sets the disk up instead of recovering (one boot fewer).
	n=$2 point=$3
	case "${4:-}:$point" in
	setup:*) setup ;;
	*:recovered:*) recover_and_check "$point" ;;
	*) recover_and_check "" ;;
	esac
	case "$point" in
	random:*) knob='' rate=(--rate 8) ;;
	*) knob=$point rate=() ;;
	esac
	SKP_TEST_STOP_AT=$knob start_skpd "$W/skpd.conf" "$W/skpd-b.log"
	skpctl open "$DEV" c "${C[@]}" > /dev/null
	mount /dev/mapper/c "$M"
	churn "$n" &
	sleep 0.5
	skpctl rekey c --deep --chunk 256K "${rate[@]}" "${C[@]}" > "$W/rekey.out" 2>&1 &
	if [ -z "$knob" ]; then
		sleep "${point#random:}"
		cut_power "$point, boundary $(dmsetup status c | awk '{print $4}')"
	fi
	for _ in $(seq 1 1200); do
		[ "$(awk '{print $3}' "/proc/$SKPD_PID/stat")" = T ] && cut_power "$point"
		sleep 0.1
	done
	cat "$W/rekey.out" "$W/skpd-b.log"
	fail "skpd never reached $point"
	;;
final)
	recover_and_check ""
	;;
*)
	fail "usage: guest.sh cut N POINT [setup] | final"
	;;
esac
