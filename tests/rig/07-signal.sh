# SIGTERM cuts the power: the guest dies at once, the run exits non-zero, no QEMU remains.
source tests/lib/common.sh
export TMPDIR=$(mktemp -d)
trap 'rm -rf "$TMPDIR"' EXIT
out=$TMPDIR/out
tests/vm/run -- sleep 600 > "$out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q 'skp-vm: ready' "$out" && break; sleep 0.2; done
grep -q 'skp-vm: ready' "$out" || fail "the guest never became ready"
pgrep -f "skp.run=$TMPDIR" >/dev/null || fail "no QEMU found for the run"
start=$SECONDS
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
assert_eq "$rc" 143 "exit status after SIGTERM"
[ $((SECONDS - start)) -le 5 ] || fail "stopping took $((SECONDS - start))s"
sleep 0.5
if pgrep -f "skp.run=$TMPDIR" >/dev/null; then fail "QEMU survived SIGTERM"; fi
grep -q 'Power down\|reboot: ' "$out" && fail "the guest shut down cleanly instead of being cut"
rm -f "$TMPDIR"/skp-vm-console.* "$out"
