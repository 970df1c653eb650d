# A hung command is killed at --timeout and the run fails; no QEMU is left behind.
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
start=$SECONDS
rc=0; tests/vm/run --quiet --timeout 12 -- sleep 1000 2>/dev/null || rc=$?
assert_eq "$rc" 124 "timeout exit status"
[ $((SECONDS - start)) -lt 40 ] || fail "the timeout took $((SECONDS - start))s"
if pgrep -f "skp.run=$TMPDIR" >/dev/null; then fail "a QEMU process survived"; fi
ls "$TMPDIR"/skp-vm.* >/dev/null 2>&1 && fail "the run directory was left behind"
ls "$TMPDIR"/skp-vm-console.*.log >/dev/null 2>&1 || fail "no console log kept on timeout"
