#!/usr/bin/env bash
# Bridge fail_mode with a controller that is not there (ovs-vsctl on switchd's database): a
# standalone bridge created with a controller has no flows and forwards nothing at first, then
# fails open after three inactivity probe intervals and switches pings between two namespace
# hosts as a learning switch (no flow is shown for it); a secure bridge never does; when the
# controller comes up the bridge leaves fail-open and is back to its (empty) flow table.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-vsctl openvswitch-switch
S=$(($$ % 100000))
BR=fo$S V1=fv1$S V2=fv2$S H1=fh1$S H2=fh2$S
PORT=$(sl_tcp_port)
sl_start
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
O="ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"
sl_host "$H1" "$V1" 10.79.0.1/24
sl_host "$H2" "$V2" 10.79.0.2/24
ping_ok() { ip netns exec "$H1" ping -c 1 -W 1 10.79.0.2 >/dev/null 2>&1; }

# A controller on a port nothing listens on, probed every 2 s: fail-open after 6 s.
$V -- --id=@c create Controller target=\"tcp:127.0.0.1:$PORT\" inactivity_probe=2000 \
  max_backoff=1000 -- add-br "$BR" -- set Bridge "$BR" controller=@c fail_mode=standalone \
  -- add-port "$BR" "$V1" -- add-port "$BR" "$V2" || fail "add-br with a controller"
T0=$(date +%s)
[ -z "$($O --no-stats dump-flows "unix:$SL_RUNDIR/$BR.mgmt")" ] || fail "flows on a bridge with a controller"
if ping_ok; then fail "forwarded before failing open"; fi
sl_wait_for ping_ok || fail "standalone bridge did not fail open"
T1=$(date +%s)
[ $((T1 - T0)) -ge 4 ] || fail "failed open after $((T1 - T0)) s, expected about 6"
sl_log "failed open after $((T1 - T0)) s"
sl_wait_for sl_log_has "$BR: could not connect to a controller for .* ms, failing open" ||
  fail "no fail-open log line"
# The fail-open behaviour is not an OpenFlow flow.
[ -z "$($O --no-stats dump-flows "unix:$SL_RUNDIR/$BR.mgmt")" ] || fail "fail-open flow is visible"
ip netns exec "$H2" ping -c 3 -i 0.2 -W 2 10.79.0.1 >/dev/null || fail "ping back while failed open"

# Secure: traffic stops (the megaflows are revalidated) and never resumes, not even after well
# over the three probe intervals after which a standalone bridge fails open.
$V set Bridge "$BR" fail_mode=secure || fail "set secure"
sl_wait_for sl_not ping_ok || fail "secure bridge forwards"
sleep 7
if ping_ok; then fail "secure bridge failed open"; fi
$V set Bridge "$BR" fail_mode=standalone || fail "set standalone"
sl_wait_for ping_ok || fail "standalone again: not failed open"

# The controller comes up (answers HELLO and echo): the bridge stops failing open.
sl_bg python3 "$(dirname "$0")/stub_controller.py" "$PORT" 60 "$SL_TMP/ctrl.ready"
sl_wait_for test -e "$SL_TMP/ctrl.ready" || fail "stub controller did not start"
sl_wait_for sl_output_has true $V --columns=is_connected find Controller target=\"tcp:127.0.0.1:$PORT\" ||
  fail "controller not connected: $($V list Controller)"
sl_wait_for sl_log_has "$BR: no longer in fail-open mode" || fail "did not leave fail-open"
sl_wait_for sl_not ping_ok || fail "forwarding with a connected controller and no flows"
sl_stop "$SL_BG"
$V del-br "$BR" || fail "del-br"
echo PASS
