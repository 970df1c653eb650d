# Smoke test of a booted kernel: the right kernel runs, this kernel's build of the module
# is loaded and the skp target is registered.
source tests/lib/common.sh
assert_eq "$(uname -r)" "$SKP_KVER" "running kernel"
grep -q '^dm_skp ' /proc/modules || fail "dm_skp not loaded"
assert_eq "$(modinfo -F vermagic "$SKP_KO" | cut -d' ' -f1)" "$SKP_KVER" "module built for this kernel"
dmsetup targets | grep -q '^skp ' || fail "skp target not registered"
