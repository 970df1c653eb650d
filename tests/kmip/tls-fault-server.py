#!/usr/bin/python3
"""A TLS KMIP 'server' with a real certificate that misbehaves:
  tls-fault-server.py HOST:PORT PKIDIR [MODE]
MODE close-mid (default): reads a request, sends the first 12 bytes of a response
  claiming 256 bytes of body, and closes.
MODE evil-strings: answers well-formed KMIP 1.1 whose strings carry terminal escapes and
  newlines (a hostile KMS): Create returns such a Unique Identifier, Get fails with such
  a Result Message, Get Attributes returns such a Name.  Discover Versions is answered
  plainly (1.1), so a client negotiating the version gets to the hostile answers.
MODE versions=LIST: answers Discover Versions with LIST, comma separated as given
  (e.g. 1.2,1.1,1.0; versions= is an empty list); every other operation fails with the
  Result Message "request in KMIP 1.N", the version of that request's header, so a test
  sees which version the client settled on.
MODE versions-garbage: answers Discover Versions with a Protocol Version whose Major and
  Minor are text strings, not integers (malformed for a KMIP client).
Connections are served in threads, any number of requests each (close-mid: one)."""
import socket
import ssl
import struct
import sys
import threading

host, port = sys.argv[1].rsplit(':', 1)
pki = sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else 'close-mid'
EVIL = '\x1b[2J\x1b[31m\nskpd[1]: FAKE LOG LINE'
DISCOVER_VERSIONS = 0x1E


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


def version(major, minor, enc=int_):
    return struct_(0x420069, enc(0x42006A, major), enc(0x42006B, minor))


def response(op, status, *rest):
    header = struct_(0x42007A, version(1, 1), int_(0x42000D, 1))
    return struct_(0x42007B, header, struct_(0x42000F, enum(0x42005C, op), enum(0x42007F, status), *rest))


def find_int(req, tag, typ=0x02):
    """Value of the first item with this tag and type (4-byte value), or None."""
    i = req.find(struct.pack('>I', tag)[1:] + bytes([typ]))
    return struct.unpack('>I', req[i + 8:i + 12])[0] if i >= 0 else None


def dv_answer(listed):
    return response(DISCOVER_VERSIONS, 0, struct_(0x42007C, *listed))


def evil_answer(op):
    if op == DISCOVER_VERSIONS:
        return dv_answer([version(1, 1)])
    if op == 0x01:  # Create
        return response(op, 0, struct_(0x42007C, enum(0x420057, 2), text(0x420094, '7' + EVIL)))
    if op == 0x0B:  # Get Attributes
        name = struct_(0x420008, text(0x42000A, 'Name'),
                       struct_(0x42000B, text(0x420055, 'kek' + EVIL), enum(0x420054, 1)))
        return response(op, 0, struct_(0x42007C, text(0x420094, '7'), name))
    # anything else (Get): fails with the message
    return response(op, 1, enum(0x42007E, 1), text(0x42007D, 'no such key' + EVIL))


def versions_answer(op, req, listed):
    if op == DISCOVER_VERSIONS:
        return dv_answer([version(int(v.split('.')[0]), int(v.split('.')[1])) for v in listed])
    minor = find_int(req, 0x42006B)
    return response(op, 1, enum(0x42007E, 5), text(0x42007D, 'request in KMIP 1.%s' % minor))


def answer(req):
    op = find_int(req, 0x42005C, 0x05) or 0
    if mode == 'evil-strings':
        return evil_answer(op)
    if mode.startswith('versions='):
        listed = mode[len('versions='):]
        return versions_answer(op, req, listed.split(',') if listed else [])
    if mode == 'versions-garbage' and op == DISCOVER_VERSIONS:
        return dv_answer([version('1', '4', text)])
    return response(op, 1, enum(0x42007E, 5), text(0x42007D, 'not supported here'))


def read_exact(t, n):
    buf = b''
    while len(buf) < n:
        chunk = t.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def serve(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)
        if mode == 'close-mid':
            t.recv(65536)
            t.sendall(b'\x42\x00\x7b\x01\x00\x00\x01\x00\x42\x00\x7a\x01')
        else:
            while True:
                head = read_exact(t, 8)
                req = head + read_exact(t, struct.unpack('>I', head[4:8])[0])
                t.sendall(answer(req))
        t.close()
    except (OSError, ssl.SSLError, EOFError):
        c.close()


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
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
