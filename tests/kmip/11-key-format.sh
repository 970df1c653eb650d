#!/bin/bash
# What real PyKMIP does with the parts of skp's KMIP client that servers handle
# differently: skp's Get names Key Format Type Raw, and PyKMIP reads that field (a
# format it does not hold is refused: Key Format Type Not Supported), so Raw asked is
# served, the same bytes PyKMIP's own client gets; PyKMIP refuses Activate of an Active
# key (Permission Denied), the refusal skp's create-kek checks against the key's State
# (servers that create keys Active).  Fake servers in tests/unit/test-provider.c cover
# the other habits (keys created Active, Locate ignoring the Name, Transparent keys).
source "$(dirname "$0")/lib.inc" 1

kek=$("${K[@]}" create-kek "kek-fmt-$RANDOM$RANDOM")
assert_contains "$("${K[@]}" attrs "$kek")" "state Active (2)"
out=$("${K[@]}" get "$kek"); assert_contains "$out" "length 32 bytes (256 bits)"
assert_contains "$out" "sha256 $(pyk fp "$kek")" "skp's Get (Raw asked) and PyKMIP's differ"

# The field is read: Raw served, Transparent Symmetric Key refused (PyKMIP does not convert).
out=$(/usr/bin/python3 - "$base" "$SKP_KMS_CA" "$SKP_KMS_CERT" "$SKP_KMS_KEY" "$kek" <<'PY'
import sys
from kmip.core import enums
from kmip.core.misc import KeyFormatType
from kmip.services.kmip_client import KMIPProxy
port, ca, cert, key, uid = sys.argv[1:6]
c = KMIPProxy(host='127.0.0.1', port=int(port), certfile=cert, keyfile=key, ca_certs=ca,
              config_file='/dev/null', kmip_version=enums.KMIPVersion.KMIP_1_4)
c.open()
for f in (enums.KeyFormatType.RAW, enums.KeyFormatType.TRANSPARENT_SYMMETRIC_KEY):
    r = c.get(uid, key_format_type=KeyFormatType(f))
    print(f.name, r.result_status.value.name, r.result_reason.value.name if r.result_reason else '-')
c.close()
PY
)
assert_contains "$out" "RAW SUCCESS" "PyKMIP Get with Raw asked"
assert_contains "$out" "TRANSPARENT_SYMMETRIC_KEY OPERATION_FAILED KEY_FORMAT_TYPE_NOT_SUPPORTED"

# Activate of an Active key: refused, the key stays Active; exit 7 (refused by the KMS).
set +e; out=$("${K[@]}" activate "$kek" 2>&1); rc=$?; set -e
assert_eq "$rc" 7 "activate of an Active key ($out)"
assert_contains "$out" "Activate failed: Permission Denied (reason 0x0C)"
assert_contains "$("${K[@]}" attrs "$kek")" "state Active (2)"
echo "key format and activation ok"
