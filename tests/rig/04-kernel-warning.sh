# A kernel warning in the guest log fails the run even though the command succeeded,
# and a clean run leaves nothing behind.
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
rc=0
err=$(tests/vm/run --quiet -- sh -c 'echo "WARNING: CPU: 0 PID: 1 at drivers/md/dm-skp.c:1 skp_map+0x0/0x10" > /dev/kmsg' 2>&1) || rc=$?
assert_eq "$rc" 126 "a WARNING in dmesg"
assert_contains "$err" "WARNING: CPU: 0" "the offending line is printed"
rc=0
tests/vm/run --quiet -- sh -c 'echo "hung_task: task blocked for more than 120 seconds." > /dev/kmsg' 2>/dev/null || rc=$?
assert_eq "$rc" 126 "a hung-task report in dmesg"
rm -f "$TMPDIR"/skp-vm-console.*
tests/vm/run --quiet -- true
[ -z "$(ls -A "$TMPDIR")" ] || fail "a clean run left files: $(ls "$TMPDIR")"
