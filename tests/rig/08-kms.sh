# --kms 2 starts two real PyKMIP servers in the guest that accept mutual TLS with the
# exported test PKI, and refuse a client without a certificate.  (The host's KMS through
# --kms-host is used, and so tested, by tests/crash/matrix: suite vm-crash.)
source tests/lib/common.sh
# --kms-host in the 9p rig (the host's KMS, for tests/crash/matrix) needs --state with the
# KMS's PKI: refused before any boot without it, or with a KMS in the guest as well.
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
for args in "--kms-host 5696" "--kms-host 5696 --kms 1 --state $w"; do
	rc=0; err=$(tests/vm/run --quiet $args -- true 2>&1) || rc=$?
	[ "$rc" -eq 2 ] && grep -q "kms-host in the 9p rig" <<<"$err" || fail "vm/run $args: exit $rc: $err"
done
tests/vm/run --quiet --kms 2 --timeout 300 -- bash -c '
set -eu
[ "$SKP_KMS_PORTS" = "5696 5697" ] || { echo "ports: $SKP_KMS_PORTS"; exit 1; }
for v in SKP_KMS_CA SKP_KMS_CERT SKP_KMS_KEY SKP_KMS_CERT_B SKP_KMS_KEY_B SKP_KMS_OTHER_CA; do
	[ -s "${!v}" ] || { echo "$v missing"; exit 1; }
done
for p in $SKP_KMS_PORTS; do
	out=$(openssl s_client -connect 127.0.0.1:$p -CAfile "$SKP_KMS_CA" -verify_return_error \
		-verify_ip 127.0.0.1 -cert "$SKP_KMS_CERT" -key "$SKP_KMS_KEY" </dev/null 2>&1)
	grep -q "Verify return code: 0" <<<"$out" || { echo "port $p: $out"; exit 1; }
done
# Mutual TLS: without a client certificate the handshake must not complete a session.
if printf "x" | openssl s_client -connect 127.0.0.1:5696 -CAfile "$SKP_KMS_CA" -quiet 2>/dev/null | grep -q .; then
	echo "a client without certificate got data"; exit 1
fi
echo kms-ok'
