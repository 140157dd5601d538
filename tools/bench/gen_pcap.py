#!/usr/bin/env python3
"""Writes a pcap of 60-byte IPv4/UDP frames (64 bytes on the wire) for datapath benchmarks.
usage: gen_pcap.py OUT.pcap N_FLOWS [N_PACKETS]
Flow i has source 198.18.(i>>8).(i&255) -> 198.19.(i%16).1, UDP ports 1000+i%50000 -> 2000."""
import struct
import sys


def frame(i):
    src = bytes([198, 18, (i >> 8) & 255, i & 255])
    dst = bytes([198, 19, i % 16, 1])
    payload = bytes(18)
    uh = struct.pack("!HHHH", 1000 + i % 50000, 2000, 8 + len(payload), 0)
    ih = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, 17, 0,
                               src, dst))
    s = sum(struct.unpack("!10H", ih))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    ih[10:12] = struct.pack("!H", ~s & 0xFFFF)
    eth = bytes.fromhex("02bb00000002") + bytes.fromhex("02aa00000001") + b"\x08\x00"
    return eth + bytes(ih) + uh + payload


def main():
    out, nflows = sys.argv[1], int(sys.argv[2])
    npkts = int(sys.argv[3]) if len(sys.argv) > 3 else max(nflows, 64)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for k in range(npkts):
            fr = frame(k % nflows)
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


main()
