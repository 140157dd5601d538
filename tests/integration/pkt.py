#!/usr/bin/env python3
"""Builds test frames as hex for netdev-dummy/receive.
usage: pkt.py udp SRC_MAC DST_MAC SRC_IP DST_IP SPORT DPORT [PAYLOAD_LEN] [VLAN]"""
import socket
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def mac(m):
    return bytes(int(x, 16) for x in m.split(":"))


def udp(smac, dmac, sip, dip, sport, dport, plen=18, vlan=None):
    payload = bytes(range(plen))
    uh = struct.pack("!HHHH", int(sport), int(dport), 8 + len(payload), 0)
    s, d = socket.inet_aton(sip), socket.inet_aton(dip)
    pseudo = s + d + struct.pack("!BBH", 0, 17, len(uh) + len(payload))
    c = csum(pseudo + uh + payload) or 0xFFFF
    uh = uh[:6] + struct.pack("!H", c)
    ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(uh) + len(payload), 1, 0, 64, 17, 0, s, d)
    ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
    eth = mac(dmac) + mac(smac)
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, int(vlan))
    eth += struct.pack("!H", 0x0800)
    return eth + ih + uh + payload


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "udp":
        plen = int(args[6]) if len(args) > 6 else 18
        vlan = args[7] if len(args) > 7 else None
        print(udp(*args[:6], plen=plen, vlan=vlan).hex())
    else:
        sys.exit("unknown kind " + kind)
