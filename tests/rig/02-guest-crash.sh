# A guest panic fails the run and keeps the console log.
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
rc=0; err=$(tests/vm/run --quiet -- sh -c 'echo c > /proc/sysrq-trigger; sleep 30' 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "a guest panic exited 0"
assert_eq "$rc" 125 "panic exit status"
log=$(sed -n 's/^vm\/run: console log saved in //p' <<<"$err")
[ -s "$log" ] || fail "no console log saved: $err"
grep -q 'Kernel panic' "$log" || fail "the saved console log does not show the panic"
assert_contains "$err" "Kernel panic" "the panic is reported"
