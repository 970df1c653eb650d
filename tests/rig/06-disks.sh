# --disk SIZE makes throwaway disks named /dev/vda, /dev/vdb, ... in order;
# --disk PATH keeps an image so a later boot sees what an earlier one wrote.
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
img=$TMPDIR/persist.img
truncate -s 8M "$img"
out=$(tests/vm/run --quiet --disk 16M --disk 32M --disk "$img" -- sh -c '
	blockdev --getsize64 /dev/vda /dev/vdb /dev/vdc
	echo skp-marker-123 | dd of=/dev/vdc conv=fsync status=none')
assert_eq "$(echo $out)" "16777216 33554432 8388608" "disk sizes in order"
out=$(tests/vm/run --quiet --disk "$img" -- sh -c 'head -c 14 /dev/vda')
assert_eq "$out" "skp-marker-123" "a second boot reads the first boot's write"
[ -f "$img" ] || fail "--disk PATH removed the image"
rm -f "$img"
[ -z "$(ls -A "$TMPDIR")" ] || fail "throwaway disks left behind: $(ls "$TMPDIR")"
