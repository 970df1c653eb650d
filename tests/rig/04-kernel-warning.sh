# A kernel warning in the guest log fails the run even though the command succeeded.
# (Each kind of report the checker knows is tested on sample logs: 05-klog-check.sh.)
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
rc=0
err=$(tests/vm/run --quiet -- sh -c 'echo "WARNING: CPU: 0 PID: 1 at drivers/md/dm-skp.c:1 skp_map+0x0/0x10" > /dev/kmsg' 2>&1) || rc=$?
assert_eq "$rc" 126 "a WARNING in dmesg"
assert_contains "$err" "WARNING: CPU: 0" "the offending line is printed"
