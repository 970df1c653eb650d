#!/bin/bash
# lintian finds no error and no warning in the packages (overrides, with their reasons,
# are in debian/*.lintian-overrides).
. tests/lib/common.sh
changes=$(ls build/deb/*.changes 2>/dev/null | head -n 1)
[ -n "$changes" ] || fail "no .changes in build/deb (01-deb.sh)"
out=$(lintian --fail-on error,warning "$changes" 2>&1) || fail "lintian: $out"
if echo "$out" | grep -q '^[EW]: '; then fail "lintian: $out"; fi
echo "lintian: clean"
