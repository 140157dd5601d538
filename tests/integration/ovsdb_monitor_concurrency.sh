#!/usr/bin/env bash
# Monitors of sluice-ovsdb-server stay right under concurrent writers: four ovs-vsctl loops
# add ports (and delete every third one) at once while three ovsdb-client monitors watch
# Interface; one monitor is stopped (SIGSTOP) for 3 s meanwhile, so it falls behind and gets
# merged updates. Each monitor's replayed view must equal the table at the end, and the stopped
# one must have got fewer updates than a live one.
BIN=$1
source "$(dirname "$0")/lib.bash"
command -v ovs-vsctl >/dev/null || { echo "openvswitch-common not installed"; exit 77; }
SOCK=$SL_TMP/db.sock
"$BIN/sluice-ovsdb-tool" create "$SL_TMP/conf.db" /usr/share/openvswitch/vswitch.ovsschema ||
  fail "ovsdb-tool create"
sl_sluice_ovsdb_server "$SL_TMP/conf.db" "$SOCK"
V="ovs-vsctl --timeout=30 --db=unix:$SOCK --no-wait"
$V init -- add-br br0 || fail "add-br"

MON=()
for m in 1 2 3; do
  sl_bg ovsdb-client monitor "unix:$SOCK" Open_vSwitch Interface name --format=json \
    >"$SL_TMP/mon$m.out" 2>"$SL_TMP/mon$m.err"
  MON+=("$SL_BG")
done
for m in 1 2 3; do  # the initial contents (br0's interface) are there once it monitors
  sl_wait_for grep -q br0 "$SL_TMP/mon$m.out" || fail "monitor $m: $(cat "$SL_TMP/mon$m.err")"
done
WRITERS=()
for w in 1 2 3 4; do
  (for i in $(seq 60); do
    $V add-port br0 "p$w-$i" -- set Interface "p$w-$i" "external_ids:k=$i" || exit 1
    if [ $((i % 3)) = 0 ]; then $V del-port br0 "p$w-$((i - 1))" || exit 1; fi
  done) >"$SL_TMP/w$w.out" 2>&1 &
  WRITERS+=($!)
done
sleep 1
kill -STOP "${MON[1]}"
sleep 3
kill -CONT "${MON[1]}"
for w in "${!WRITERS[@]}"; do
  wait "${WRITERS[$w]}" || fail "writer $((w + 1)): $(cat "$SL_TMP/w$((w + 1)).out")"
done
$V --columns=name --format=csv --no-headings list Interface >"$SL_TMP/final" || fail "list"
# 1 (br0) + 4 x 60 added - 4 x 20 deleted.
[ "$(wc -l <"$SL_TMP/final")" = 161 ] || fail "$(wc -l <"$SL_TMP/final") interfaces, expected 161"
cat >"$SL_TMP/check.py" <<'PY'
import json, sys
tmp = sys.argv[1]
final = {l.strip().strip('"') for l in open(f"{tmp}/final") if l.strip()}
counts = []
for m in (1, 2, 3):
    rows, n = {}, 0
    for line in open(f"{tmp}/mon{m}.out"):
        if not line.strip():
            continue
        u = json.loads(line)
        n += 1
        for d in u["data"]:
            r = dict(zip(u["headings"], d))
            if r["action"] in ("initial", "insert", "new"):
                rows[r["row"]] = r["name"]
            elif r["action"] == "delete":
                rows.pop(r["row"], None)
    names = set(rows.values())
    print(f"monitor {m}: {n} updates, {len(names)} interfaces", file=sys.stderr)
    if names != final:
        sys.exit(f"monitor {m}: missing {sorted(final - names)[:5]}, extra {sorted(names - final)[:5]}")
    counts.append(n)
if counts[1] >= min(counts[0], counts[2]):
    sys.exit(f"the stopped monitor got {counts[1]} updates, no fewer than the others {counts}")
PY
# The monitors may still be reading the last updates.
sl_wait_for -t 30 python3 "$SL_TMP/check.py" "$SL_TMP" 2>"$SL_TMP/check.out" ||
  fail "monitor views differ from the table: $(cat "$SL_TMP/check.out")"
cat "$SL_TMP/check.out" >&2
echo PASS
