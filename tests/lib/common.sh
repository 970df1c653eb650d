# shellcheck shell=bash
# Helpers for test scripts (sourced).  A failed check exits the script non-zero.
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_fail CMD...: CMD must fail (non-zero); its output is kept in $out.
expect_fail() {
	if out=$("$@" 2>&1); then fail "expected failure: $*"; fi
	return 0
}
assert_eq() { [ "$1" = "$2" ] || fail "${3:-values differ}: '$1' != '$2'"; }
assert_contains() {
	case "$1" in *"$2"*) ;; *) fail "${3:-missing text}: '$2' not in: $1" ;; esac
}
