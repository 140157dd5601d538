#!/usr/bin/env bash
# Drop-in proof: Debian's real ovs-vswitchd (userspace datapath) runs against
# sluice-ovsdb-server with the upstream schema; ovs-vsctl add-br/add-port wait for cur_cfg and
# ofport comes back through the database.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-vswitchd openvswitch-switch
S=$$
BR=ibr$S P1=ip$S
SL_LINKS+=("$BR" "$P1")
DB=$SL_TMP/conf.db SOCK=$SL_TMP/db.sock
"$BIN/sluice-ovsdb-tool" create "$DB" /usr/share/openvswitch/vswitch.ovsschema
sl_sluice_ovsdb_server "$DB" "$SOCK"
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SOCK"
$V --no-wait init || fail "init"
sl_ovs_vswitchd "$SOCK"
# Without --no-wait, ovs-vsctl returns only once ovs-vswitchd has applied the change.
$V add-br "$BR" -- set Bridge "$BR" datapath_type=netdev || fail "add-br (waits for cur_cfg)"
$V add-port "$BR" "$P1" -- set Interface "$P1" type=internal ofport_request=5 || fail "add-port"
[ "$($V get Interface "$P1" ofport)" = 5 ] || fail "ofport not reported: $($V get Interface $P1 ofport)"
[ "$($V get Interface "$BR" ofport)" = 65534 ] || fail "bridge port ofport"
[ "$($V get Open_vSwitch . cur_cfg)" = "$($V get Open_vSwitch . next_cfg)" ] || fail "cur_cfg"
# sluice-ofctl against the real Open vSwitch prints what Debian's ovs-ofctl prints (its table
# features advertise NXM and experimenter fields, reg0...reg15 and friends).
M=unix:$SL_OVS_DIR/$BR.mgmt
diff <(ovs-ofctl -O OpenFlow13 dump-table-features "$M") <("$BIN/sluice-ofctl" dump-table-features "$M") ||
  fail "dump-table-features against ovs-vswitchd"
diff <(ovs-ofctl -O OpenFlow13 --names --no-stats dump-flows "$M") \
  <("$BIN/sluice-ofctl" --names --no-stats dump-flows "$M") || fail "dump-flows --names against ovs-vswitchd"
$V del-port "$BR" "$P1" || fail "del-port"
$V del-br "$BR" || fail "del-br"
grep -q "added interface $P1 on port 5" "$SL_OVS_DIR/vswitchd.log" || fail "vswitchd log"
echo PASS
