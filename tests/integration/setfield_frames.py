#!/usr/bin/env python3
"""Frames for set_field.sh and an independent check of what the switch made of them.

usage: setfield_frames.py frame KIND           hex of the frame sent for KIND
       setfield_frames.py send IFACE HEX...    send raw frames on IFACE
       setfield_frames.py sniff IFACE SECONDS  print every frame received on IFACE as hex
       setfield_frames.py check KIND FILE      find KIND's frame among FILE's hex lines and
                                               verify the rewrite and every checksum from scratch
KIND: icmp, icmpv6, arp, nd_ns, nd_na (the flows in set_field.sh say what each rewrites)."""
import socket
import struct
import sys
import time

from pkt import csum  # the Internet checksum, beside this script

BCAST = b"\xff" * 6
SRC = bytes.fromhex("020000000001")
IP4_SRC, IP4_DST = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")
IP6_SRC = socket.inet_pton(socket.AF_INET6, "fe80::1")
IP6_DST = socket.inet_pton(socket.AF_INET6, "ff02::1")
TARGET = socket.inet_pton(socket.AF_INET6, "2001:db8::5")
NEW_TARGET = socket.inet_pton(socket.AF_INET6, "2001:db8::99")
LL_OLD = bytes.fromhex("022222222222")
LL_NEW = bytes.fromhex("aaaaaaaaaaaa")


def ipv4(proto, payload):
    ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 7, 0, 64, proto, 0, IP4_SRC,
                     IP4_DST)
    return ih[:10] + struct.pack("!H", csum(ih)) + ih[12:] + payload


def icmp6_csum(msg):
    pseudo = IP6_SRC + IP6_DST + struct.pack("!IxxxB", len(msg), 58)
    return csum(pseudo + msg)


def ipv6_icmp(msg):
    msg = msg[:2] + b"\0\0" + msg[4:]
    msg = msg[:2] + struct.pack("!H", icmp6_csum(msg)) + msg[4:]
    return struct.pack("!IHBB", 0x60000000, len(msg), 58, 255) + IP6_SRC + IP6_DST + msg


def frame(kind):
    if kind == "icmp":
        msg = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + bytes(range(24))
        msg = msg[:2] + struct.pack("!H", csum(msg)) + msg[4:]
        return BCAST + SRC + b"\x08\x00" + ipv4(1, msg)
    if kind == "icmpv6":
        msg = struct.pack("!BBHHH", 128, 0, 0, 0x4321, 1) + bytes(range(30))
        return BCAST + SRC + b"\x86\xdd" + ipv6_icmp(msg)
    if kind == "arp":
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + SRC + IP4_SRC + b"\0" * 6 + IP4_DST
        return BCAST + SRC + b"\x08\x06" + arp + b"\0" * 18
    if kind in ("nd_ns", "nd_na"):
        ns = kind == "nd_ns"
        nonce = bytes([14, 1, 1, 2, 3, 4, 5, 6])  # an option to step over
        opt = bytes([1 if ns else 2, 1]) + LL_OLD
        msg = bytes([135 if ns else 136, 0, 0, 0, 0 if ns else 0x60, 0, 0, 0]) + TARGET + nonce + opt
        return BCAST + SRC + b"\x86\xdd" + ipv6_icmp(msg)
    sys.exit("unknown kind " + kind)


def expect(cond, what):
    if not cond:
        sys.exit("check failed: " + what)


def check(kind, got):
    sent = frame(kind)
    expect(len(got) >= len(sent), "frame shorter than sent")
    got = got[:len(sent)]  # the receiver may see Ethernet padding
    if kind == "icmp":
        ip, msg = got[14:34], got[34:]
        expect(csum(ip) == 0, "IPv4 header checksum")
        expect(msg[0] == 0 and msg[1] == 10, "icmp type/code %d/%d" % (msg[0], msg[1]))
        expect(csum(msg) == 0, "ICMP checksum")
        expect(msg[4:] == sent[38:], "rest of the ICMP message")
        return
    if kind == "arp":
        arp = got[14:42]
        expect(arp[6:8] == b"\x00\x02", "arp op")
        expect(arp[8:14] == LL_NEW, "arp sha")
        expect(arp[14:18] == socket.inet_aton("10.9.9.9"), "arp spa")
        expect(arp[18:] == sent[32:42], "arp tha/tpa unchanged")
        return
    msg = got[54:]
    expect(icmp6_csum(msg) == 0, "ICMPv6 checksum (with pseudo-header)")
    if kind == "icmpv6":
        expect(msg[0] == 129 and msg[1] == 1, "icmpv6 type/code %d/%d" % (msg[0], msg[1]))
        expect(msg[4:] == sent[58:], "rest of the ICMPv6 message")
        return
    expect(msg[8:24] == NEW_TARGET, "nd target")
    expect(msg[24:32] == sent[54 + 24:54 + 32], "other option unchanged")
    expect(msg[34:40] == LL_NEW, "nd sll/tll")


def main():
    cmd, *args = sys.argv[1:]
    if cmd == "frame":
        print(frame(args[0]).hex())
    elif cmd == "send":
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((args[0], 0))
        for h in args[1:]:
            s.send(bytes.fromhex(h))
    elif cmd == "sniff":
        # sniff IFACE SECONDS [READY_FILE [COUNT]]: prints what arrives for SECONDS; creates
        # READY_FILE once listening, and stops early after COUNT frames from SRC.
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        s.bind((args[0], 0))
        if len(args) > 2:
            open(args[2], "w").close()
        want = int(args[3]) if len(args) > 3 else None
        end = time.time() + float(args[1])
        ours = 0
        while time.time() < end and (want is None or ours < want):
            s.settimeout(max(0.01, end - time.time()))
            try:
                data, addr = s.recvfrom(65535)
            except socket.timeout:
                break
            if addr[2] != socket.PACKET_OUTGOING:
                print(data.hex(), flush=True)
                ours += data[6:12] == SRC
    elif cmd == "check":
        kind, path = args
        sent = frame(kind)
        # The frame of this kind: same EtherType and, for IP, the same protocol.
        key = (sent[12:14], sent[23] if sent[12:14] == b"\x08\x00" else sent[20])
        for line in open(path):
            got = bytes.fromhex(line.strip())
            if got[6:12] != SRC:  # e.g. the hosts' own neighbour discovery
                continue
            if len(got) > 23 and (got[12:14], got[23] if got[12:14] == b"\x08\x00" else
                                  got[20]) == key:
                if kind.startswith("nd") and got[54] != sent[54]:
                    continue
                if kind == "icmpv6" and got[54] in (135, 136):
                    continue
                check(kind, got)
                return
        sys.exit("no %s frame received" % kind)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
