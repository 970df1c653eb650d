#!/usr/bin/python3
"""The timed part of tests/bench/fleet-storm.sh (skp), and its report.

  fleet-storm.py storm W H D KILL_AT LIMIT KMS1_PID RELAY1_PID KMS0_PID
      starts the H skpd of W/h*/ (each in namespace fH) at one release, kills KMS node 1
      and its relay KILL_AT seconds after the first connection reached a KMS node (skpd
      needs seconds to start and read its headers under TCG: counted from the release, the
      node was dead before anyone asked it), waits up to LIMIT seconds from that first
      connection for every READY=1 and every device open (skpd's log),
      and writes W/storm.json; each skpd's output goes to W/hN/skpd.log, every line
      prefixed with the time it was read (time.time()).
  fleet-storm.py report W H D OPENED
      prints the report from W (storm.json, relay*.log, h*/skpd.log); exits 1 unless
      every host became READY and all H x D mappings exist (OPENED).
"""
import collections
import glob
import json
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time


def cpu(pid):
    try:
        f = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
    except (OSError, IndexError, ValueError):
        return None


opened = collections.Counter()		# per host: devices skpd said it opened


def stamp(h, src, path):
    with open(path, 'w', buffering=1) as out:
        for line in src:
            line = line.decode(errors='replace')
            out.write('%.6f %s' % (time.time(), line))
            if line.startswith('skpd: opened /dev/'):
                opened[h] += 1


def storm(W, H, D, kill_at, limit, kms1, relay1, kms0):
    socks, procs = {}, {}
    for h in range(H):
        d = '%s/h%d' % (W, h)
        for p in ('notify', 'go'):
            if os.path.exists(d + '/' + p):
                os.unlink(d + '/' + p)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(d + '/notify')
        socks[s.fileno()] = (h, s)
        os.mkfifo(d + '/go')
        env = dict(os.environ, NOTIFY_SOCKET=d + '/notify')
        # Started ahead, each waits on its fifo: the release is one write per host.
        # ip netns exec execs sh, which execs skpd: the pid is skpd's.
        procs[h] = subprocess.Popen(['ip', 'netns', 'exec', 'f%d' % h, 'sh', '-c',
                                     'read x < "$1"; exec skpd --config "$2"', 'sh', d + '/go',
                                     d + '/skpd.conf'],
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=stamp, args=(h, procs[h].stdout, d + '/skpd.log'), daemon=True).start()
    time.sleep(2)
    fds = [os.open('%s/h%d/go' % (W, h), os.O_WRONLY) for h in range(H)]
    t0 = time.time()
    for fd in fds:
        os.write(fd, b'go\n')
        os.close(fd)
    ready, t_kill, cpu_kms1, t_first = {}, None, None, None

    def first_connection():
        ts = []
        for k in (0, 1):
            try:
                for line in open('%s/relay%d.log' % (W, k)):
                    x = line.split()
                    if len(x) >= 2 and x[0] == 'A' and float(x[1]) >= t0:
                        ts.append(float(x[1]))
                        break
            except OSError:
                pass
        return min(ts) if ts else None

    def kill():
        nonlocal t_kill, cpu_kms1
        cpu_kms1 = cpu(kms1)
        for pid in (kms1, relay1):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        t_kill = time.time()

    # Until every device is open: READY also comes when entries waited their timeout.
    while (len(ready) < H or sum(opened.values()) < H * D) and time.time() - (t_first or t0) < limit:
        now = time.time()
        if t_first is None:
            t_first = first_connection()
        if t_kill is None and t_first is not None and now - t_first >= kill_at:
            kill()
        wait = max(0.0, t_first + kill_at - now) if t_kill is None and t_first is not None else 0.2 \
            if t_kill is None else 1.0
        r, _, _ = select.select(list(socks), [], [], min(wait, 1.0))
        for fd in r:
            h, s = socks[fd]
            msg = s.recv(4096).decode(errors='replace').split('\n')
            if 'READY=1' in msg and h not in ready:
                ready[h] = time.time() - t0
        for h, p in procs.items():
            if h not in ready and p.poll() is not None:
                ready[h] = None		# died
    if t_kill is None:
        kill()
    time.sleep(1)			# the last log lines
    hosts = [{'host': h, 'ready': ready.get(h), 'pid': procs[h].pid, 'cpu': cpu(procs[h].pid),
              'alive': procs[h].poll() is None} for h in range(H)]
    json.dump({'t0': t0, 't_first': t_first, 't_kill': t_kill, 'hosts': hosts, 'cpu_kms0': cpu(kms0),
               'cpu_kms1': cpu_kms1, 'pids': [p.pid for p in procs.values()]}, open(W + '/storm.json', 'w'))


def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float('nan')


def spread(ts, what):
    if not ts:
        print('  %s: none' % what)
        return
    w = collections.Counter(int(t * 10) for t in ts)
    k, n = max(w.items(), key=lambda kv: kv[1])
    print('  %s: %d between %.2f and %.2f s; busiest 100 ms window %.1f-%.1f s holds %d (%.0f%%); '
          '%d windows used' % (what, len(ts), min(ts), max(ts), k / 10, (k + 1) / 10, n,
                               100.0 * n / len(ts), len(w)))
    lo, hi = int(min(ts)), int(max(ts)) + 1
    step = max(1, (hi - lo + 19) // 20)
    hist = collections.Counter((int(t) - lo) // step for t in ts)
    print('    per %d s from %d s: %s' % (step, lo, ' '.join(str(hist[i]) for i in range((hi - lo + step - 1) // step))))


def report(W, H, D, opened):
    st = json.load(open(W + '/storm.json'))
    t0, t_kill = st['t0'], st['t_kill']
    ev = []
    for f in sorted(glob.glob(W + '/relay*.log')):
        for line in open(f):
            x = line.split()
            if len(x) >= 5 and float(x[1]) >= t0:	# not the RTT check before
                ev.append(x)

    def host_of(peer):
        return int(peer.split('.')[2]) if peer.startswith('10.201.') else -1

    t_first = st.get('t_first')
    print('  storm: %d skpd started together; first KMS connection at %s; KMS node 1 killed at %.2f s '
          '(times from the release)' % (H, '%.2f s' % (t_first - t0) if t_first else 'never', t_kill - t0))
    rd = [h['ready'] for h in st['hosts']]
    ok = [r for r in rd if r is not None]
    # A host is up when skpd has said "opened" for each of its D devices.
    up = []
    for h in range(H):
        ts = [float(ln.split()[0]) - t0 for ln in open('%s/h%d/skpd.log' % (W, h))
              if ln.split()[1:3] == ['skpd:', 'opened']]
        up.append(ts[D - 1] if len(ts) >= D else None)
    upok = [u for u in up if u is not None]
    if upok:
        print('  time until every device of a host is open: min %.2f s  median %.2f s  p95 %.2f s  max %.2f s'
              ' (%d of %d hosts)' % (min(upok), statistics.median(upok), pct(upok, .95), max(upok), len(upok), H))
    if ok:
        print('  time to READY=1 (all open, or waited their timeout=): min %.2f s  median %.2f s  max %.2f s'
              % (min(ok), statistics.median(ok), max(ok)))
    all_open = len(upok) == H and opened == H * D
    print('  all %d devices open: %s' % (H * D, ('after %.2f s' % max(upok)) if all_open else
                                         'NO (%d hosts up, %d of %d mappings)' % (len(upok), opened, H * D)))
    # Failed operations: skpd's own account of every attempt.
    pend = retried = 0
    summ, logs = {}, {}
    for h in range(H):
        log = logs[h] = open('%s/h%d/skpd.log' % (W, h)).read()
        pend += len(re.findall(r'\((pending, will retry|still pending, retrying)\)', log))
        retried += len(re.findall(r' opened after \d+ attempt', log))
        summ[h] = re.findall(r'skptab \S+: (\d+) device\(s\) opened, \d+ adopted \(already live\), (\d+) '
                             r'pending.*?(\d+) KMIP request\(s\), ([0-9.]+) s', log)
    print('  failed operations: %d device attempt(s) failed (left pending), %d device(s) opened only on '
          'a retry, %d of %d mappings missing (goal: 0, 0, 0)' % (pend, retried, H * D - opened, H * D))
    req, conns, lost = collections.Counter(), collections.Counter(), collections.Counter()
    for x in ev:
        h = host_of(x[3])
        if x[0] == 'T' and x[5] == 'req':
            req[h] += 1
        elif x[0] == 'A':
            conns[h] += 1
        elif x[0] == 'L':
            lost[h] += 1
    # The KMS's own time for each host until all its devices were open: the service time
    # (at the relay: its last record in -> the KMS's first record out) of its requests and
    # handshake turns; the rest of the host's time is skp's, the network's and queueing
    # for a connection.
    kms_t = collections.Counter()
    for x in ev:
        h = host_of(x[3])
        if x[0] == 'T' and 0 <= h < H and (up[h] is None or float(x[1]) - t0 <= up[h]):
            kms_t[h] += float(x[6])
    r = [req[h] for h in range(H)]
    c = [conns[h] for h in range(H)]
    print('  KMIP requests per host (answered, counted at the KMS): min %d  median %d  max %d  total %d; '
          'TLS connections per host: min %d  max %d; turns left unanswered (node 1 killed): %d'
          % (min(r), statistics.median(r), max(r), sum(r), min(c), max(c), sum(lost.values())))
    both = [(up[h], kms_t[h]) for h in range(H) if up[h] is not None]
    if both:
        print('  until all open, per host: the KMS serving it (requests and handshakes, at the relay) median '
              '%.2f s  max %.2f s; the rest (skpd, network, waiting for a turn at the KMS) median %.2f s  '
              'max %.2f s' % (statistics.median(k for _, k in both), max(k for _, k in both),
                              statistics.median(u - k for u, k in both), max(u - k for u, k in both)))
    for h in range(H):
        print('    host %2d: all open %s  READY %s  KMS %6.2f s  requests %3d  connections %2d  skpd CPU %s  '
              'skptab: %s' % (
            h, '%7.2f s' % up[h] if up[h] is not None else '   never',
            '%7.2f s' % rd[h] if rd[h] is not None else '   never', kms_t[h], req[h], conns[h],
            '%.2f s' % st['hosts'][h]['cpu'] if st['hosts'][h]['cpu'] is not None else '?',
            '; '.join('%s opened, %s pending, %s KMIP request(s), %s s' % g for g in summ[h]) or '-'))
    # Retry spread: the connections a host opens after its first to each node (failovers,
    # retries, and the health worker's probes), and every turn after the kill.
    first, re_t = set(), []
    for x in sorted((x for x in ev if x[0] == 'A'), key=lambda x: float(x[1])):
        key, h = (x[2], x[3]), host_of(x[3])
        t = float(x[1]) - t0
        # Before the host is up: its health worker's probes come after.
        if key in first and 0 <= h < H and (up[h] is None or t <= up[h]):
            re_t.append(t)
        first.add(key)
    spread(re_t, "retry connections (a host's 2nd+ connection to a node before all its devices are open)")
    spread([float(x[1]) - t0 for x in ev if x[0] in ('T', 'L') and float(x[1]) >= t_kill],
           'KMS turns after the kill')
    spread([float(x[1]) - t0 for x in ev if x[0] == 'T' and x[5] == 'req'], 'KMIP requests, whole storm')
    svc = [float(x[6]) for x in ev if x[0] == 'T' and x[5] == 'req']
    hsv = [float(x[6]) for x in ev if x[0] == 'T' and x[5] == 'hs']
    if svc:
        print('  KMS service time per request (at the relay: request in -> response out): median %.3f s  '
              'p95 %.3f s  max %.3f s  sum %.1f s' % (statistics.median(svc), pct(svc, .95), max(svc), sum(svc)))
    if hsv:
        print('  KMS TLS handshake turns: %d, median %.3f s  p95 %.3f s  max %.3f s  sum %.1f s'
              % (len(hsv), statistics.median(hsv), pct(hsv, .95), max(hsv), sum(hsv)))
    cpus = [h['cpu'] for h in st['hosts'] if h['cpu'] is not None]
    print('  skp\'s own time: skpd CPU (start to end of storm) %.1f s in all %d, median per host %.2f s; '
          'PyKMIP CPU: node 0 %s s, node 1 (at its kill) %s s (both since the format phase)'
          % (sum(cpus), len(cpus), statistics.median(cpus) if cpus else 0,
             '%.1f' % st['cpu_kms0'] if st['cpu_kms0'] is not None else '?',
             '%.1f' % st['cpu_kms1'] if st['cpu_kms1'] is not None else '?'))
    return 0 if all_open else 1


if __name__ == '__main__':
    a = sys.argv
    if len(a) == 10 and a[1] == 'storm':
        storm(a[2], int(a[3]), int(a[4]), float(a[5]), float(a[6]), int(a[7]), int(a[8]), int(a[9]))
    elif len(a) == 6 and a[1] == 'report':
        sys.exit(report(a[2], int(a[3]), int(a[4]), int(a[5])))
    else:
        sys.exit(__doc__)
