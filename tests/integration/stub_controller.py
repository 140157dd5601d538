#!/usr/bin/env python3
"""A minimal OpenFlow 1.3 controller for tests: listens on 127.0.0.1:PORT, accepts one switch,
says HELLO and answers echo requests until SECONDS have passed. With READY_FILE it creates that
file once it listens, so that a test can point the switch at it only then.
usage: stub_controller.py PORT SECONDS [READY_FILE]"""
import socket
import struct
import sys
import time

port, seconds = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
if len(sys.argv) > 3:
    open(sys.argv[3], "w").close()
s.settimeout(60)
c, _ = s.accept()
c.settimeout(1)
c.sendall(struct.pack("!BBHI", 4, 0, 8, 1))  # HELLO
end = time.time() + seconds
while time.time() < end:
    try:
        hdr = c.recv(8)
        if not hdr:
            break
        ver, typ, ln, xid = struct.unpack("!BBHI", hdr[:8])
        body = c.recv(ln - 8) if ln > 8 else b""
        if typ == 2:  # echo request -> echo reply
            c.sendall(struct.pack("!BBHI", 4, 3, ln, xid) + body)
    except socket.timeout:
        pass
