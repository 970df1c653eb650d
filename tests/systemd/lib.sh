# shellcheck shell=bash
# Helpers for tests/systemd: TAP numbering that goes on across the guest's reboots (the
# counter lives on the root layer, which reboots keep), and the test's skp configuration.
set -uo pipefail
T=/var/lib/skp-vm
n=$(cat "$T/tap-n" 2>/dev/null || echo 0)
nfail=$(cat "$T/tap-failed" 2>/dev/null || echo 0)

_tap() { # ok|not-ok description
	n=$((n + 1))
	echo "$n" > "$T/tap-n"
	if [ "$1" = ok ]; then
		echo "ok $n - boot $SKP_BOOT: $2"
	else
		nfail=$((nfail + 1))
		echo "$nfail" > "$T/tap-failed"
		echo "not ok $n - boot $SKP_BOOT: $2"
	fi
}
# check DESCRIPTION CMD...: one test; the command's output is shown when it fails.
check() {
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then
		_tap ok "$d"
	else
		_tap not-ok "$d"
		printf '%s\n' "$out" | tail -n 40 | sed 's/^/# /'
	fi
}
# need DESCRIPTION CMD...: as check, but the run cannot go on without it.
need() {
	check "$@"
	[ "$nfail" -eq 0 ] || finish
}
note() { echo "# $*"; }
# finish: the plan line and the status; the last boot's status ends the run.
finish() {
	echo "1..$n"
	[ "$nfail" -eq 0 ] && exit 0
	exit 1
}
reboot_now() { exit 200; }

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" > /dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.5
	done
}

# The journal of this boot (or -b -1) holds no TEXT.
journal_lacks() { # boot text
	! journalctl --no-pager -b "$1" | grep -i -- "$2"
}

# skp_config KEY_PERSISTENCE [HEALTH_INTERVAL]: the rig's KMS credentials in /etc/skp and
# an skpd.conf with one provider, corp-kms, on the rig's KMS (skp-vm-kms.service).
skp_config() {
	local pki=/var/lib/skp-vm/pki
	install -m 0644 "$pki/ca.pem" /etc/skp/kms-ca.pem
	install -m 0644 "$pki/client-a.pem" /etc/skp/host.pem
	install -m 0600 "$pki/client-a.key" /etc/skp/host.key
	cat > /etc/skp/skpd.conf <<CONF
[skpd]
health_interval = ${2:-60}
key_persistence = $1

[provider "corp-kms"]
server = 127.0.0.1:5696
ca = /etc/skp/kms-ca.pem
cert = /etc/skp/host.pem
key = /etc/skp/host.key
default = true
timeout = 3
CONF
}
