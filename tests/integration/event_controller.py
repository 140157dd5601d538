#!/usr/bin/env python3
"""A passive OpenFlow 1.3 peer for tests that records what the switch sends: listens on
127.0.0.1:PORT and, one connection after another until SECONDS have passed, says HELLO, answers
echo requests and appends a line per event to LOG ("connect", "echo", "packet_in", "close",
each followed by the time in seconds since the start).
usage: event_controller.py PORT SECONDS LOG"""
import socket
import struct
import sys
import time

port, seconds, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
start = time.time()
out = open(log, "a", buffering=1)


def event(what):
    out.write("%s %.3f\n" % (what, time.time() - start))


def recv_exact(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
while time.time() - start < seconds:
    s.settimeout(max(seconds - (time.time() - start), 0.1))
    try:
        c, _ = s.accept()
    except socket.timeout:
        break
    event("connect")
    c.sendall(struct.pack("!BBHI", 4, 0, 8, 1))  # HELLO
    c.settimeout(0.5)
    while time.time() - start < seconds:
        try:
            hdr = recv_exact(c, 8)
            if hdr is None:
                break
            ver, typ, ln, xid = struct.unpack("!BBHI", hdr)
            body = recv_exact(c, ln - 8) if ln > 8 else b""
            if body is None:
                break
            if typ == 2:  # echo request -> echo reply
                event("echo")
                c.sendall(struct.pack("!BBHI", 4, 3, ln, xid) + body)
            elif typ == 10:
                event("packet_in")
        except socket.timeout:
            pass
    event("close")
    c.close()
