#!/bin/bash
# skpd.conf mistakes name file:line and refuse to start (security ones included);
# a non-root peer is refused; reload (skpctl and SIGHUP) keeps open devices, warns
# about a removed provider in use, and a bad new config keeps the old one.
. tests/lib/common.sh
. tests/system/lib/skp.sh

# shellcheck disable=SC2086
good() { write_conf "$1" "$S"; provider_section corp-kms a true $SKP_KMS_SERVERS >> "$1"; }
refused() { # conf expected-text
	expect_fail skpd --config "$1"
	assert_contains "$out" "$2"
	echo "refused: $out"
}

# 33 providers: the 33rd section's line is named.
write_conf "$W/c1" "$S"
for i in $(seq 1 33); do provider_section "p$i" a "$([ "$i" = 1 ] && echo true || echo false)" 127.0.0.1; done >> "$W/c1"
line=$(grep -n '^\[provider "p33"\]' "$W/c1" | cut -d: -f1)
refused "$W/c1" "$W/c1:$line: more than 32 providers"
# two defaults
write_conf "$W/c2" "$S"
{ provider_section a a true 127.0.0.1; provider_section b a true 127.0.0.1; } >> "$W/c2"
refused "$W/c2" "2 providers marked default = true"
# none default among two
sed 's/default = true/default = false/' "$W/c2" > "$W/c2b"
refused "$W/c2b" "0 providers marked default = true"
# private key readable by others
cp "$W/pki/a.key" "$W/pki/open.key"; chmod 644 "$W/pki/open.key"
good "$W/c3"; sed -i "s|$W/pki/a.key|$W/pki/open.key|" "$W/c3"
refused "$W/c3" "readable by group or others"
# no CA
good "$W/c4"; sed -i '/^ca = /d' "$W/c4"
refused "$W/c4" "has no ca"
# bad values name their line
good "$W/c5"; sed -i 's/^health_interval = .*/health_interval = soon/' "$W/c5"
refused "$W/c5" "$W/c5:4: health_interval"
good "$W/c6"; echo "server = 127.0.0.1:99999" >> "$W/c6"
refused "$W/c6" "$W/c6:$(wc -l < "$W/c6"): bad port"
good "$W/c7"; echo "garbage line" >> "$W/c7"
refused "$W/c7" "$W/c7:$(wc -l < "$W/c7"): expected 'key = value'"
good "$W/c8"; sed -i '1i [provider "bad name"]' "$W/c8"
refused "$W/c8" "$W/c8:1: provider name 'bad name' is not a valid name"
# key_persistence = tpm, file, off or a boolean is allowed (tests 72, 74); anything else is not.
good "$W/c9"; echo 'key_persistence = yes-please' >> "$W/c9"; sed -i 's/^\[provider.*//' "$W/c9"
refused "$W/c9" "key_persistence must be tpm, file or off"
good "$W/c10"; printf '[skpd]\nskptab = relative/path\n' >> "$W/c10"
refused "$W/c10" "skptab must be an absolute path"
# a cosmetic mistake only warns
good "$W/ok.conf"; sed -i 's/^timeout = 5/timeout = 5\ncolour = blue/' "$W/ok.conf"
start_skpd "$W/ok.conf" "$W/skpd.log"
assert_contains "$(cat "$W/skpd.log")" "unknown provider setting 'colour' ignored"

# Non-root peers: the 0700 directory stops them, and SO_PEERCRED stops one that gets past it.
assert_eq "$(stat -c %a "$(dirname "$S")")" 700 "socket directory mode"
rc=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups -- skpctl status --socket "$S" 2>&1) || rc=$?
assert_contains "$out" "skpctl must run as root"
assert_eq "$rc" 9 "exit code of a non-root skpctl stopped by the directory"
rc=0; out=$(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+dac_override \
	--ambient-caps=+dac_override -- skpctl status --socket "$S" 2>&1) || rc=$?
assert_contains "$out" "permission denied: skpd serves root only"
assert_eq "$rc" 9 "exit code of a non-root skpctl stopped by skpd (SO_PEERCRED)"
assert_contains "$(cat "$W/skpd.log")" "refused request from uid 65534"
# malformed requests are refused before dispatch, and the daemon lives on
/usr/bin/python3 - "$S" <<'PY'
import socket, struct, sys
def ask(version, command):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    req = bytearray(624); struct.pack_into("<IHHII", req, 0, 0x31504b53, version, command, 0, 0)
    s.sendall(req); hdr = s.recv(24)
    magic, ver, cmd, status, flags, ln, rsv = struct.unpack("<IHHiIII", hdr)
    return status, s.recv(ln).decode()
status, body = ask(4, 99)
assert status < 0 and "unknown command 99" in body, (status, body)
# older versions (1: text answers; 2: no pending skptab entries in status; 3: no error
# class) are refused by name: an old skpctl says why
for v in (1, 2, 3):
    status, body = ask(v, 1)
    assert status < 0 and "protocol version %d not supported (skpd speaks 4)" % v in body, (status, body)
PY
skpctl status "${C[@]}" > /dev/null

# Reload with a device open on a provider that the new config drops.
fresh /dev/vda
skpctl format /dev/vda "${C[@]}" > /dev/null
MAPPINGS+=(r1)
skpctl open /dev/vda r1 "${C[@]}"
sed 's/"corp-kms"/"other-kms"/' "$W/ok.conf" > "$W/ok2.conf"
cp "$W/ok.conf" "$W/ok.conf.orig"; cp "$W/ok2.conf" "$W/ok.conf"
out=$(skpctl reload "${C[@]}")
assert_contains "$out" 'provider "corp-kms" removed but used by r1'
[ -b /dev/mapper/r1 ] || fail "reload disturbed the open device"
assert_contains "$(skpctl provider list "${C[@]}")" "other-kms"
# a broken config is refused and the running one kept (SIGHUP path too)
echo "broken" >> "$W/ok.conf"
expect_fail skpctl reload "${C[@]}"
assert_contains "$out" "reload refused, old configuration kept"
kill -HUP "$SKPD_PID"; sleep 1
assert_contains "$(cat "$W/skpd.log")" "old configuration kept"
assert_contains "$(skpctl provider list "${C[@]}")" "other-kms"
# adding corp-kms back (SIGHUP) restores the device's provider
cp "$W/ok.conf.orig" "$W/ok.conf"
kill -HUP "$SKPD_PID"; sleep 1
assert_contains "$(skpctl provider list "${C[@]}")" "corp-kms (default): 1 device(s)"
skpctl rekey r1 --shallow "${C[@]}" > /dev/null
skpctl close r1 "${C[@]}"
echo ok
