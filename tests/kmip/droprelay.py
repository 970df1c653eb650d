#!/usr/bin/python3
"""Fault-injecting TCP relay for the KMIP tests (skp): loses one request or one response.

  droprelay.py --listen HOST:PORT --target HOST:PORT --mode lose-response|lose-request
               [--request K] [--count N] [--log FILE]

TLS stays end to end: the relay only reads the 5-byte TLS record headers going by.  With
TLS 1.2 (what tests/kms/start configures: auth_suite=TLS1.2) every handshake message,
encrypted or not, is a record of content type 22 (or 20, ChangeCipherSpec), so the K-th
client record of content type 23 (application data) is the K-th KMIP request of the
connection (--request, default 1; skp's first request is Discover Versions when it
negotiates the protocol) and the first server record of type 23 after it is its
response.  On the first N connections (--count, default 1) that carry a K-th request:

  lose-response  forward the request, wait for the server's response, then close both
                 sides without relaying any byte of it (the server did the work; the
                 client cannot know)
  lose-request   close both sides instead of forwarding the request (nothing happened;
                 the client cannot know either)

Every other connection, and everything else, is relayed unchanged.  A TLS 1.3 ServerHello
(cipher suite 0x13xx) is refused loudly ("TLS 1.3") and counts as no fault injected, so a
test asserting on the log fails rather than passing without the fault.  One line per event
goes to --log (default stderr).  Prints "ready" on stdout once listening.
"""
import argparse
import socket
import sys
import threading

lock = threading.Lock()
state = {'left': 1, 'conn': 0}
logf = sys.stderr


def log(msg):
    with lock:
        logf.write(msg + '\n')
        logf.flush()


def hostport(s):
    h, p = s.rsplit(':', 1)
    return h, int(p)


class Conn:
    def __init__(self, cs, ss, num, mode, nth):
        self.cs, self.ss, self.num, self.mode, self.nth = cs, ss, num, mode, nth
        self.armed = False          # this connection is the one that loses a message
        self.requests = 0           # client application data records so far
        self.request_seen = False   # the nth one
        self.closed = False
        self.clock = threading.Lock()

    def kill(self, why):
        with self.clock:
            if self.closed:
                return
            self.closed = True
        log('conn %d: %s' % (self.num, why))
        for s in (self.cs, self.ss):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def on_client_record(self, ctype, rec):
        """Returns False to stop relaying (connection killed)."""
        if ctype == 23:
            self.requests += 1
        if ctype == 23 and self.requests == self.nth:
            self.request_seen = True
            with lock:
                if state['left'] > 0:
                    state['left'] -= 1
                    self.armed = True
            if self.armed:
                log('conn %d: request record (%d bytes) seen' % (self.num, len(rec)))
                if self.mode == 'lose-request':
                    self.kill('dropped request before the server saw it, closed')
                    return False
        return True

    def on_server_record(self, ctype, rec):
        if ctype == 22 and len(rec) >= 5 + 39 and rec[5] == 2:     # ServerHello
            sid = rec[5 + 38]
            off = 5 + 39 + sid
            if len(rec) >= off + 2 and rec[off] == 0x13:
                self.kill('TLS 1.3 negotiated: cannot tell the request, no fault injected')
                return False
        if ctype == 23 and self.armed and self.request_seen and self.mode == 'lose-response':
            self.kill('dropped response (first record %d bytes) after the server answered, closed'
                      % len(rec))
            return False
        return True

    def pump(self, src, dst, on_record):
        buf = b''
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                buf += data
                out = b''
                while len(buf) >= 5:
                    n = 5 + int.from_bytes(buf[3:5], 'big')
                    if len(buf) < n:
                        break
                    rec, buf = buf[:n], buf[n:]
                    if not on_record(rec[0], rec):
                        return
                    out += rec
                if out:
                    dst.sendall(out)
            if buf:
                dst.sendall(buf)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def run(self):
        a = threading.Thread(target=self.pump, args=(self.cs, self.ss, self.on_client_record))
        b = threading.Thread(target=self.pump, args=(self.ss, self.cs, self.on_server_record))
        a.start()
        b.start()
        a.join()
        b.join()
        self.cs.close()
        self.ss.close()


def serve(args, cs):
    with lock:
        state['conn'] += 1
        num = state['conn']
    try:
        ss = socket.create_connection(hostport(args.target), timeout=10)
        ss.settimeout(None)
    except OSError as e:
        log('conn %d: target unreachable: %s' % (num, e))
        cs.close()
        return
    Conn(cs, ss, num, args.mode, args.request).run()


def main():
    global logf
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', required=True)
    ap.add_argument('--target', required=True)
    ap.add_argument('--mode', required=True, choices=['lose-response', 'lose-request'])
    ap.add_argument('--request', type=int, default=1)
    ap.add_argument('--count', type=int, default=1)
    ap.add_argument('--log')
    args = ap.parse_args()
    state['left'] = args.count
    if args.log:
        logf = open(args.log, 'a')
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(hostport(args.listen))
    ls.listen(16)
    print('ready', flush=True)
    while True:
        cs, _ = ls.accept()
        threading.Thread(target=serve, args=(args, cs), daemon=True).start()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
