#!/usr/bin/python3
"""AES-XTS as dm-crypt aes-xts-plain64 computes it, with OpenSSL through `cryptography`.

usage: xts.py KEYHEX SECTOR_SIZE IV_LARGE(0|1) IV_OFFSET FIRST_SECTOR < plaintext > ciphertext
FIRST_SECTOR and IV_OFFSET are in 512-byte sectors, FIRST_SECTOR relative to the mapping.
"""
import sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

key = bytes.fromhex(sys.argv[1])
ss, large, ivoff, first = (int(a) for a in sys.argv[2:6])
data = sys.stdin.buffer.read()
assert len(data) % ss == 0
out = bytearray()
for i in range(len(data) // ss):
    s = first + i * (ss // 512) + ivoff
    if large:
        s //= ss // 512
    enc = Cipher(algorithms.AES(key), modes.XTS(s.to_bytes(16, "little"))).encryptor()
    out += enc.update(data[i * ss:(i + 1) * ss]) + enc.finalize()
sys.stdout.buffer.write(out)
