#!/usr/bin/env python3
"""How long log compaction holds up transactions, measured from a client.

On a server with a fresh database of tools/bench/bench.ovsschema:
 1. load ROWS Child rows with fat external_ids (1000 per transaction), so the database is big
    enough (~300 MB) that once the automatic policy (log > 4x the last snapshot) has compacted
    it, the log can grow to LOG_MB before the policy would compact it again;
 2. churn: update the `value` of 1000 rows per transaction until the log file reaches LOG_MB;
 3. a probe client commits one small transaction after another (update Root.counter, each
    reply awaited) while ovsdb-server/compact runs (sent through the server's unixctl socket
    with ovs-appctl); the probe keeps going for a second after the compaction reply.
Reports the log size before and after, the compaction's duration as the client sees it, and
the probe's round trips during it: count, median, 99th percentile and maximum (the stall).

Usually started by tools/bench/ovsdb-compaction-stall.sh.
"""

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ovsdb_bench as b  # noqa: E402


def fat_row(i):
    # About 1 KB, so that 300k rows make a database too big for the automatic policy (log > 4x
    # the last snapshot) to compact a 1 GB log first.
    return {"name": f"row-{i}", "value": i, "tag": "abc"[i % 3],
            "external_ids": ["map", [[f"key-{k:02d}", f"value-{k:02d}-{i:08d}-" + "x" * 50]
                                     for k in range(12)]]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sock", required=True)
    ap.add_argument("--ctl", required=True, help="the server's unixctl socket")
    ap.add_argument("--db-file", required=True, help="the server's log file (its size is watched)")
    ap.add_argument("--rows", type=int, default=300000)
    ap.add_argument("--log-mb", type=int, default=1024)
    ap.add_argument("--appctl", default="ovs-appctl")
    a = ap.parse_args()

    root = b.setup(a.sock)
    c = b.Conn(a.sock, timeout=120)
    t0 = time.monotonic()
    uuids = []
    for first in range(0, a.rows, 1000):
        ops = [{"op": "insert", "table": "Child", "row": fat_row(i)}
               for i in range(first, min(a.rows, first + 1000))]
        uuids += [r["uuid"][1] for r in c.transact(ops, timeout=120)]
    print(f"# loaded {a.rows} rows in {time.monotonic() - t0:.0f} s, log "
          f"{os.path.getsize(a.db_file) >> 20} MiB", file=sys.stderr, flush=True)
    n = 0
    while os.path.getsize(a.db_file) < a.log_mb << 20:
        ops = [{"op": "update", "table": "Child", "where": [["_uuid", "==", ["uuid", u]]],
                "row": {"value": n}} for u in uuids[(n * 1000) % a.rows:][:1000]]
        c.transact(ops, timeout=120)
        n += 1
    size_before = os.path.getsize(a.db_file)
    print(f"# churned {n} transactions, log {size_before >> 20} MiB", file=sys.stderr, flush=True)

    probe = b.Conn(a.sock)
    lat = []  # (start, round trip)
    stop = threading.Event()
    where = [["_uuid", "==", ["uuid", root]]]

    def run_probe():
        i = 0
        while not stop.is_set():
            i += 1
            t = time.perf_counter()
            probe.transact([{"op": "update", "table": "Root", "where": where,
                             "row": {"counter": i}}])
            lat.append((t, time.perf_counter() - t))

    th = threading.Thread(target=run_probe)
    th.start()
    time.sleep(1.0)
    t_start = time.perf_counter()
    r = subprocess.run([a.appctl, "-t", a.ctl, "ovsdb-server/compact"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    t_end = time.perf_counter()
    time.sleep(1.0)
    stop.set()
    th.join()
    if r.returncode != 0:
        raise RuntimeError(f"compact failed: {r.stdout}")
    size_after = os.path.getsize(a.db_file)
    during = [d for (t, d) in lat if t_start <= t + d and t <= t_end]
    before = [d for (t, d) in lat if t + d < t_start]
    if not during:
        raise RuntimeError("no probe transaction during the compaction")
    ms = lambda x: f"{x * 1e3:.1f}"  # noqa: E731
    print(f"log {size_before / 2**20:.0f} MiB -> {size_after / 2**20:.0f} MiB; database "
          f"{a.rows} rows; compaction {ms(t_end - t_start)} ms as seen by ovs-appctl")
    print(f"probe commits during compaction: {len(during)}, median {ms(statistics.median(during))}"
          f" ms, p99 {ms(sorted(during)[int(len(during) * 0.99)])} ms, max {ms(max(during))} ms"
          f" (before: median {ms(statistics.median(before))} ms, max {ms(max(before))} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
