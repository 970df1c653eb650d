#!/usr/bin/python3
"""Counting TCP relay in front of one KMS node, for tests/bench/fleet-storm.sh (skp).

  kmsrelay.py --listen HOST:PORT --target HOST:PORT --node N --log FILE

TLS stays end to end: the relay reads only the 5-byte TLS record headers.  With TLS 1.2
(tests/kms/start: auth_suite=TLS1.2) a client record of content type 23 is a KMIP request
and the server's next record its response; handshake records are types 20 and 22.  A
"turn" is the client's records up to the server's first record after them: the time from
the client's last record to that server record is the KMS's own service time (the relay
sits on the KMS's host, so network delay is not in it).  One line per event, flushed:

  A <t> <node> <peer> <conn>                     connection accepted
  U <t> <node> <peer> <conn>                     KMS node unreachable, connection closed
  T <t> <node> <peer> <conn> <kind> <secs>       a turn answered: kind req|hs
  L <t> <node> <peer> <conn> <kind>              a turn left unanswered (connection closed)

t is time.time() when the client's turn was complete.  Prints "ready" once listening.
"""
import argparse
import asyncio
import time


def hostport(s):
    h, p = s.rsplit(':', 1)
    return h, int(p)


class Relay:
    def __init__(self, args):
        self.args = args
        self.log = open(args.log, 'a', buffering=1)
        self.conns = 0

    def event(self, *f):
        self.log.write(' '.join(str(x) for x in f) + '\n')

    async def handle(self, cr, cw):
        self.conns += 1
        num = self.conns
        peer = cw.get_extra_info('peername')[0]
        node = self.args.node
        self.event('A', '%.6f' % time.time(), node, peer, num)
        try:
            sr, sw = await asyncio.open_connection(*hostport(self.args.target))
        except OSError:
            self.event('U', '%.6f' % time.time(), node, peer, num)
            cw.close()
            return
        turn = {}		# the client's turn waiting for the server: kind, t

        async def pump(src, dst, client):
            buf = b''
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    buf += data
                    while len(buf) >= 5:
                        n = 5 + int.from_bytes(buf[3:5], 'big')
                        if len(buf) < n:
                            break
                        ctype, buf = buf[0], buf[n:]
                        now = time.time()
                        if client and ctype in (20, 22, 23):
                            kind = 'req' if ctype == 23 else 'hs'
                            if turn.get('kind') != 'req':
                                turn['kind'] = kind
                            turn['t'] = now
                        elif not client and turn:
                            self.event('T', '%.6f' % turn['t'], node, peer, num, turn['kind'],
                                       '%.6f' % (now - turn['t']))
                            turn.clear()
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.IncompleteReadError):
                pass
            finally:
                try:
                    dst.close()
                except OSError:
                    pass

        await asyncio.gather(pump(cr, sw, True), pump(sr, cw, False))
        if turn:
            self.event('L', '%.6f' % turn['t'], node, peer, num, turn['kind'])


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', required=True)
    ap.add_argument('--target', required=True)
    ap.add_argument('--node', required=True)
    ap.add_argument('--log', required=True)
    args = ap.parse_args()
    r = Relay(args)
    h, p = hostport(args.listen)
    srv = await asyncio.start_server(r.handle, h, p, backlog=256, reuse_address=True)
    print('ready', flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
