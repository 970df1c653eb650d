# The kernel-log checker flags each kind of failure in real-looking logs and passes a clean one.
source tests/lib/common.sh
for f in tests/rig/samples/bad-*.log; do
	if tests/vm/klog-check "$f" >/dev/null; then fail "klog-check passed $f"; fi
done
n=$(ls tests/rig/samples/bad-*.log | wc -l)
[ "$n" -ge 7 ] || fail "only $n bad samples"
tests/vm/klog-check tests/rig/samples/clean-boot.log || fail "klog-check flagged a clean boot"
rc=0; tests/vm/klog-check /nonexistent 2>/dev/null || rc=$?
assert_eq "$rc" 2 "an unreadable log"
