#!/bin/bash
# systemd-analyze verify accepts every unit the skp package ships, inside the package's
# own tree: its ExecStart finds the packaged skpd, Documentation= its man pages.  Programs
# and targets the units take from the system (/bin/kill, sysinit.target) are copied in
# from this host.
. tests/lib/common.sh
deb=$(ls build/deb/skp_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no skp package in build/deb (01-deb.sh)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "$deb" "$root"
units=$(find "$root/lib/systemd/system" -type f \( -name '*.service' -o -name '*.socket' -o -name '*.target' \))
[ -n "$units" ] || fail "the package ships no unit"
# shellcheck disable=SC2086
for p in $(sed -n 's/^Exec[A-Za-z]*=[-@:+!]*\(\/[^ ]*\).*/\1/p' $units | sort -u); do
	[ -e "$root$p" ] || install -D "$p" "$root$p" || fail "$p: neither packaged nor on this host"
done
# The targets a unit is ordered against or pulled in by (sysinit.target by default
# dependencies, network-online.target...) are the system's: copied in from this host.
for t in /lib/systemd/system/*.target; do
	[ -e "$root$t" ] || install -D -m 0644 "$t" "$root$t"
done
for u in $units; do
	out=$(MANPATH="$root/usr/share/man" systemd-analyze verify --root="$root" "$u" 2>&1) ||
		fail "systemd-analyze verify ${u#"$root"}: $out"
	[ -z "$out" ] || fail "systemd-analyze verify ${u#"$root"} warns: $out"
	echo "ok: ${u#"$root"}"
done
