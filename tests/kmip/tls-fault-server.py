#!/usr/bin/python3
"""A TLS KMIP 'server' that reads a request, sends the first 12 bytes of a response
claiming 256 bytes of body, and closes: tls-fault-server.py HOST:PORT PKIDIR"""
import socket
import ssl
import sys

host, port = sys.argv[1].rsplit(':', 1)
pki = sys.argv[2]
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
        t.recv(65536)
        t.sendall(b'\x42\x00\x7b\x01\x00\x00\x01\x00\x42\x00\x7a\x01')
        t.close()
    except (OSError, ssl.SSLError):
        c.close()
