# shellcheck shell=bash
# Helpers for the dm-skp tests (sourced after tests/lib/common.sh).  Each test runs in the
# VM as root; it creates its own session keyring and removes its devices on exit.
# shellcheck source=../lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

PY=/usr/bin/python3
SKP_DEVS=()

# A fresh session keyring for this shell: dmsetup (its child) searches it in request_key().
keyctl new_session >/dev/null || fail "keyctl new_session"

skp_cleanup() {
	local d
	for d in "${SKP_DEVS[@]}"; do
		umount "/dev/mapper/$d" 2>/dev/null || true
		dmsetup remove --noudevsync "$d" 2>/dev/null || true
	done
	keyctl clear @s 2>/dev/null || true
}
trap skp_cleanup EXIT

# dm_create NAME TABLE: create a mapping and its /dev/mapper node.
dm_create() {
	dmsetup create --noudevsync "$1" --table "$2" || fail "dmsetup create $1: $2"
	SKP_DEVS+=("$1")
	dmsetup mknodes "$1"
}
dm_remove() { dmsetup remove --noudevsync "$1" || fail "dmsetup remove $1"; }

# new_key DESC [TYPE]: 64 random bytes as a keyring key; prints the key in hex.
new_key() {
	local hex
	hex=$(head -c 64 /dev/urandom | od -An -tx1 -v | tr -d ' \n')
	add_key "$1" "$hex" "${2:-logon}"
	echo "$hex"
}
# add_key DESC HEX [TYPE]
add_key() {
	printf '%s' "$2" | xxd -r -p | keyctl padd "${3:-logon}" "$1" @s >/dev/null ||
		fail "keyctl padd $1"
}

# Kernel log lines written since the last call of dmesg_mark.
dmesg_mark() { DMESG_MARK=$(dmesg | wc -l); }
dmesg_new() { dmesg | tail -n +"$((DMESG_MARK + 1))"; }

# status_field NAME N: the Nth INFO field (1-based) after the target name.
status_field() { dmsetup status "$1" | awk -v n="$2" '{print $(3 + n)}'; }

# use_test_module [PARAM=VALUE...]: replace dm-skp by its test build (make kernel-test:
# fault-injection hooks) for the rest of the test; the production build is back on exit.
use_test_module() {
	local ko
	ko=$(. tests/vm/kver.sh && skp_test_module_path "$SKP_REPO" "$(uname -r)")
	[ -e "$ko" ] || fail "no test build of dm-skp at $ko (make kernel-test)"
	rmmod dm_skp || fail "rmmod dm_skp"
	insmod "$ko" "$@" || fail "insmod $ko $*"
	trap 'echo 0 > /sys/module/dm_skp/parameters/test_message_gate; skp_cleanup
		rmmod dm_skp; insmod "$SKP_KO"' EXIT
}
