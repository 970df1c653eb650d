# A checkout below /tmp (where CI may clone) stays visible and writable in the guest,
# although the guest mounts a fresh tmpfs on /tmp.
source tests/lib/common.sh
d=$(mktemp -d /tmp/skp-rig-checkout.XXXXXX)
trap 'rm -rf "$d"' EXIT
cp -r tests kernel "$d/"
out=$("$d/tests/vm/run" --quiet -- bash -c 'pwd; test -x tests/vm/guest-init && echo seen; touch probe && echo writable')
assert_eq "$out" "$(printf '%s\nseen\nwritable' "$d")" "the checkout in the guest"
[ ! -e "$d/probe" ] || fail "a guest write reached the host checkout"
