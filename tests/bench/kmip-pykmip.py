#!/usr/bin/python3
"""PyKMIP's own client, for skp's KMIP tests and benchmark.

  kmip-pykmip.py HOST PORT CA CERT KEY create N PREFIX   -> N active AES-256 keys, UIDs on stdout
  kmip-pykmip.py HOST PORT CA CERT KEY get FILE          -> Get each UID sequentially, one connection;
                                                            prints "N keys S seconds"
  kmip-pykmip.py HOST PORT CA CERT KEY fp UID            -> first 8 bytes of SHA-256 of the key, hex
"""
import hashlib
import sys
import time

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient


def main():
    host, port, ca, cert, key, cmd = sys.argv[1:7]
    c = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca,
                        config_file='/dev/null', kmip_version=enums.KMIPVersion.KMIP_1_1)
    c.open()
    try:
        if cmd == 'create':
            n, prefix = int(sys.argv[7]), sys.argv[8]
            for i in range(n):
                uid = c.create(enums.CryptographicAlgorithm.AES, 256, name='%s-%d' % (prefix, i),
                               cryptographic_usage_mask=[
                                   enums.CryptographicUsageMask.ENCRYPT,
                                   enums.CryptographicUsageMask.DECRYPT,
                                   enums.CryptographicUsageMask.WRAP_KEY,
                                   enums.CryptographicUsageMask.UNWRAP_KEY])
                c.activate(uid)
                print(uid)
        elif cmd == 'get':
            uids = [l.strip() for l in open(sys.argv[7]) if l.strip()]
            t0 = time.monotonic()
            for u in uids:
                k = c.get(u)
                assert len(k.value) == 32
            print('%d keys %.3f seconds' % (len(uids), time.monotonic() - t0))
        elif cmd == 'fp':
            k = c.get(sys.argv[7])
            print(hashlib.sha256(k.value).hexdigest()[:16])
        else:
            sys.exit('unknown command ' + cmd)
    finally:
        c.close()


main()
