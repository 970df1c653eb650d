# tests/vm/run returns the guest command's exit status.
source tests/lib/common.sh
tests/vm/run --quiet -- true || fail "'true' in the guest did not exit 0"
rc=0; tests/vm/run --quiet -- false 2>/dev/null || rc=$?
assert_eq "$rc" 1 "'false' in the guest"
rc=0; tests/vm/run --quiet -- sh -c 'exit 7' 2>/dev/null || rc=$?
assert_eq "$rc" 7 "'exit 7' in the guest"
# The command runs as root in the repository, with the module loaded and build/bin first.
out=$(tests/vm/run --quiet -- bash -c 'id -u; pwd; echo "$PATH"; grep -c "^dm_skp " /proc/modules; dmsetup targets')
assert_contains "$out" "$(printf '0\n%s\n%s/build/bin:' "$PWD" "$PWD")" "uid, cwd, PATH"
assert_contains "$out" "skp " "dmsetup targets lists skp"
