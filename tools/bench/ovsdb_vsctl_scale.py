#!/usr/bin/env python3
"""Scale check with the real client: Debian's `ovs-vsctl --no-wait` adds PORTS ports, each with
the external_ids a cloud agent sets (iface-id, attached-mac, iface-status, vm-uuid), to one
bridge, on every server given with --server NAME=SOCKET (each serving a fresh database of
Open vSwitch's vswitch schema). One port per ovs-vsctl invocation (--batch 1, what agents do
port by port) or BATCH ports per invocation (`add-port ... -- set Interface ...` chained).

Every invocation reads the whole Port and Interface tables (ovs-vsctl's monitor), so the cost
of one grows with the number of ports; the time of the last 100 ports shows that end.
Invocations alternate between the servers (A then B, then B then A, ...), so a change in the
machine's load affects both alike. Prints total and last-100 times and the ratio to the first.

Usually started by tools/bench/ovsdb-vsctl-scale.sh, which creates the databases and servers.
"""

import argparse
import os
import subprocess
import sys
import time
import uuid


def vsctl(sock, args, vsctl_bin, timeout):
    cmd = [vsctl_bin, f"--db=unix:{sock}", "--no-wait", f"--timeout={timeout}"] + args
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:8])}... failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def port_args(i):
    mac = "fa:16:3e:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
    name = f"tap{i:05d}"
    return ["add-port", "br0", name, "--", "set", "Interface", name,
            f"external_ids:iface-id={uuid.UUID(int=i)}", f"external_ids:attached-mac={mac}",
            "external_ids:iface-status=active", f"external_ids:vm-uuid={uuid.UUID(int=i << 64)}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", action="append", required=True, metavar="NAME=SOCKET")
    ap.add_argument("--ports", type=int, default=10000)
    ap.add_argument("--batch", type=int, default=1, help="ports per ovs-vsctl invocation")
    ap.add_argument("--vsctl", default="ovs-vsctl")
    ap.add_argument("--timeout", type=int, default=120, help="ovs-vsctl --timeout, seconds")
    ap.add_argument("--note", action="append", default=[])
    a = ap.parse_args()
    servers = [tuple(s.split("=", 1)) for s in a.server]

    for name, sock in servers:
        vsctl(sock, ["init", "--", "add-br", "br0"], a.vsctl, a.timeout)
    totals = {name: 0.0 for name, _ in servers}
    last = {name: 0.0 for name, _ in servers}
    last_from = max(0, a.ports - 100)
    progress = max(a.ports // 10, a.batch)
    t_start = time.monotonic()
    for step, first in enumerate(range(0, a.ports, a.batch)):
        ports = range(first, min(a.ports, first + a.batch))
        args = []
        for i in ports:
            if args:
                args.append("--")
            args += port_args(i)
        order = servers if step % 2 == 0 else list(reversed(servers))
        for name, sock in order:
            t0 = time.perf_counter()
            vsctl(sock, args, a.vsctl, a.timeout)
            dt = time.perf_counter() - t0
            totals[name] += dt
            if ports[-1] >= last_from:
                # The share of this invocation that falls in the last 100 ports.
                last[name] += dt * sum(1 for i in ports if i >= last_from) / len(ports)
        if (first + a.batch) % progress < a.batch:
            done = min(a.ports, first + a.batch)
            print(f"# {done} ports ({time.monotonic() - t_start:.0f} s): " +
                  ", ".join(f"{n} {totals[n]:.1f} s" for n, _ in servers),
                  file=sys.stderr, flush=True)

    # Checks: every port is there, with its external_ids.
    for name, sock in servers:
        n = len(vsctl(sock, ["list-ports", "br0"], a.vsctl, a.timeout).split())
        if n != a.ports:
            raise RuntimeError(f"{name}: br0 has {n} ports, expected {a.ports}")
        ids = vsctl(sock, ["get", "Interface", f"tap{a.ports - 1:05d}", "external_ids"], a.vsctl,
                    a.timeout)
        if "iface-id" not in ids or "vm-uuid" not in ids:
            raise RuntimeError(f"{name}: external_ids missing: {ids.strip()}")

    names = [n for n, _ in servers]
    title = f"ovs-vsctl --no-wait, {a.ports} ports with external_ids, {a.batch} per invocation"
    hdr = f"{'':<28}" + "".join(f"{n:>14}" for n in names)
    if len(names) > 1:
        hdr += f"{names[-1] + '/' + names[0]:>16}"
    print(title)
    print(hdr)
    for label, vals in (("total s (↓)", totals), ("last 100 ports s (↓)", last)):
        line = f"{label:<28}" + "".join(f"{vals[n]:>14.2f}" for n in names)
        if len(names) > 1:
            line += f"{vals[names[-1]] / vals[names[0]]:>16.2f}"
        print(line)
    print(f"(↓) lower is better; ratio < 1 means {names[-1]} is faster. "
          f"harness pid {os.getpid()} on CPUs {sorted(os.sched_getaffinity(0))}")
    for n in a.note:
        print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
