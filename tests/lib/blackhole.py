#!/usr/bin/python3
"""A KMS node or DNS server that never answers (skp tests).

  blackhole.py tcp HOST:PORT   accept every connection, never read or send a byte
                               (a TLS handshake waits for the ServerHello forever)
  blackhole.py udp HOST:PORT   take every datagram (a DNS query), never answer

Prints "ready" once listening; runs until killed.
"""
import socket
import sys


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("tcp", "udp"):
        sys.exit(__doc__)
    host, port = sys.argv[2].rsplit(":", 1)
    kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    held = []
    if kind == socket.SOCK_STREAM:
        s.listen(128)
    print("ready", flush=True)
    while True:
        if kind == socket.SOCK_STREAM:
            held.append(s.accept()[0])
        else:
            s.recv(4096)


if __name__ == "__main__":
    main()
