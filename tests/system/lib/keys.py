#!/usr/bin/python3
"""The keys of an skp device, found without skpd (issue 11, item 6): the KEK of each used
header slot fetched with PyKMIP's own client (identity A of the test KMS), the DEK unwrapped
from the header with it (RFC 5649, docs/on-disk-format.md).  Prints, per used slot i:
  kekI=HEX
  dekI=HEX
  memscan.py keys.py DEV
Environment: SKP_KMS_PORTS, SKP_KMS_CA, SKP_KMS_CERT, SKP_KMS_KEY (tests/README.md, --kms).
"""
import os
import struct
import sys

from cryptography.hazmat.primitives.keywrap import aes_key_unwrap_with_padding
from kmip.pie.client import ProxyKmipClient


def header(dev):
    """The copy with the highest sequence number (both are equal after a clean write)."""
    best = None
    with open(dev, "rb") as f:
        for off in (0, 65536):
            f.seek(off)
            h = f.read(4096)
            if h[:8] != b"SKP-HDR\0":
                continue
            seq = struct.unpack_from("<Q", h, 16)[0]
            if best is None or seq > best[0]:
                best = (seq, h)
    if best is None:
        sys.exit(f"keys.py: no skp header on {dev}")
    return best[1]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    h = header(sys.argv[1])
    port = int(os.environ["SKP_KMS_PORTS"].split()[0])
    c = ProxyKmipClient(hostname="127.0.0.1", port=port, cert=os.environ["SKP_KMS_CERT"],
                        key=os.environ["SKP_KMS_KEY"], ca=os.environ["SKP_KMS_CA"],
                        config_file="/dev/null")
    with c:
        for i in (0, 1):
            s = h[256 + 512 * i:768 + 512 * i]
            if struct.unpack_from("<I", s, 0)[0] == 0:
                continue
            uid = s[80:208].rstrip(b"\0").decode()
            wlen = struct.unpack_from("<I", s, 336)[0]
            kek = c.get(uid).value
            dek = aes_key_unwrap_with_padding(kek, s[344:344 + wlen])
            print(f"kek{i}={kek.hex()}")
            print(f"dek{i}={dek.hex()}")


main()
