#!/usr/bin/python3
"""A TLS KMIP 'server' with a real certificate that misbehaves:
  tls-fault-server.py HOST:PORT PKIDIR [MODE]
MODE close-mid (default): reads a request, sends the first 12 bytes of a response
  claiming 256 bytes of body, and closes.
MODE evil-strings: answers well-formed KMIP 1.1 whose strings carry terminal escapes and
  newlines (a hostile KMS): Create returns such a Unique Identifier, Get fails with such
  a Result Message, Get Attributes returns such a Name."""
import socket
import ssl
import struct
import sys

host, port = sys.argv[1].rsplit(':', 1)
pki = sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else 'close-mid'
EVIL = '\x1b[2J\x1b[31m\nskpd[1]: FAKE LOG LINE'


def ttlv(tag, typ, val):
    """One TTLV item: val is bytes already encoded for its type."""
    pad = (8 - len(val) % 8) % 8
    return struct.pack('>IBI', tag, typ, len(val))[1:] + val + b'\0' * pad


def struct_(tag, *items):
    return ttlv(tag, 0x01, b''.join(items))


def int_(tag, v):
    return ttlv(tag, 0x02, struct.pack('>i', v))


def enum(tag, v):
    return ttlv(tag, 0x05, struct.pack('>I', v))


def text(tag, s):
    return ttlv(tag, 0x07, s.encode())


def response(op, status, *rest):
    header = struct_(0x42007A, struct_(0x420069, int_(0x42006A, 1), int_(0x42006B, 1)),
                     int_(0x42000D, 1))
    return struct_(0x42007B, header, struct_(0x42000F, enum(0x42005C, op), enum(0x42007F, status), *rest))


def evil_answer(req):
    """The answer to the request's first operation (tag 42005C, an enumeration)."""
    i = req.find(b'\x42\x00\x5c\x05')
    op = struct.unpack('>I', req[i + 8:i + 12])[0] if i >= 0 else 0
    if op == 0x01:  # Create
        return response(op, 0, struct_(0x42007C, enum(0x420057, 2), text(0x420094, '7' + EVIL)))
    if op == 0x0B:  # Get Attributes
        name = struct_(0x420008, text(0x42000A, 'Name'),
                       struct_(0x42000B, text(0x420055, 'kek' + EVIL), enum(0x420054, 1)))
        return response(op, 0, struct_(0x42007C, text(0x420094, '7'), name))
    # anything else (Get): fails with the message
    return response(op, 1, enum(0x42007E, 1), text(0x42007D, 'no such key' + EVIL))


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(pki + '/server.pem', pki + '/server.key')
ctx.load_verify_locations(pki + '/ca.pem')
ctx.verify_mode = ssl.CERT_REQUIRED
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((host, int(port)))
s.listen(8)
print('ready', flush=True)
while True:
    c, _ = s.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        req = t.recv(65536)
        if mode == 'evil-strings':
            t.sendall(evil_answer(req))
        else:
            t.sendall(b'\x42\x00\x7b\x01\x00\x00\x01\x00\x42\x00\x7a\x01')
        t.close()
    except (OSError, ssl.SSLError):
        c.close()
