#!/usr/bin/env bash
# Bridge fail_mode with a controller that is not there (ovs-vsctl on switchd's database): a
# standalone bridge created with a controller has no flows and forwards nothing at first, then
# fails open after three inactivity probe intervals and switches pings between two namespace
# hosts as a learning switch (no flow is shown for it); a secure bridge never does; when the
# controller comes up the bridge leaves fail-open and is back to its (empty) flow table.
BIN=$1
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v ovs-vsctl >/dev/null || { echo "openvswitch-switch not installed"; exit 77; }
S=$(($$ % 100000))
BR=fo$S V1=fv1$S V2=fv2$S H1=fh1$S H2=fh2$S
PORT=$((20000 + S % 20000))
sl_start
V="ovs-vsctl --timeout=20 --db=unix:$SL_RUNDIR/db.sock"
O="ovs-ofctl -O OpenFlow13 --timeout=10"
sl_host "$H1" "$V1" 10.79.0.1/24
sl_host "$H2" "$V2" 10.79.0.2/24
ping_ok() { ip netns exec "$H1" ping -c 1 -W 1 10.79.0.2 >/dev/null 2>&1; }
# Waits (up to 5 s) for a line in switchd's log, which is written asynchronously.
wait_log() {
  for _ in $(seq 50); do grep -q "$1" "$SL_TMP/switchd.log" && return 0; sleep 0.1; done
  return 1
}

# A controller on a port nothing listens on, probed every 2 s: fail-open after 6 s.
$V -- --id=@c create Controller target=\"tcp:127.0.0.1:$PORT\" inactivity_probe=2000 \
  max_backoff=1000 -- add-br "$BR" -- set Bridge "$BR" controller=@c fail_mode=standalone \
  -- add-port "$BR" "$V1" -- add-port "$BR" "$V2" || fail "add-br with a controller"
T0=$(date +%s)
[ -z "$($O --no-stats dump-flows "unix:$SL_RUNDIR/$BR.mgmt")" ] || fail "flows on a bridge with a controller"
if ping_ok; then fail "forwarded before failing open"; fi
ok=0
for _ in $(seq 30); do if ping_ok; then ok=1; break; fi; sleep 0.5; done
[ $ok = 1 ] || fail "standalone bridge did not fail open"
T1=$(date +%s)
[ $((T1 - T0)) -ge 4 ] || fail "failed open after $((T1 - T0)) s, expected about 6"
sl_log "failed open after $((T1 - T0)) s"
wait_log "$BR: could not connect to a controller for .* ms, failing open" ||
  fail "no fail-open log line"
# The fail-open behaviour is not an OpenFlow flow.
[ -z "$($O --no-stats dump-flows "unix:$SL_RUNDIR/$BR.mgmt")" ] || fail "fail-open flow is visible"
ip netns exec "$H2" ping -c 3 -i 0.2 -W 2 10.79.0.1 >/dev/null || fail "ping back while failed open"

# Secure: traffic stops at once (the megaflows are revalidated) and never resumes.
$V set Bridge "$BR" fail_mode=secure || fail "set secure"
sleep 0.5
if ping_ok; then fail "secure bridge forwards"; fi
sleep 7
if ping_ok; then fail "secure bridge failed open"; fi
$V set Bridge "$BR" fail_mode=standalone || fail "set standalone"
ok=0
for _ in $(seq 10); do if ping_ok; then ok=1; break; fi; sleep 0.5; done
[ $ok = 1 ] || fail "standalone again: not failed open"

# The controller comes up (answers HELLO and echo): the bridge stops failing open.
python3 "$(dirname "$0")/stub_controller.py" "$PORT" 20 &
CTRL=$!
for _ in $(seq 100); do
  $V --columns=is_connected find Controller target=\"tcp:127.0.0.1:$PORT\" | grep -q true && break
  sleep 0.1
done
wait_log "$BR: no longer in fail-open mode" || fail "did not leave fail-open"
sleep 0.3
if ping_ok; then fail "forwarding with a connected controller and no flows"; fi
kill $CTRL 2>/dev/null || true
wait $CTRL 2>/dev/null || true
$V del-br "$BR" || fail "del-br"
echo PASS
