#!/usr/bin/env bash
# sluice-ovsdb-server durability under SIGKILL: a client streams transactions that each insert a
# row with a unique sequence number (several in flight at once) and records every sequence number
# whose transact reply arrived. After a random 0-300 ms the server is killed with SIGKILL and
# restarted on the same file, which it must open every time, and every acknowledged row must be
# there (rows whose reply never arrived may or may not be). ROUNDS rounds (default 30), fewer (but
# at least MIN_ROUNDS, default 5) once BUDGET seconds (default 150) have gone: every round
# replays and checks all earlier rows, which a loaded machine makes slow. The delay starts once
# the client is connected and has its first transactions in flight.
BIN=$1
source "$(dirname "$0")/lib.bash"
ROUNDS=${ROUNDS:-30} MIN_ROUNDS=${MIN_ROUNDS:-5} BUDGET=${BUDGET:-150}

DB=$SL_TMP/kill.db
SOCK=$SL_TMP/db.sock
cat > "$SL_TMP/kill.ovsschema" <<'EOF'
{"name": "Kill", "version": "1.0.0",
 "tables": {"Seq": {"isRoot": true, "indexes": [["n"]],
                    "columns": {"n": {"type": "integer"},
                                "pad": {"type": "string"}}}}}
EOF
"$BIN/sluice-ovsdb-tool" create "$DB" "$SL_TMP/kill.ovsschema" || fail "ovsdb-tool create"

# client.py load SOCK FIRST ACKFILE: inserts n = FIRST, FIRST+1, ... with up to 16 transactions
#   in flight, appending each acknowledged n to ACKFILE, until the server goes away.
# client.py check SOCK ACKFILE...: every n listed in the ACKFILEs is in table Seq.
cat > "$SL_TMP/client.py" <<'EOF'
import json, socket, sys

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

class Reader:
    def __init__(self, sock):
        self.sock, self.buf, self.dec = sock, "", json.JSONDecoder()
    def next(self):
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    msg, end = self.dec.raw_decode(text)
                    self.buf = text[end:]
                    return msg
                except json.JSONDecodeError:
                    pass
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data.decode()

def load(path, first, ackfile):
    sock, n, acked = connect(path), first, 0
    r = Reader(sock)
    out = open(ackfile, "a")
    inflight = set()
    pad = "x" * 200
    try:
        while True:
            while len(inflight) < 16:
                req = {"id": n, "method": "transact",
                       "params": ["Kill", {"op": "insert", "table": "Seq",
                                           "row": {"n": n, "pad": pad}}]}
                sock.sendall(json.dumps(req).encode())
                inflight.add(n)
                n += 1
            if n - first == 16:
                open(ackfile + ".ready", "w").close()  # connected, first batch sent
            msg = r.next()
            if msg is None:
                break
            if msg.get("method") == "echo":
                sock.sendall(json.dumps({"id": msg["id"], "result": msg["params"],
                                         "error": None}).encode())
                continue
            res = msg.get("result")
            if msg.get("error") is not None or not isinstance(res, list) or \
                    any(isinstance(x, dict) and "error" in x for x in res):
                sys.exit("transaction %s failed: %s" % (msg.get("id"), json.dumps(msg)))
            inflight.discard(msg["id"])
            out.write("%d\n" % msg["id"])
            out.flush()
            acked += 1
    except (BrokenPipeError, ConnectionResetError):
        pass
    print("acked %d (sent %d)" % (acked, n - first))

def check(path, ackfiles):
    sock = connect(path)
    req = {"id": 0, "method": "transact",
           "params": ["Kill", {"op": "select", "table": "Seq", "where": [], "columns": ["n"]}]}
    sock.sendall(json.dumps(req).encode())
    msg = Reader(sock).next()
    rows = msg["result"][0]["rows"]
    have = {row["n"] for row in rows}
    acked = set()
    for f in ackfiles:
        acked |= {int(line) for line in open(f)}
    missing = sorted(acked - have)
    if missing:
        sys.exit("%d acknowledged rows lost, e.g. %s" % (len(missing), missing[:10]))
    print("%d rows, all %d acknowledged present" % (len(have), len(acked)))

if sys.argv[1] == "load":
    load(sys.argv[2], int(sys.argv[3]), sys.argv[4])
else:
    check(sys.argv[2], sys.argv[3:])
EOF

start_db() { sl_log "starting the server: $1"; sl_sluice_ovsdb_server "$DB" "$SOCK"; }

ACKS=()
start=$(date +%s)
for round in $(seq "$ROUNDS"); do
  start_db "round $round"
  ack=$SL_TMP/acked.$round
  : > "$ack"
  ACKS+=("$ack")
  # Every acknowledged row of every earlier round survived the previous kill.
  python3 "$SL_TMP/client.py" check "$SOCK" "${ACKS[@]}" > "$SL_TMP/check" ||
    fail "round $round: $(cat "$SL_TMP/check")"
  python3 "$SL_TMP/client.py" load "$SOCK" $((round * 1000000)) "$ack" > "$SL_TMP/load" &
  client=$!
  sl_wait_for test -e "$ack.ready" || fail "round $round: client did not start: $(cat "$SL_TMP/load")"
  sleep "0.$(printf '%03d' $((RANDOM % 301)))"
  kill -9 "$SL_PID"
  wait "$SL_PID" 2>/dev/null || true
  SL_PID=""
  wait "$client" || fail "round $round: client failed: $(cat "$SL_TMP/load")"
  sl_log "round $round: $(cat "$SL_TMP/load")"
  if [ "$round" -ge "$MIN_ROUNDS" ] && [ $(($(date +%s) - start)) -ge "$BUDGET" ]; then
    sl_log "time budget of $BUDGET s spent after $round rounds"
    break
  fi
done
start_db "final"
python3 "$SL_TMP/client.py" check "$SOCK" "${ACKS[@]}" > "$SL_TMP/check" ||
  fail "after the last kill: $(cat "$SL_TMP/check")"
sl_log "$(cat "$SL_TMP/check") after $round kills ($(($(date +%s) - start)) s)"
echo PASS
