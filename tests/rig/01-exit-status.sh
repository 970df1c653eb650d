# tests/vm/run returns the guest command's exit status, and a clean run leaves nothing behind.
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
rc=0; tests/vm/run --quiet -- sh -c 'exit 7' 2>/dev/null || rc=$?
assert_eq "$rc" 7 "'exit 7' in the guest"
rm -f "$TMPDIR"/skp-vm-console.*
# The command runs as root in the repository, with the module loaded and build/bin first.
out=$(tests/vm/run --quiet -- bash -c 'id -u; pwd; echo "$PATH"; grep -c "^dm_skp " /proc/modules; dmsetup targets') ||
	fail "a command exiting 0 in the guest: the run failed"
assert_contains "$out" "$(printf '0\n%s\n%s/build/bin:' "$PWD" "$PWD")" "uid, cwd, PATH"
assert_contains "$out" "skp " "dmsetup targets lists skp"
[ -z "$(ls -A "$TMPDIR")" ] || fail "a clean run left files: $(ls "$TMPDIR")"
