#!/usr/bin/python3
"""A KMIP proxy that rewrites real PyKMIP answers at the TTLV level (skp interop tests).

  ttlvproxy.py --listen HOST:PORT --target HOST:PORT --pki DIR [--mode MODES]
               [--client NAME] [--other-uid UID] [--log FILE]

TLS server towards the client (DIR/server.pem, client certificates checked against
DIR/ca.pem, TLS 1.2 at most as tests/kms/start configures PyKMIP, so that
tests/kmip/droprelay.py can sit in front), TLS client towards the PyKMIP node --target
(DIR/NAME.pem, default client-a: keys are owned by the identity the tests use directly).
One upstream connection per client connection; every request goes to PyKMIP and its real
answer comes back rewritten by MODES, comma separated (none: forwarded byte for byte):

  active-on-create  after a successful Create the proxy sends its own Activate for the new
                    UID upstream, so the key is Active when the client sees the Create answer
  refuse-activate   Activate items are answered by the proxy (Operation Failed, Permission
                    Denied) and not forwarded; the other items of the batch are
  transparent       Get answers: Key Format Type Transparent Symmetric Key (7), Key Material
                    a structure holding Key
  extra-item        one more batch item, a copy of the last, Batch Count updated
  unnumbered        Unique Batch Item IDs stripped from answers of more than one item
  wrong-uid         the Unique Identifier of Get and Get Attributes answers replaced by
                    another existing object's
  wrong-key         the key bytes of Get answers replaced (each byte inverted)
  locate-extra      Locate answers get one more Unique Identifier, another object's (the
                    name filter ignored); Located Items counts it
  credential=U:P    requests whose header lacks Username U with Password P are answered
                    Authentication Not Successful and not forwarded (PyKMIP ignores them)

"Another object" is --other-uid, or the first UID of the proxy's own Locate (no filter)
that is not in the answer.  Lengths and counts are recomputed.  The proxy has its own TTLV
reader (every item checked: known type, fixed lengths, zero padding, Booleans 0/1, nothing
past its parent), independent of skp's and PyKMIP's: a request or answer it cannot read,
or whose re-encoding differs from the bytes received, is logged as ERROR and the
connection closed.  One line per message and per rewrite goes to --log (never key bytes).
Prints "ready HOST:PORT" on stdout once listening (PORT 0 picks a free port).
ttlvproxy.py --self-test checks that the reader refuses malformed TTLV.
"""
import argparse
import socket
import ssl
import struct
import sys
import threading
import time

STRUCT, INT, LONG, BIG, ENUM, BOOL, TEXT, BYTES, DATE, INTERVAL = range(1, 11)
FIXED = {INT: 4, LONG: 8, ENUM: 4, BOOL: 8, DATE: 8, INTERVAL: 4}
MAX_MSG = 16 << 20
MAX_DEPTH = 32

T_REQUEST, T_REQ_HEADER, T_RESPONSE, T_RESP_HEADER = 0x420078, 0x420077, 0x42007B, 0x42007A
T_VERSION, T_MAJOR, T_MINOR = 0x420069, 0x42006A, 0x42006B
T_BATCH_COUNT, T_BATCH_ITEM, T_OPERATION, T_BATCH_ID = 0x42000D, 0x42000F, 0x42005C, 0x420093
T_REQ_PAYLOAD, T_RESP_PAYLOAD = 0x420079, 0x42007C
T_STATUS, T_REASON, T_MESSAGE, T_TIME_STAMP = 0x42007F, 0x42007E, 0x42007D, 0x420092
T_AUTH, T_CREDENTIAL, T_CRED_TYPE, T_CRED_VALUE = 0x42000C, 0x420023, 0x420024, 0x420025
T_USERNAME, T_PASSWORD = 0x420099, 0x4200A1
T_UID, T_SYMMETRIC_KEY, T_KEY_BLOCK, T_KEY_FORMAT = 0x420094, 0x42008F, 0x420040, 0x420042
T_KEY_VALUE, T_KEY_MATERIAL, T_KEY, T_LOCATED_ITEMS = 0x420045, 0x420043, 0x42003F, 0x4200D5

OP_CREATE, OP_LOCATE, OP_GET, OP_GET_ATTRS, OP_ACTIVATE = 0x01, 0x08, 0x0A, 0x0B, 0x12
OP_NAMES = {0x01: 'Create', 0x08: 'Locate', 0x0A: 'Get', 0x0B: 'Get Attributes', 0x12: 'Activate',
            0x13: 'Revoke', 0x14: 'Destroy', 0x18: 'Query', 0x1E: 'Discover Versions'}
STATUS_NAMES = {0: 'Success', 1: 'Operation Failed', 2: 'Pending', 3: 'Undone'}
FMT_TRANSPARENT_SYMMETRIC = 7
REASON_AUTH, REASON_PERMISSION = 0x03, 0x0C
MODES = ('active-on-create', 'refuse-activate', 'transparent', 'extra-item', 'unnumbered',
         'wrong-uid', 'wrong-key', 'locate-extra')


class TTLVError(Exception):
    pass


class Item:
    """One TTLV item: val is a list of Items (Structure) or the value bytes, unpadded."""
    __slots__ = ('tag', 'typ', 'val')

    def __init__(self, tag, typ, val):
        self.tag, self.typ, self.val = tag, typ, val

    def child(self, tag):
        for c in self.val:
            if c.tag == tag:
                return c
        return None

    def children(self, tag):
        return [c for c in self.val if c.tag == tag]

    def int(self):
        return struct.unpack('>i' if self.typ == INT else '>I', self.val)[0]

    def text(self):
        return self.val.decode('utf-8', 'replace')


def decode(buf, off, end, depth):
    """The items in buf[off:end], which they must fill exactly."""
    if depth > MAX_DEPTH:
        raise TTLVError('nesting deeper than %d' % MAX_DEPTH)
    items = []
    while off < end:
        if end - off < 8:
            raise TTLVError('%d stray bytes at offset %d' % (end - off, off))
        tag = int.from_bytes(buf[off:off + 3], 'big')
        typ, length = buf[off + 3], struct.unpack('>I', buf[off + 4:off + 8])[0]
        if tag >> 16 not in (0x42, 0x54):
            raise TTLVError('tag %06X at offset %d is neither standard nor vendor' % (tag, off))
        if typ < STRUCT or typ > INTERVAL:
            raise TTLVError('tag %06X: unknown type %d' % (tag, typ))
        if typ in FIXED and length != FIXED[typ]:
            raise TTLVError('tag %06X: type %d with length %d' % (tag, typ, length))
        padded = (length + 7) // 8 * 8
        start = off + 8
        if start + padded > end:
            raise TTLVError('tag %06X: %d bytes run past their parent' % (tag, padded))
        if any(buf[start + length:start + padded]):
            raise TTLVError('tag %06X: non-zero padding' % tag)
        if typ == STRUCT:
            if length % 8:
                raise TTLVError('structure %06X of length %d' % (tag, length))
            val = decode(buf, start, start + length, depth + 1)
        else:
            val = bytes(buf[start:start + length])
            if typ == BOOL and int.from_bytes(val, 'big') > 1:
                raise TTLVError('tag %06X: Boolean %r' % (tag, val))
            if typ == BIG and length % 8:
                raise TTLVError('tag %06X: Big Integer of length %d' % (tag, length))
        items.append(Item(tag, typ, val))
        off = start + padded
    return items


def encode(it):
    val = b''.join(encode(c) for c in it.val) if it.typ == STRUCT else it.val
    return struct.pack('>I', it.tag)[1:] + bytes([it.typ]) + struct.pack('>I', len(val)) + val + \
        b'\0' * ((8 - len(val) % 8) % 8)


def parse_message(buf, root_tag):
    items = decode(buf, 0, len(buf), 0)
    if len(items) != 1 or items[0].tag != root_tag or items[0].typ != STRUCT:
        raise TTLVError('not one %06X structure' % root_tag)
    if encode(items[0]) != buf:
        raise TTLVError('re-encoding differs from the bytes received')
    return items[0]


def clone(it):
    return Item(it.tag, it.typ, [clone(c) for c in it.val] if it.typ == STRUCT else it.val)


def s_(tag, *kids):
    return Item(tag, STRUCT, list(kids))


def int_(tag, v):
    return Item(tag, INT, struct.pack('>i', v))


def enum_(tag, v):
    return Item(tag, ENUM, struct.pack('>I', v))


def text_(tag, s):
    return Item(tag, TEXT, s.encode())


def batch_items(msg):
    return msg.children(T_BATCH_ITEM)


def set_batch(msg, items):
    """msg's batch items replaced by items, Batch Count recomputed."""
    header = msg.val[0]
    header.child(T_BATCH_COUNT).val = struct.pack('>i', len(items))
    msg.val = [header] + items


def op_of(item):
    o = item.child(T_OPERATION)
    return o.int() if o is not None else 0


def op_name(op):
    return OP_NAMES.get(op, 'op 0x%02X' % op)


def runs(names):
    """'Get x500' for 500 Gets in a row: one log line stays readable."""
    out = []
    for n in names:
        if out and out[-1][0] == n:
            out[-1][1] += 1
        else:
            out.append([n, 1])
    return ','.join(n if k == 1 else '%s x%d' % (n, k) for n, k in out)


def check_request(msg):
    """What skp must send: a header with a version and a true Batch Count, distinct IDs."""
    header = msg.val[0] if msg.val else None
    if header is None or header.tag != T_REQ_HEADER or header.child(T_VERSION) is None:
        raise TTLVError('request without a header and protocol version')
    items = batch_items(msg)
    count = header.child(T_BATCH_COUNT)
    if count is None or count.int() != len(items) or not items:
        raise TTLVError('Batch Count %s but %d batch items' % (count and count.int(), len(items)))
    ids = [i.child(T_BATCH_ID).val for i in items if i.child(T_BATCH_ID) is not None]
    if len(set(ids)) != len(ids):
        raise TTLVError('repeated Unique Batch Item ID in a request')


def read_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            if buf:
                raise EOFError('closed mid-message')
            raise EOFError('closed')
        buf += chunk
    return bytes(buf)


def read_message(sock):
    head = read_exact(sock, 8)
    length = struct.unpack('>I', head[4:8])[0]
    if head[3] != STRUCT or length % 8 or length > MAX_MSG:
        raise TTLVError('bad message header %s' % head.hex())
    return head + read_exact(sock, length)


class Proxy:
    def __init__(self, args):
        self.args = args
        self.modes = set()
        self.credential = None
        for m in filter(None, args.mode.split(',')):
            if m.startswith('credential='):
                user, sep, pw = m[len('credential='):].partition(':')
                if not sep or not user:
                    sys.exit('ttlvproxy: credential=USER:PASS')
                self.credential = (user, pw)
            elif m in MODES:
                self.modes.add(m)
            else:
                sys.exit('ttlvproxy: unknown mode %s' % m)
        self.lock = threading.Lock()
        self.logf = open(args.log, 'a') if args.log else sys.stderr
        self.nconn = 0
        pki = args.pki
        self.server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server_ctx.load_cert_chain(pki + '/server.pem', pki + '/server.key')
        self.server_ctx.load_verify_locations(pki + '/ca.pem')
        self.server_ctx.verify_mode = ssl.CERT_REQUIRED
        # As PyKMIP is configured (auth_suite=TLS1.2); droprelay.py refuses TLS 1.3.
        self.server_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.client_ctx.load_cert_chain(pki + '/%s.pem' % args.client, pki + '/%s.key' % args.client)
        self.client_ctx.load_verify_locations(pki + '/ca.pem')

    def log(self, msg):
        with self.lock:
            self.logf.write('%.3f %s\n' % (time.time(), msg))
            self.logf.flush()

    # ---- the proxy's own requests upstream ----

    def own_request(self, c, version, op, payload):
        msg = s_(T_REQUEST, s_(T_REQ_HEADER, version, int_(T_BATCH_COUNT, 1)),
                 s_(T_BATCH_ITEM, enum_(T_OPERATION, op), s_(T_REQ_PAYLOAD, *payload)))
        c.up.sendall(encode(msg))
        resp = parse_message(read_message(c.up), T_RESPONSE)
        items = batch_items(resp)
        if len(items) != 1:
            raise TTLVError('own %s: %d answers' % (op_name(op), len(items)))
        status = items[0].child(T_STATUS)
        if status is None or status.int() != 0:
            m = items[0].child(T_MESSAGE)
            raise TTLVError('own %s failed: %s' % (op_name(op), m.text() if m else '?'))
        return items[0].child(T_RESP_PAYLOAD)

    def other_uid(self, c, version, exclude):
        if self.args.other_uid:
            return self.args.other_uid
        payload = self.own_request(c, version, OP_LOCATE, [])
        for u in payload.children(T_UID) if payload is not None else []:
            if u.text() not in exclude:
                return u.text()
        raise TTLVError('no other object for %s' % sorted(exclude))

    # ---- answers the proxy makes itself ----

    def failure(self, item, reason, message):
        kids = [item.child(T_OPERATION)]
        if item.child(T_BATCH_ID) is not None:
            kids.append(item.child(T_BATCH_ID))
        kids += [enum_(T_STATUS, 1), enum_(T_REASON, reason), text_(T_MESSAGE, message)]
        return s_(T_BATCH_ITEM, *kids)

    def response(self, version, items):
        header = s_(T_RESP_HEADER, version, Item(T_TIME_STAMP, DATE, struct.pack('>q', int(time.time()))),
                    int_(T_BATCH_COUNT, len(items)))
        return s_(T_RESPONSE, header, *items)

    def credential_ok(self, header):
        want_user, want_pw = self.credential
        auth = header.child(T_AUTH)
        cred = auth.child(T_CREDENTIAL) if auth is not None else None
        if cred is None or cred.child(T_CRED_TYPE) is None or cred.child(T_CRED_TYPE).int() != 1:
            return 'no Username and Password credential'
        value = cred.child(T_CRED_VALUE)
        user = value.child(T_USERNAME) if value is not None else None
        pw = value.child(T_PASSWORD) if value is not None else None
        if user is None or user.text() != want_user:
            return 'wrong username'
        if pw is None or pw.text() != want_pw:
            return 'wrong password'
        return None

    # ---- rewrites of PyKMIP's answer ----

    def rewrite_item(self, c, version, item, asked_uid, notes):
        op, status = op_of(item), item.child(T_STATUS)
        payload = item.child(T_RESP_PAYLOAD)
        if status is None or status.int() != 0:
            return
        if op == OP_GET and payload is not None:
            block = payload.child(T_SYMMETRIC_KEY)
            block = block.child(T_KEY_BLOCK) if block is not None else None
            value = block.child(T_KEY_VALUE) if block is not None else None
            material = value.child(T_KEY_MATERIAL) if value is not None else None
            if material is not None and material.typ == BYTES:
                if 'wrong-key' in self.modes:
                    material.val = bytes(b ^ 0xFF for b in material.val)
                    notes.append('wrong-key(%d bytes)' % len(material.val))
                if 'transparent' in self.modes:
                    block.child(T_KEY_FORMAT).val = struct.pack('>I', FMT_TRANSPARENT_SYMMETRIC)
                    value.val[value.val.index(material)] = s_(T_KEY_MATERIAL, Item(T_KEY, BYTES, material.val))
                    notes.append('transparent')
        if op in (OP_GET, OP_GET_ATTRS) and 'wrong-uid' in self.modes and payload is not None:
            uid = payload.child(T_UID)
            if uid is not None:
                other = self.other_uid(c, version, {uid.text(), asked_uid})
                notes.append('wrong-uid(%s->%s)' % (uid.text(), other))
                uid.val = other.encode()
        if op == OP_LOCATE and 'locate-extra' in self.modes:
            if payload is None:
                payload = s_(T_RESP_PAYLOAD)
                item.val.append(payload)
            found = {u.text() for u in payload.children(T_UID)}
            other = self.other_uid(c, version, found)
            last = max((i for i, k in enumerate(payload.val) if k.tag == T_UID), default=len(payload.val) - 1)
            payload.val.insert(last + 1, text_(T_UID, other))
            located = payload.child(T_LOCATED_ITEMS)
            if located is not None:
                located.val = struct.pack('>i', located.int() + 1)
            notes.append('locate-extra(+%s)' % other)

    def rewrite(self, c, version, req_items, resp, notes):
        asked = {}
        for ri in req_items:
            bid, payload = ri.child(T_BATCH_ID), ri.child(T_REQ_PAYLOAD)
            uid = payload.child(T_UID) if payload is not None else None
            asked[bid.val if bid is not None else None] = uid.text() if uid is not None else ''
        items = batch_items(resp)
        for item in items:
            bid = item.child(T_BATCH_ID)
            self.rewrite_item(c, version, item, asked.get(bid.val if bid is not None else None, ''), notes)
        if 'active-on-create' in self.modes:
            for item in items:
                status, payload = item.child(T_STATUS), item.child(T_RESP_PAYLOAD)
                if op_of(item) == OP_CREATE and status is not None and status.int() == 0 and payload is not None:
                    uid = payload.child(T_UID).text()
                    self.own_request(c, version, OP_ACTIVATE, [text_(T_UID, uid)])
                    notes.append('active-on-create(%s)' % uid)
        if 'extra-item' in self.modes and items:
            items.append(clone(items[-1]))
            notes.append('extra-item')
        if 'unnumbered' in self.modes and len(items) > 1:
            for item in items:
                item.val = [k for k in item.val if k.tag != T_BATCH_ID]
            notes.append('unnumbered')
        set_batch(resp, items)

    # ---- one client connection ----

    def exchange(self, c, raw):
        req = parse_message(raw, T_REQUEST)
        check_request(req)
        version = req.val[0].child(T_VERSION)
        items = batch_items(req)
        ops = runs(op_name(op_of(i)) for i in items)
        vtext = '%d.%d' % (version.child(T_MAJOR).int(), version.child(T_MINOR).int())
        if self.credential:
            why = self.credential_ok(req.val[0])
            if why:
                self.log('conn %d: %s [%s] refused: credential: %s' % (c.num, vtext, ops, why))
                return encode(self.response(version, [
                    self.failure(i, REASON_AUTH, 'ttlvproxy: ' + why) for i in items]))
        refused = [i for i in items if 'refuse-activate' in self.modes and op_of(i) == OP_ACTIVATE]
        forward = [i for i in items if i not in refused]
        notes = []
        if refused:
            notes.append('refuse-activate(%d)' % len(refused))
        resp_items = []
        if forward:
            if refused:
                set_batch(req, forward)
                raw = encode(req)
            c.up.sendall(raw)
            rraw = read_message(c.up)
            resp = parse_message(rraw, T_RESPONSE)
            self.rewrite(c, version, forward, resp, notes)
            resp_items = batch_items(resp)
        out = []
        for i in items:
            if i in refused:
                out.append(self.failure(i, REASON_PERMISSION, 'ttlvproxy: Activate refused by policy'))
            elif resp_items:
                out.append(resp_items.pop(0))
        out += resp_items
        answer = self.response(version, out) if not forward else resp
        if forward:
            set_batch(resp, out)
        status = runs(STATUS_NAMES.get(i.child(T_STATUS).int(), '?') if i.child(T_STATUS) else '-'
                      for i in batch_items(answer))
        self.log('conn %d: %s [%s] -> [%s]%s' % (c.num, vtext, ops, status,
                                                 ' rewrote ' + ' '.join(notes) if notes else ''))
        out_raw = encode(answer)
        if not notes and forward and out_raw != rraw:
            raise TTLVError('unchanged answer re-encoded differently')
        return out_raw

    def serve(self, sock, num):
        class Conn:
            pass
        c = Conn()
        c.num, c.up = num, None
        down = None
        try:
            down = self.server_ctx.wrap_socket(sock, server_side=True)
            th, tp = self.args.target.rsplit(':', 1)
            raw_up = socket.create_connection((th, int(tp)), timeout=30)
            c.up = self.client_ctx.wrap_socket(raw_up, server_hostname=th)
            while True:
                try:
                    raw = read_message(down)
                except EOFError:
                    break
                down.sendall(self.exchange(c, raw))
        except TTLVError as e:
            self.log('conn %d: ERROR %s' % (num, e))
        except (OSError, ssl.SSLError, EOFError) as e:
            self.log('conn %d: closed: %s' % (num, e))
        except Exception as e:  # a bug of the proxy: ERROR too, so the test sees it
            self.log('conn %d: ERROR %s: %s' % (num, type(e).__name__, e))
        finally:
            for s in (c.up, down or sock):
                try:
                    if s:
                        s.close()
                except OSError:
                    pass

    def run(self):
        h, p = self.args.listen.rsplit(':', 1)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((h, int(p)))
        s.listen(16)
        print('ready %s:%d' % (h, s.getsockname()[1]), flush=True)
        while True:
            conn, _ = s.accept()
            self.nconn += 1
            threading.Thread(target=self.serve, args=(conn, self.nconn), daemon=True).start()


def self_test():
    """The reader refuses what it must (the proxy is only an oracle if it is strict)."""
    msg = s_(T_RESPONSE, s_(T_RESP_HEADER, s_(T_VERSION, int_(T_MAJOR, 1), int_(T_MINOR, 4)),
                            int_(T_BATCH_COUNT, 1)),
             s_(T_BATCH_ITEM, enum_(T_OPERATION, OP_GET), Item(T_BATCH_ID, BYTES, b'\0\0\0\1'),
                enum_(T_STATUS, 0), s_(T_RESP_PAYLOAD, text_(T_UID, 'key-1'))))
    good = encode(msg)
    assert encode(parse_message(good, T_RESPONSE)) == good
    uid = good.index(b'key-1')
    bad = {
        'non-zero padding': good[:uid + 5] + b'\1' + good[uid + 6:],
        'Integer of length 8': good.replace(b'\x42\x00\x6a\x02\x00\x00\x00\x04', b'\x42\x00\x6a\x02\x00\x00\x00\x08', 1),
        'item past its parent': good[:4] + struct.pack('>I', len(good) - 16) + good[8:-8],
        'unknown type': good.replace(b'\x42\x00\x94\x07', b'\x42\x00\x94\x0c', 1),
        'Boolean 2': good.replace(b'\x42\x00\x7f\x05\x00\x00\x00\x04\x00\x00\x00\x00',
                                  b'\x42\x00\x7f\x06\x00\x00\x00\x08\x00\x00\x00\x00', 1)
                             .replace(b'\x00\x00\x00\x00\x42\x00\x7c', b'\x00\x00\x00\x02\x42\x00\x7c', 1),
        'another root': good.replace(b'\x42\x00\x7b', b'\x42\x00\x78', 1),
    }
    for what, b in bad.items():
        assert b != good, what
        try:
            parse_message(b, T_RESPONSE)
        except TTLVError:
            continue
        sys.exit('self-test: %s accepted' % what)
    print('self-test ok: %d malformed messages refused' % len(bad))


def main():
    if sys.argv[1:] == ['--self-test']:
        return self_test()
    ap = argparse.ArgumentParser(description='KMIP proxy rewriting PyKMIP answers (skp tests)')
    ap.add_argument('--listen', required=True)
    ap.add_argument('--target', required=True)
    ap.add_argument('--pki', required=True)
    ap.add_argument('--mode', default='')
    ap.add_argument('--client', default='client-a')
    ap.add_argument('--other-uid')
    ap.add_argument('--log')
    Proxy(ap.parse_args()).run()


if __name__ == '__main__':
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
