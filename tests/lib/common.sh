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
# start_swtpm DIR: a software TPM with its state in DIR, on DIR/sock (TCTI
# swtpm:path=DIR/sock); a fresh DIR is a fresh TPM, "another host".  stop_swtpms (called
# by the suites' cleanup) stops every one started.
SWTPM_PIDS=()
start_swtpm() {
	mkdir -p "$1"
	swtpm socket --tpm2 --tpmstate "dir=$1" --server "type=unixio,path=$1/sock" \
		--ctrl "type=unixio,path=$1/sock.ctrl" --flags not-need-init,startup-clear \
		> "$1/log" 2>&1 &
	SWTPM_PIDS+=($!)
	for _ in $(seq 100); do [ -S "$1/sock" ] && return 0; sleep 0.05; done
	fail "swtpm did not start in $1: $(cat "$1/log")"
}
stop_swtpms() {
	[ ${#SWTPM_PIDS[@]} -eq 0 ] || kill "${SWTPM_PIDS[@]}" 2>/dev/null || true
}
