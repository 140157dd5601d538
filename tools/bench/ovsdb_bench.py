#!/usr/bin/env python3
"""Side-by-side OVSDB server benchmark (RFC 7047 JSON-RPC over unix sockets, stdlib only).

Runs the same workloads against every server given with --server NAME=SOCKET (all of them
serving a fresh database created from tools/bench/bench.ovsschema) and prints one table with
the absolute numbers and the ratio of the second server to the first:

  1a. small txns, update: N sequential transacts, each updating Root.counter; one client, each
      reply awaited before the next request (latency-bound, like ovs-vsctl).
  1b. small txns, insert: N sequential transacts, each inserting one Child row and adding it to
      Root.children (mutate insert named-uuid), so Root.children grows to N refs.
  2.  bulk load: ROWS Child rows in transactions of BATCH rows; rows/s and total seconds.
  3.  monitor fan-out: CLIENTS connections each open monitor_cond on Child (no initial rows);
      one writer commits M one-row transactions (WINDOW outstanding, default 1: each reply
      awaited); time from the first commit request until every client has received every row,
      and the rows delivered per second in total. Workloads run in this order on one database
      per server, so the fan-out commits into a Child table already holding N + ROWS rows.

Light correctness checks: Root.children size and Child row count after the workloads, the Child
name index rejecting a duplicate, every monitor seeing exactly the rows committed.

With --mem-rows N[,M...] and --pid NAME=PID for every server, it measures memory instead (run it
on fresh servers): Child rows are loaded (1000 per transaction, untimed) up to N, M, ... rows and
the server's resident set size (VmRSS) is read after each step; bytes per row =
(RSS - RSS before the first row) / rows.

Usually started by tools/bench/ovsdb-bench.sh, which creates the databases and the servers.
"""

import argparse
import codecs
import json
import os
import selectors
import socket
import sys
import time

DB = "Bench"


class RpcError(Exception):
    pass


class Conn:
    """One JSON-RPC connection. Messages arrive back to back without delimiters; they are split
    with JSONDecoder.raw_decode. Echo requests from the server are answered transparently."""

    def __init__(self, path, timeout=30.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.timeout = timeout
        self.dec = json.JSONDecoder()
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.next_id = 0
        self.notifications = []  # kept only by call(); the fan-out loop consumes its own

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, method, params, id_=None):
        if id_ is None:
            self.next_id += 1
            id_ = self.next_id
        msg = {"method": method, "params": params, "id": id_}
        self.sock.sendall(json.dumps(msg, separators=(",", ":")).encode())
        return id_

    def feed(self, data):
        """Appends received bytes; returns the complete messages now available."""
        if not data:
            raise RpcError("connection closed by server")
        self.buf += self.utf8.decode(data)
        out = []
        pos, n, buf = 0, len(self.buf), self.buf
        while True:
            while pos < n and buf[pos] in " \t\r\n":
                pos += 1
            if pos >= n:
                break
            try:
                msg, pos2 = self.dec.raw_decode(buf, pos)
            except json.JSONDecodeError:
                break  # incomplete message: wait for more bytes
            pos = pos2
            if msg.get("method") == "echo" and msg.get("id") is not None:
                self.sock.sendall(json.dumps({"result": msg.get("params", []), "error": None,
                                              "id": msg["id"]}).encode())
                continue
            out.append(msg)
        self.buf = buf[pos:]
        return out

    def recv_msgs(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline exceeded")
        self.sock.settimeout(min(left, self.timeout))
        return self.feed(self.sock.recv(1 << 18))

    def wait_reply(self, id_, deadline):
        pending = []
        while True:
            for m in self.recv_msgs(deadline):
                if m.get("id") == id_ and "method" not in m:
                    self.notifications.extend(pending)
                    if m.get("error") is not None:
                        raise RpcError(f"{m['error']}")
                    return m.get("result")
                pending.append(m)

    def call(self, method, params, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        return self.wait_reply(self.send(method, params), deadline)

    def transact(self, ops, timeout=None, check=True):
        res = self.call("transact", [DB] + ops, timeout)
        if check:
            check_txn(res, ops)
        return res


def check_txn(res, ops):
    if not isinstance(res, list) or len(res) < len(ops):
        raise RpcError(f"bad transact result {str(res)[:200]}")
    for r in res:
        if isinstance(r, dict) and "error" in r:
            raise RpcError(f"transaction failed: {r}")


def fmt_secs(s):
    return f"{s:.3f}"


# --------------------------------------------------------------------------------------------
# Setup and checks


def setup(path):
    c = Conn(path)
    try:
        dbs = c.call("list_dbs", [])
        if DB not in dbs:
            raise RpcError(f"database {DB} not served (list_dbs: {dbs})")
        rows = c.transact([{"op": "select", "table": "Root", "where": [], "columns": ["_uuid"]}])
        if rows[0]["rows"]:
            raise RpcError("database is not fresh (Root already has a row)")
        res = c.transact([{"op": "insert", "table": "Root",
                           "row": {"name": "root", "counter": 0}}])
        return res[0]["uuid"][1]
    finally:
        c.close()


def count_rows(c, table, column="_uuid"):
    res = c.transact([{"op": "select", "table": table, "where": [], "columns": [column]}])
    return res[0]["rows"]


def child_row(name, value, tag="a"):
    return {"name": name, "value": value, "tag": tag,
            "external_ids": ["map", [["k", name]]]}


# --------------------------------------------------------------------------------------------
# Workloads. Each returns a dict of metric -> value; raises on failure.


def wl_small_insert(path, root, n, limit):
    c = Conn(path)
    try:
        deadline = time.monotonic() + limit
        t0 = time.perf_counter()
        for i in range(n):
            ops = [{"op": "insert", "table": "Child", "row": child_row(f"small-{i}", i),
                    "uuid-name": "c"},
                   {"op": "mutate", "table": "Root", "where": [["_uuid", "==", ["uuid", root]]],
                    "mutations": [["children", "insert", ["set", [["named-uuid", "c"]]]]]}]
            res = c.wait_reply(c.send("transact", [DB] + ops), deadline)
            check_txn(res, ops)
            if res[1].get("count") != 1:
                raise RpcError(f"mutate matched {res[1]}")
        dt = time.perf_counter() - t0
        # Checks: Root.children has every row; the name index rejects a duplicate.
        kids = count_rows(c, "Root", "children")[0]["children"]
        nk = len(kids[1]) if kids[0] == "set" else 1
        if nk != n:
            raise RpcError(f"Root.children has {nk} rows, expected {n}")
        dup = c.transact([{"op": "insert", "table": "Child", "row": child_row("small-0", -1)}],
                         check=False)
        if not any(isinstance(r, dict) and r.get("error") == "constraint violation"
                   for r in dup):
            raise RpcError(f"duplicate name accepted: {dup}")
        return {"txn/s": n / dt, "seconds": dt}
    finally:
        c.close()


def wl_small_update(path, root, n, limit):
    c = Conn(path)
    try:
        deadline = time.monotonic() + limit
        where = [["_uuid", "==", ["uuid", root]]]
        t0 = time.perf_counter()
        for i in range(n):
            ops = [{"op": "update", "table": "Root", "where": where, "row": {"counter": i + 1}}]
            res = c.wait_reply(c.send("transact", [DB] + ops), deadline)
            check_txn(res, ops)
        dt = time.perf_counter() - t0
        got = count_rows(c, "Root", "counter")[0]["counter"]
        if got != n:
            raise RpcError(f"Root.counter is {got}, expected {n}")
        return {"txn/s": n / dt, "seconds": dt}
    finally:
        c.close()


def wl_bulk(path, rows, batch, limit):
    c = Conn(path, timeout=max(30.0, limit))
    try:
        before = len(count_rows(c, "Child"))
        deadline = time.monotonic() + limit
        # Build the requests first so JSON encoding in the harness is not timed.
        reqs = []
        for b in range(0, rows, batch):
            ops = [{"op": "insert", "table": "Child",
                    "row": child_row(f"bulk-{i}", i, "abc"[i % 3])}
                   for i in range(b, min(rows, b + batch))]
            reqs.append((ops, json.dumps({"method": "transact", "params": [DB] + ops,
                                          "id": b}, separators=(",", ":")).encode()))
        t0 = time.perf_counter()
        for b, (ops, data) in zip(range(0, rows, batch), reqs):
            c.sock.sendall(data)
            res = c.wait_reply(b, deadline)
            check_txn(res, ops)
        dt = time.perf_counter() - t0
        after = len(count_rows(c, "Child"))
        if after - before != rows:
            raise RpcError(f"Child has {after} rows after the load, expected {before + rows}")
        return {"rows/s": rows / dt, "seconds": dt, "Child rows after": after}
    finally:
        c.close()


def count_update(params, table="Child"):
    """Rows inserted in one update/update2 notification."""
    if not isinstance(params, list) or len(params) < 2:
        return 0
    upd = params[-1] if len(params) == 2 else params[2]  # update3: [id, last-txn-id, updates]
    rows = upd.get(table, {}) if isinstance(upd, dict) else {}
    n = 0
    for r in rows.values():
        if "insert" in r or ("new" in r and "old" not in r):
            n += 1
    return n


def wl_fanout(path, clients, m, window, limit):
    sel = selectors.DefaultSelector()
    conns = []
    writer = None
    try:
        deadline = time.monotonic() + limit
        # Open the monitors (sequentially; the setup is not timed).
        for i in range(clients):
            c = Conn(path)
            conns.append(c)
            c.call("monitor_cond", [DB, f"m{i}",
                                    {"Child": [{"select": {"initial": False, "insert": True,
                                                           "delete": True, "modify": True}}]}])
        writer = Conn(path)
        before = len(count_rows(writer, "Child"))
        got = [0] * clients
        done_at = [None] * clients
        for i, c in enumerate(conns):
            c.sock.setblocking(False)
            sel.register(c.sock, selectors.EVENT_READ, i)
        writer.sock.setblocking(False)
        sel.register(writer.sock, selectors.EVENT_READ, -1)

        sent = committed = 0
        outstanding = {}

        def send_next():
            nonlocal sent
            ops = [{"op": "insert", "table": "Child", "row": child_row(f"fan-{sent}", sent)}]
            data = json.dumps({"method": "transact", "params": [DB] + ops, "id": sent},
                              separators=(",", ":")).encode()
            writer.sock.setblocking(True)
            writer.sock.sendall(data)
            writer.sock.setblocking(False)
            outstanding[sent] = ops
            sent += 1

        n_done = 0
        t_commits = None
        t0 = time.perf_counter()
        while sent < min(window, m):
            send_next()
        while n_done < clients or committed < m:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"fan-out incomplete: {committed}/{m} commits, "
                                   f"{sum(got)}/{clients * m} rows delivered")
            for key, _ in sel.select(min(left, 1.0)):
                i = key.data
                c = writer if i < 0 else conns[i]
                try:
                    data = c.sock.recv(1 << 18)
                except BlockingIOError:
                    continue
                for msg in c.feed(data):
                    if i < 0:
                        if "method" in msg:
                            continue
                        ops = outstanding.pop(msg.get("id"), None)
                        if ops is None or msg.get("error") is not None:
                            raise RpcError(f"writer: unexpected {str(msg)[:200]}")
                        check_txn(msg["result"], ops)
                        committed += 1
                        if committed == m:
                            t_commits = time.perf_counter()
                        if sent < m:
                            send_next()
                    elif msg.get("method") in ("update", "update2", "update3"):
                        got[i] += count_update(msg["params"])
                        if got[i] > m:
                            raise RpcError(f"client {i} received {got[i]} rows > {m}")
                        if got[i] == m and done_at[i] is None:
                            done_at[i] = time.perf_counter()
                            n_done += 1
        t_all = max(done_at)
        dt = t_all - t0
        return {"delivery s (all)": dt,
                "rows delivered/s": clients * m / dt,
                "writer txn/s": m / (t_commits - t0),
                "lag after last commit ms": max(0.0, t_all - t_commits) * 1e3,
                "first client done s": min(done_at) - t0,
                "Child rows before": before}
    finally:
        sel.close()
        for c in conns:
            c.close()
        if writer:
            writer.close()


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RpcError(f"no VmRSS for pid {pid}")


def wl_memory(path, pid, steps, limit):
    c = Conn(path, timeout=max(60.0, limit))
    try:
        base = rss_bytes(pid)
        out = {}
        loaded = 0
        for target in steps:
            while loaded < target:
                n = min(1000, target - loaded)
                ops = [{"op": "insert", "table": "Child",
                        "row": child_row(f"mem-{i}", i, "abc"[i % 3])}
                       for i in range(loaded, loaded + n)]
                c.transact(ops, timeout=limit)
                loaded += n
            time.sleep(0.5)  # let a compaction triggered by the load finish
            rss = rss_bytes(pid)
            out[f"RSS MiB at {target} rows"] = rss / (1 << 20)
            out[f"bytes/row at {target} rows"] = (rss - base) / target
        # Spot check (a full select of 1M rows costs the harness minutes; ovsdb-server's select
        # is DISTINCT over the selected columns, so "columns": [] would return one row).
        for i in (0, loaded // 2, loaded - 1):
            res = c.transact([{"op": "select", "table": "Child",
                               "where": [["name", "==", f"mem-{i}"]], "columns": ["value"]}],
                             timeout=limit)
            if res[0]["rows"] != [{"value": i}]:
                raise RpcError(f"row mem-{i}: {res[0]['rows']}")
        return out
    finally:
        c.close()


def memory_main(a, servers):
    pids = dict(p.split("=", 1) for p in a.pid)
    steps = [int(x) for x in a.mem_rows.split(",")]
    table = []
    for name, path in servers:
        print(f"# memory: {name} ...", file=sys.stderr, flush=True)
        setup(path)
        table.append(wl_memory(path, int(pids[name]), steps, a.limit))
    names = [n for n, _ in servers]
    hdr = f"{'memory (Child rows, 1000/txn)':<34}" + "".join(f"{n:>14}" for n in names)
    if len(names) > 1:
        hdr += f"{names[-1] + '/' + names[0]:>16}"
    print()
    print(hdr)
    print("-" * len(hdr))
    for k in table[0]:
        line = f"{k + ' (↓)':<34}" + "".join(f"{t[k]:>14.1f}" for t in table)
        if len(names) > 1:
            line += f"{table[-1][k] / table[0][k]:>16.2f}"
        print(line)
    for n in a.note:
        print(n)
    return 0


# --------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", action="append", required=True, metavar="NAME=SOCKET",
                    help="a server to measure (repeatable; ratios are last/first)")
    ap.add_argument("-n", "--small", type=int, default=5000, help="small transactions (1a, 1b)")
    ap.add_argument("--rows", type=int, default=100000, help="bulk load rows (2)")
    ap.add_argument("--batch", type=int, default=1000, help="bulk load rows per transaction")
    ap.add_argument("--clients", type=int, default=50, help="fan-out monitor clients (3)")
    ap.add_argument("-m", "--fanout-txns", type=int, default=1000, help="fan-out commits (3)")
    ap.add_argument("--window", type=int, default=1,
                    help="fan-out writer: transactions outstanding at once")
    ap.add_argument("--limit", type=float, default=40.0,
                    help="time limit per workload and server, seconds")
    ap.add_argument("--note", action="append", default=[], help="line printed under the table")
    ap.add_argument("--mem-rows", help="measure memory at these row counts (N[,M...]) instead")
    ap.add_argument("--pid", action="append", default=[], metavar="NAME=PID",
                    help="server process ids (for --mem-rows)")
    a = ap.parse_args()

    servers = []
    for s in a.server:
        name, _, path = s.partition("=")
        if not path:
            ap.error(f"--server {s}: expected NAME=SOCKET")
        servers.append((name, path))

    if a.mem_rows:
        return memory_main(a, servers)

    roots = {}
    failures = 0
    for name, path in servers:
        roots[name] = setup(path)

    workloads = [
        (f"1a small txn: update int (N={a.small})",
         lambda p, r: wl_small_update(p, r, a.small, a.limit), ["txn/s", "seconds"]),
        (f"1b small txn: insert+mutate (N={a.small})",
         lambda p, r: wl_small_insert(p, r, a.small, a.limit), ["txn/s", "seconds"]),
        (f"2  bulk load ({a.rows} rows, {a.batch}/txn)",
         lambda p, r: wl_bulk(p, a.rows, a.batch, a.limit),
         ["rows/s", "seconds", "Child rows after"]),
        (f"3  fan-out ({a.clients} monitors, M={a.fanout_txns}, window {a.window})",
         lambda p, r: wl_fanout(p, a.clients, a.fanout_txns, a.window, a.limit),
         ["delivery s (all)", "rows delivered/s", "writer txn/s", "lag after last commit ms",
          "first client done s", "Child rows before"]),
    ]
    lower_better = {"seconds", "delivery s (all)", "lag after last commit ms",
                    "first client done s"}

    table = []  # (workload, metric, [values or error strings])
    for title, fn, metrics in workloads:
        results = []
        for name, path in servers:
            print(f"# {title}: {name} ...", file=sys.stderr, flush=True)
            try:
                results.append(fn(path, roots[name]))
            except Exception as e:  # noqa: BLE001 - report and keep going
                failures += 1
                results.append(f"FAIL ({name}, {title.split(':')[0].split(' (')[0]}): "
                               f"{type(e).__name__}: {e}")
                print(f"#   {results[-1]}", file=sys.stderr, flush=True)
        for k in metrics:
            table.append((title, k, [r if isinstance(r, str) else r.get(k) for r in results]))

    names = [n for n, _ in servers]
    ratio_hdr = f"{names[-1]}/{names[0]}" if len(names) > 1 else ""
    w0 = max(len(t) for t, _, _ in table)
    w1 = max(len(m) for _, m, _ in table) + 4
    print()
    hdr = f"{'workload':<{w0}}  {'metric':<{w1}}" + "".join(f"{n:>14}" for n in names)
    if ratio_hdr:
        hdr += f"{ratio_hdr:>16}"
    print(hdr)
    print("-" * len(hdr))
    last = None
    errors = []
    for title, metric, vals in table:
        t = title if title != last else ""
        last = title
        cells = []
        for v in vals:
            if isinstance(v, str):
                errors.append(v)
                cells.append(f"{'FAIL':>14}")
            elif isinstance(v, int):
                cells.append(f"{v:>14d}")
            elif v is None:
                cells.append(f"{'-':>14}")
            else:
                cells.append(f"{v:>14.1f}" if v >= 100 else f"{v:>14.3f}")
        line = f"{t:<{w0}}  {metric + (' (↓)' if metric in lower_better else ''):<{w1}}"
        line += "".join(cells)
        if ratio_hdr:
            v0, v1 = vals[0], vals[-1]
            if isinstance(v0, (int, float)) and isinstance(v1, (int, float)) and v0 and \
                    not metric.startswith("Child rows"):
                line += f"{v1 / v0:>16.2f}"
            else:
                line += f"{'-':>16}"
        print(line)
    print()
    print("(↓) lower is better; others higher is better. Ratios are "
          f"{ratio_hdr or 'n/a'}: >1 means {names[-1]} is higher.")
    print(f"harness pid {os.getpid()} on CPUs {sorted(os.sched_getaffinity(0))}")
    for n in a.note:
        print(n)
    for e in sorted(set(errors)):
        print(e)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
