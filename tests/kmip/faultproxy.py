#!/usr/bin/python3
"""TCP proxy for KMIP tests and benchmarks (skp).

  faultproxy.py --listen HOST:PORT [--target HOST:PORT] [--mode MODE] [--delay-ms N]

Modes:
  forward   relay both ways, each chunk delivered --delay-ms later (latency injection:
            50 ms each way = 100 ms RTT), order preserved
  silent    accept TCP and never answer (a hung server)
  close-mid answer with the first 12 bytes of a KMIP response header claiming 256
            bytes, then close (a server dying mid-message)
Prints "ready" on stdout once listening.
"""
import argparse
import asyncio
import sys


def hostport(s):
    h, p = s.rsplit(':', 1)
    return h, int(p)


async def pump(reader, writer, delay):
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    task = asyncio.create_task(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((loop.time() + delay, data))
    except OSError:
        pass
    queue.put_nowait((0, None))
    try:
        await task
    except OSError:
        pass


async def handle(args, reader, writer):
    if args.mode == 'silent':
        try:
            while await reader.read(65536):
                pass
        except OSError:
            pass
        writer.close()
        return
    if args.mode == 'close-mid':
        await reader.read(65536)
        writer.write(b'\x42\x00\x7b\x01\x00\x00\x01\x00\x42\x00\x7a\x01')
        await writer.drain()
        writer.close()
        return
    th, tp = hostport(args.target)
    try:
        ur, uw = await asyncio.open_connection(th, tp)
    except OSError:
        writer.close()
        return
    d = args.delay_ms / 1000.0
    await asyncio.gather(pump(reader, uw, d), pump(ur, writer, d))
    uw.close()
    writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--listen', required=True)
    ap.add_argument('--target')
    ap.add_argument('--mode', default='forward', choices=['forward', 'silent', 'close-mid'])
    ap.add_argument('--delay-ms', type=float, default=0)
    args = ap.parse_args()
    h, p = hostport(args.listen)
    srv = await asyncio.start_server(lambda r, w: handle(args, r, w), h, p)
    print('ready', flush=True)
    async with srv:
        await srv.serve_forever()


if __name__ == '__main__':
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
