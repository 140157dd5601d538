#!/usr/bin/env bash
# sluice-switchd driven by Debian's real ovsdb-server with the upstream schema
# (`sluice-switchd --db unix:...`): no embedded server is started, add-br/add-port wait for
# cur_cfg, ofport and the version columns come back, controllers report their status.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovsdb-server openvswitch-switch
S=$(($$ % 100000))
BR=xb$S V1=xv1$S V2=xv2$S H1=xh1$S H2=xh2$S
sl_ovsdb_server "$SL_TMP/db"
SOCK=$SL_TMP/db/db.sock
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SOCK"
$V --no-wait init || fail "init"
sl_start --db "unix:$SOCK"
[ -S "$SL_RUNDIR/db.sock" ] && fail "embedded server started despite --db"
sl_host "$H1" "$V1" 10.78.0.1/24
sl_host "$H2" "$V2" 10.78.0.2/24
$V add-br "$BR" || fail "add-br (waits for cur_cfg)"
$V add-port "$BR" "$V1" || fail "add-port"
$V add-port "$BR" "$V2" -- set Interface "$V2" ofport_request=9 || fail "add-port 2"
[ "$($V get Interface "$V1" ofport)" -ge 1 ] || fail "ofport"
[ "$($V get Interface "$V2" ofport)" = 9 ] || fail "ofport_request"
[ "$($V get Open_vSwitch . cur_cfg)" = "$($V get Open_vSwitch . next_cfg)" ] || fail "cur_cfg"
$V get Open_vSwitch . db_version | grep -q '8\.' || fail "db_version: $($V get Open_vSwitch . db_version)"
$V get Open_vSwitch . ovs_version | grep -q . || fail "ovs_version"
ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT show "unix:$SL_RUNDIR/$BR.mgmt" | grep -q "($V1)" ||
  fail "ovs-ofctl show"
sl_ping_ready "$H1" 10.78.0.2
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 10.78.0.2 || fail "ping through the bridge"

# A controller: it connects, and switchd reports it in the Controller row. The bridge is pointed
# at it only once it listens: a refused first dial would only add back-off to the wait.
CPORT=$(sl_tcp_port)
sl_bg python3 "$(dirname "$0")/stub_controller.py" "$CPORT" 60 "$SL_TMP/ctrl.ready"
sl_wait_for test -e "$SL_TMP/ctrl.ready" || fail "stub controller did not start"
$V set-controller "$BR" "tcp:127.0.0.1:$CPORT" || fail "set-controller"
sl_wait_for sl_output_is true $V --bare --columns=is_connected find Controller \
  target=\"tcp:127.0.0.1:$CPORT\" || fail "controller is_connected: $($V list Controller)"
$V del-controller "$BR"
$V del-port "$BR" "$V2" || fail "del-port"
$V del-br "$BR" || fail "del-br"
echo PASS
