#!/usr/bin/env bash
# Drop-in proof: Debian's real ovs-vswitchd (userspace datapath) runs against
# sluice-ovsdb-server with the upstream schema; ovs-vsctl add-br/add-port wait for cur_cfg and
# ofport comes back through the database.
BIN=$1
source "$(dirname "$0")/lib.bash"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v ovs-vswitchd >/dev/null || { echo "openvswitch-switch not installed"; exit 77; }
export OVS_RUNDIR=$SL_TMP OVS_LOGDIR=$SL_TMP OVS_DBDIR=$SL_TMP OVS_SYSCONFDIR=$SL_TMP
S=$$
BR=ibr$S P1=ip$S
SL_LINKS+=("$BR" "$P1")
DB=$SL_TMP/conf.db SOCK=$SL_TMP/db.sock
"$BIN/sluice-ovsdb-tool" create "$DB" /usr/share/openvswitch/vswitch.ovsschema
"$BIN/sluice-ovsdb-server" "$DB" --remote "punix:$SOCK" --rundir "$SL_TMP" \
  --log-file "$SL_TMP/switchd.log" >/dev/null 2>&1 &
SL_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
V="ovs-vsctl --timeout=20 --db=unix:$SOCK"
$V --no-wait init || fail "init"
ovs-vswitchd "unix:$SOCK" --pidfile="$SL_TMP/vswitchd.pid" --unixctl="$SL_TMP/vswitchd.ctl" \
  --log-file="$SL_TMP/vswitchd.log" -vconsole:off >/dev/null 2>&1 &
VSPID=$!
trap 'rc=$?; kill $VSPID 2>/dev/null || true; wait $VSPID 2>/dev/null || true; sl_cleanup $rc' EXIT
# Without --no-wait, ovs-vsctl returns only once ovs-vswitchd has applied the change.
$V add-br "$BR" -- set Bridge "$BR" datapath_type=netdev || fail "add-br (waits for cur_cfg)"
$V add-port "$BR" "$P1" -- set Interface "$P1" type=internal ofport_request=5 || fail "add-port"
[ "$($V get Interface "$P1" ofport)" = 5 ] || fail "ofport not reported: $($V get Interface $P1 ofport)"
[ "$($V get Interface "$BR" ofport)" = 65534 ] || fail "bridge port ofport"
[ "$($V get Open_vSwitch . cur_cfg)" = "$($V get Open_vSwitch . next_cfg)" ] || fail "cur_cfg"
# sluice-ofctl against the real Open vSwitch prints what Debian's ovs-ofctl prints (its table
# features advertise NXM and experimenter fields, reg0...reg15 and friends).
M=unix:$SL_TMP/$BR.mgmt
diff <(ovs-ofctl -O OpenFlow13 dump-table-features "$M") <("$BIN/sluice-ofctl" dump-table-features "$M") ||
  fail "dump-table-features against ovs-vswitchd"
diff <(ovs-ofctl -O OpenFlow13 --names --no-stats dump-flows "$M") \
  <("$BIN/sluice-ofctl" --names --no-stats dump-flows "$M") || fail "dump-flows --names against ovs-vswitchd"
$V del-port "$BR" "$P1" || fail "del-port"
$V del-br "$BR" || fail "del-br"
grep -q "added interface $P1 on port 5" "$SL_TMP/vswitchd.log" || fail "vswitchd log"
echo PASS
