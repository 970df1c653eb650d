#!/bin/bash
# skpctl's command line as admins expect it, without skpd (issue 14, items 2 and 3): help
# for every command and subcommand (CMD --help, help CMD), --version matching the package,
# options before or after the command, and the exit codes and wording of the failures
# that need no daemon: bad command line (2), skpd not running (8), not root (9), no such
# device (4).
. tests/lib/common.sh
S=$PWD/build/bin/skpctl D=$PWD/build/bin/skpd
[ -x "$S" ] && [ -x "$D" ] || fail "build/bin/skpctl and skpd are not built (make all)"
T=$(mktemp -d)
LPID=
trap '[ -z "$LPID" ] || kill "$LPID" 2>/dev/null; rm -rf "$T"' EXIT
# rc COMMAND...: its exit code in $RC, its output (both streams) in $out.
rc() { RC=0; out=$("$@" 2>&1) || RC=$?; }

v=$(dkms/version)
assert_eq "$("$S" --version)" "skpctl $v" "skpctl --version"
assert_eq "$("$S" -V)" "skpctl $v" "skpctl -V"
assert_contains "$("$D" --version)" "skpd $v" "skpd --version"

# Every command row has its help, both ways, listing its own options and the exit codes.
# The command's words: the lowercase ones at the start of each row's left column.
cmds=$("$S" --help | sed -n '/^commands:/,/^$/p' | cut -c3-34 |
	awk 'NR > 1 && NF { w = $1; if ($2 ~ /^[a-z][a-z-]*$/) w = w " " $2; print w }')
[ "$(wc -l <<< "$cmds")" -ge 20 ] || fail "skpctl --help lists only: $cmds"
while read -r c; do
	# shellcheck disable=SC2086
	h=$("$S" $c --help) || fail "skpctl $c --help failed"
	assert_contains "$h" "usage: skpctl $c" "skpctl $c --help"
	assert_contains "$h" "7  refused by the KMS" "exit codes in skpctl $c --help"
	# shellcheck disable=SC2086
	assert_eq "$("$S" help $c)" "$h" "skpctl help $c"
done <<< "$cmds"
assert_contains "$("$S" open --help)" "--allow-discards" "open's options"
assert_contains "$("$S" open --help)" "--readonly"
assert_contains "$("$S" dump --help)" "--json"
assert_contains "$("$S" provider --help)" "test NAME" "a group's help lists its subcommands"
assert_contains "$("$S" kms --help)" "destroy UID"
echo "help: $(wc -l <<< "$cmds") commands, CMD --help = help CMD"

# Options anywhere: the socket is taken before and after the command alike.
for line in "--socket $T/none list" "list --socket $T/none" "-q --socket=$T/none close x"; do
	# shellcheck disable=SC2086
	rc "$S" $line; assert_eq "$RC" 8 "skpctl $line"
	assert_contains "$out" "skpd is not running (nothing listens at $T/none)" "skpctl $line"
done
printf '[skpd]\nsocket = %s/conf.sock\n' "$T" > "$T/skpd.conf"
rc "$S" status --config "$T/skpd.conf"; assert_eq "$RC" 8 "status --config"
assert_contains "$out" "$T/conf.sock" "the socket named by --config"

# Bad command lines: exit 2, and what was wrong.
bad() { rc "$S" "${@:2}"; assert_eq "$RC" 2 "skpctl ${*:2}"; assert_contains "$out" "$1" "skpctl ${*:2}"; }
bad "unknown command 'frob'" frob
bad "unknown option '--frob'" list --frob
bad "open does not take --json" open a b --json
bad "usage: skpctl open DEV NAME" open a
bad "unexpected argument 'c'" close a c
bad "provider: unknown subcommand 'x'; one of: list test" provider x
bad "--rate takes a whole number from 1" rekey a --deep --rate 0
bad "--chunk takes a size" rekey a --deep --chunk 3K
bad "--sector-size must be" format /dev/null --sector-size 1000
bad "--label needs a value" format /dev/null --label
bad "say which: --shallow, --deep" rekey a
rc "$S"; assert_eq "$RC" 2 "no command"
assert_contains "$out" "usage: skpctl"
echo "bad command lines: exit 2 with the reason"

# No such device (before skpd is asked): 4.
rc "$S" open /dev/skp-no-such-disk x --socket "$T/none"; assert_eq "$RC" 4 "open of a missing device"
assert_contains "$out" "/dev/skp-no-such-disk: No such file or directory"
rc "$S" dump /dev/skp-no-such-disk; assert_eq "$RC" 4 "dump of a missing device"
truncate -s 4M "$T/blank.img"
rc "$S" dump "$T/blank.img"; assert_eq "$RC" 4 "dump of a device without an skp header"
assert_contains "$out" "not an skp device"

# Not root: the socket refuses the connection (mode 0600), exit 9 and why.
mkdir -m 0755 "$T/run"
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(60)' "$T/run/skpd.sock" &
LPID=$!
for _ in $(seq 1 50); do [ -S "$T/run/skpd.sock" ] && break; sleep 0.1; done
chmod 0600 "$T/run/skpd.sock"
chmod 0755 "$T"
cp "$S" "$T/skpctl"
chmod 0755 "$T/skpctl"
rc setpriv --reuid=65534 --regid=65534 --clear-groups "$T/skpctl" status --socket "$T/run/skpd.sock"; assert_eq "$RC" 9 \
	"skpctl as nobody"
assert_contains "$out" "skpctl must run as root"
echo "no daemon: 8; not root: 9; no such device: 4"
