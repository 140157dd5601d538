#!/usr/bin/env bash
# Slow and greedy peers against switchd's OVSDB (a ptcp: remote) and OpenFlow (a ptcp:
# controller target), all at once (greedy_peers.py): clients that never read, an endless
# message, a trickled one, and 2000 + 2000 connections opened at once holding partial messages.
# Memory stays bounded, sluice-vsctl and ovs-ofctl keep being answered, and every offender is
# dropped with a log line saying why.
BIN=$1
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
S=$$
DB_PORT=$((20000 + S % 20000)); OF_PORT=$((DB_PORT + 1))
sl_start --remote "ptcp:$DB_PORT:127.0.0.1"
appctl ofproto/add-br br0 000000000000000e || fail "add-br"
appctl ofproto/set-controller br0 "ptcp:$OF_PORT:127.0.0.1" || fail "set-controller"
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$OF_PORT") 2>/dev/null && break; sleep 0.1; done
export OVS_RUNDIR=$SL_TMP
GOOD1="$BIN/sluice-vsctl --timeout=10 --db=tcp:127.0.0.1:$DB_PORT show"
GOOD2="ovs-ofctl -O OpenFlow13 -t 10 show unix:$SL_RUNDIR/br0.mgmt"
out=$(python3 "$(dirname "$0")/greedy_peers.py" "$SL_PID" "$DB_PORT" "$OF_PORT" 2000 24 \
  "$GOOD1 >/dev/null" "$GOOD2 >/dev/null") || fail "greedy_peers.py failed"
sl_log "$out"
val() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$1'])" "$out"; }
[ "$(val crowd_open)" -eq 4000 ] || fail "not every connection was accepted: $(val crowd_open)"
[ "$(val good_runs)" -ge 6 ] || fail "good clients ran $(val good_runs) times"
[ "$(val good_failures)" -eq 0 ] || fail "good clients failed $(val good_failures) times"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 10 else 1)" "$(val good_max_s)" ||
  fail "a good client waited $(val good_max_s) s"
growth=$(( ($(val rss_max_kib) - $(val rss_base_kib)) / 1024 ))
sl_log "switchd memory grew by $growth MiB at most"
# The endless message may reach 64 MiB before it is refused; 4000 connections cost some more.
[ "$growth" -lt 400 ] || fail "memory grew by $growth MiB"
for who in ovsdb_nonreader of_nonreader ovsdb_endless of_trickler; do
  [ "$(val ${who}_dropped)" = True ] || fail "$who was not dropped"
done
L=$SL_TMP/switchd.log
sl_log "why peers were dropped: $(grep -oE ': [a-z ]+[^|]*, (closing|disconnecting)' "$L" |
  sed -E 's/[0-9.]+/N/g; s/tcp:N:N//' | sort | uniq -c | tr '\n' ';')"
for who in ovsdb_nonreader of_nonreader; do
  grep ":$(val ${who}_port):" "$L" >&2 || true
done
grep -q "peer is not reading" "$L" || fail "no log line for a peer that does not read"
grep -q "message exceeds 67108864 bytes" "$L" || fail "no log line for the endless message"
grep -q "message still incomplete after 15 s" "$L" || fail "no log line for the trickled message"
[ "$(grep -c "no response to inactivity probe" "$L")" -lt 200 ] || fail "drops of the crowd flood the log"
echo PASS
