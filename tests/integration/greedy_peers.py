#!/usr/bin/env python3
"""Slow and greedy peers against a running sluice-switchd, all at once:
  - an OVSDB client and an OpenFlow controller that send requests with big replies and never
    read (the switch must stop reading them and drop them),
  - an OVSDB client sending one endless message (dropped at the message size limit),
  - an OpenFlow controller trickling one message a byte at a time (dropped for taking too long),
  - N OVSDB and N OpenFlow connections opened at once, each holding a partial message,
while well-behaved clients (the commands given) must keep being answered. Prints one JSON object:
the switch's memory growth, the good clients' results and which offenders were dropped.
usage: greedy_peers.py PID DB_PORT OF_PORT N SECONDS GOOD_CMD..."""
import json
import os
import resource
import select
import socket
import subprocess
import sys
import threading
import time

pid, db_port, of_port, n, seconds = (int(x) for x in sys.argv[1:6])
good_cmds = sys.argv[6:]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

OF_HELLO = bytes([4, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x10])


def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def connect(port, rcvbuf=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        # A small receive window, as a peer that has stopped reading eventually has anyway.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


def send_some(s, data):
    """Sends what the socket takes now; returns the number of bytes taken (-1: closed)."""
    try:
        return s.send(data)
    except BlockingIOError:
        return 0
    except OSError:
        return -1


def closed_by_peer(s):
    """Drains what is readable; True once the other side has closed."""
    p = select.poll()
    p.register(s, select.POLLIN)
    try:
        while p.poll(0):
            if not s.recv(1 << 20):
                return True
        return False
    except BlockingIOError:
        return False
    except OSError:
        return True


results = {}
stop = time.time() + seconds


def non_reader(name, port, hello, request):
    s = connect(port, rcvbuf=256 << 10)
    results[name + "_port"] = s.getsockname()[1]
    if hello:
        s.sendall(hello)
    sent = 0
    off = 0  # within the request being sent: requests stay whole on the wire
    blocked_since = None
    while time.time() < stop:
        n_ = send_some(s, request[off:])
        if n_ < 0:
            break
        if n_ == 0:
            # The switch is not reading us (or is busy): keep offering more until it hangs up.
            blocked_since = blocked_since or time.time()
            time.sleep(0.05)
        else:
            blocked_since = None
            sent += n_
            off = (off + n_) % len(request)
    results[name + "_sent"] = sent
    while time.time() < stop and not closed_by_peer(s):
        time.sleep(0.2)
    results[name + "_dropped"] = closed_by_peer(s)


def endless(name, port):
    s = connect(port)
    s.setblocking(True)
    s.settimeout(5)
    sent = 0
    try:
        s.sendall(b'{"method":"echo","params":["')
        chunk = b"a" * (1 << 20)
        while time.time() < stop and sent < (200 << 20):
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        pass
    results[name + "_sent"] = sent
    s.setblocking(False)
    while time.time() < stop and not closed_by_peer(s):
        time.sleep(0.2)
    results[name + "_dropped"] = closed_by_peer(s)


def trickler(name, port):
    s = connect(port)
    s.sendall(OF_HELLO)
    s.sendall(bytes([4, 2, 0xff, 0xff, 0, 0, 0, 9]))  # an ECHO_REQUEST of 65535 bytes...
    dropped = False
    while time.time() < stop:
        if send_some(s, b"x") < 0 or closed_by_peer(s):  # ... one byte every half second
            dropped = True
            break
        time.sleep(0.5)
    results[name + "_dropped"] = dropped or closed_by_peer(s)


def crowd():
    conns = []
    failures = 0
    for i in range(n):
        for port, first in ((db_port, b'{"method":"echo","params":["held'),
                            (of_port, OF_HELLO + bytes([4, 2, 0, 64, 0, 0, 0, 7]))):
            try:
                s = connect(port)
                s.send(first)
                conns.append(s)
            except OSError:
                failures += 1
    results["crowd_open"] = len(conns)
    results["crowd_failures"] = failures
    while time.time() < stop:
        time.sleep(0.5)
    results["crowd_dropped"] = sum(closed_by_peer(s) for s in conns)


base = rss_kib()
threads = [threading.Thread(target=f, args=a) for f, a in (
    (non_reader, ("ovsdb_nonreader", db_port, None,
                  json.dumps({"method": "echo", "params": ["x" * 60000], "id": 1}).encode())),
    (non_reader, ("of_nonreader", of_port, OF_HELLO,
                  bytes([4, 2, 0xea, 0x68, 0, 0, 0, 5]) + b"y" * 60000)),
    (endless, ("ovsdb_endless", db_port)),
    (trickler, ("of_trickler", of_port)),
    (crowd, ()),
)]
for t in threads:
    t.start()
max_rss = base
good = []
next_good = time.time() + 1
while any(t.is_alive() for t in threads):
    max_rss = max(max_rss, rss_kib())
    if time.time() >= next_good and time.time() < stop - 1:
        for cmd in good_cmds:
            t0 = time.time()
            try:
                r = subprocess.run(cmd, shell=True, capture_output=True, timeout=10)
                good.append((r.returncode, round(time.time() - t0, 3)))
            except subprocess.TimeoutExpired:
                good.append((-1, 10.0))
        next_good = time.time() + 2
    time.sleep(0.1)
results["rss_base_kib"] = base
results["rss_max_kib"] = max_rss
results["good_runs"] = len(good)
results["good_failures"] = sum(1 for rc, _ in good if rc != 0)
results["good_max_s"] = max((t for _, t in good), default=0)
print(json.dumps(results, sort_keys=True))
