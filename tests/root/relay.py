#!/usr/bin/python3
# QEMU's guestfwd=...-cmd: runs this once per guest connection with the connection on
# stdin/stdout: relay it to 127.0.0.1:PORT (the KMS on the host's loopback).
import os
import select
import socket
import sys

# QEMU gives this process the guest's connection as stderr too: nothing may be written
# there but relayed bytes (a traceback would reach skpd as a broken TLS record).
sys.stderr = open(os.devnull, "w")
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
except OSError:
    # No KMS: the guest sees its connection closed, as with a refused connection.
    sys.exit(1)
fds = {0: s.fileno(), s.fileno(): 1}
while fds:
    r, _, _ = select.select(list(fds), [], [])
    for fd in r:
        data = os.read(fd, 65536)
        if not data:
            # One side ended: end the other (a TLS close needs no half-close).
            sys.exit(0)
        out = fds[fd]
        while data:
            data = data[os.write(out, data):]
