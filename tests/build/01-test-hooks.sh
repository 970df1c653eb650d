#!/bin/bash
# Test switches are compiled into the test build only (issue 11, item 7): the SKP_TEST_*
# knobs (docs/deep-rekey.md, "Testing") exist in build/test-bin/skpd, never in
# build/bin/skpd, and `make install` installs the production binary alone.
. tests/lib/common.sh
prod=build/bin/skpd test=build/test-bin/skpd
[ -x "$prod" ] || fail "$prod is not built (make all)"
hits=$(strings -a "$prod" | grep -E 'SKP_TEST_|test: ' || true)
[ -z "$hits" ] || fail "the production skpd contains test switches: $(echo "$hits" | paste -sd ' ' -)"
echo "production skpd: no SKP_TEST_ string"

# The check above must be able to see a switch: the test build has both.
[ -x "$test" ] || fail "$test is not built (make all)"
for k in SKP_TEST_STOP_AT SKP_TEST_KEEP_KEYS; do
	grep -qaF "$k" "$test" || fail "the test build lacks $k"
done
echo "test skpd: SKP_TEST_STOP_AT and SKP_TEST_KEEP_KEYS present"

d=$(mktemp -d) log=$(mktemp)
trap 'rm -rf "$d" "$log"' EXIT
make -s --no-print-directory -C daemon BUILD="$PWD/build" DESTDIR="$d" PREFIX=/usr install > "$log" 2>&1 ||
	{ cat "$log"; fail "make install failed"; }
cmp -s "$prod" "$d/usr/sbin/skpd" || fail "make install did not install build/bin/skpd"
hits=$(grep -rl SKP_TEST_ "$d" || true)
[ -z "$hits" ] || fail "make install installed test switches: $hits"
echo "make install: $(cd "$d" && find . -type f | sort | paste -sd ' ' -), no test switch"
