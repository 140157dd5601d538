#!/usr/bin/env bash
# Incremental reconfiguration: 100 add-port/del-port cycles on a bridge while two other hosts
# ping each other through it; not one ping is lost, and the hosts' ports keep their ofports.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-vsctl openvswitch-switch
S=$(($$ % 100000))
BR=kb$S V1=kv1$S V2=kv2$S H1=kh1$S H2=kh2$S
CYCLES=${CYCLES:-100}
sl_start
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
sl_host "$H1" "$V1" 10.79.0.1/24
sl_host "$H2" "$V2" 10.79.0.2/24
$V add-br "$BR" -- add-port "$BR" "$V1" -- add-port "$BR" "$V2" || fail "setup"
OF1=$($V get Interface "$V1" ofport) OF2=$($V get Interface "$V2" ofport)
sl_ping_ready "$H1" 10.79.0.2
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 10.79.0.2 >/dev/null || fail "initial ping"

# Ping every 50 ms for as long as the churn takes.
sl_ping_start "$H1" 10.79.0.2
for i in $(seq "$CYCLES"); do
  if [ $((i % 2)) -eq 0 ]; then
    $V add-port "$BR" kc$S -- set Interface kc$S type=internal || fail "add-port cycle $i"
  else
    $V add-port "$BR" kc$S -- set Interface kc$S type=dummy || fail "add-port cycle $i"
  fi
  [ "$($V get Interface kc$S ofport)" -ge 1 ] || fail "cycle $i: ofport $($V get Interface kc$S ofport)"
  appctl dpctl/show | grep -q " kc$S " || fail "cycle $i: no datapath port"
  $V del-port "$BR" kc$S || fail "del-port cycle $i"
done
sl_ping_stop
sl_log "$SL_PING_SENT pings during the churn, $SL_PING_LOST lost"
[ "$SL_PING_SENT" -gt 0 ] && [ "$SL_PING_LOST" -eq 0 ] || fail "pings lost during churn"
appctl dpctl/show | grep -q " kc$S " && fail "churn port left in the datapath"
[ "$($V get Interface "$V1" ofport)" = "$OF1" ] || fail "ofport of $V1 changed"
[ "$($V get Interface "$V2" ofport)" = "$OF2" ] || fail "ofport of $V2 changed"
echo PASS
