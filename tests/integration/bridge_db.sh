#!/usr/bin/env bash
# The bridge layer, driven by Debian's ovs-vsctl on switchd's embedded database: add-br and
# add-port return once switchd has applied them (cur_cfg), ofport comes back and ovs-ofctl sees
# the ports; two namespace hosts ping through the bridge (NORMAL); a bogus interface type gets
# ofport -1 and an error while the rest of the bridge keeps working; the bridge's LOCAL port is
# a kernel interface reachable from a host; two bridges joined by a patch-port pair; VLAN tags;
# removal of a kernel device; del-port / del-br.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-vsctl openvswitch-switch
S=$(($$ % 100000))
BR=sb$S BR1=sc$S V1=sv1$S V2=sv2$S V3=sv3$S
H1=sh1$S H2=sh2$S H3=sh3$S
sl_start
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
O="ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"
sl_host "$H1" "$V1" 10.77.0.1/24
sl_host "$H2" "$V2" 10.77.0.2/24
sl_host "$H3" "$V3" 10.77.0.3/24

# (a) add-br / add-port without --no-wait: they return because cur_cfg advances.
$V add-br "$BR" || fail "add-br"
$V add-port "$BR" "$V1" || fail "add-port $V1"
$V add-port "$BR" "$V2" -- set Interface "$V2" ofport_request=7 || fail "add-port $V2"
[ "$($V get Open_vSwitch . cur_cfg)" = "$($V get Open_vSwitch . next_cfg)" ] || fail "cur_cfg"
OF1=$($V get Interface "$V1" ofport)
[ "$OF1" -ge 1 ] || fail "ofport of $V1: $OF1"
[ "$($V get Interface "$V2" ofport)" = 7 ] || fail "ofport_request not honoured"
[ "$($V get Interface "$BR" ofport)" = 65534 ] || fail "LOCAL ofport"
$V get Bridge "$BR" datapath_id | grep -Eq '^"?[0-9a-f]{16}"?$' || fail "datapath_id"
[ "$($V get Interface "$V1" link_state)" = up ] || fail "link_state"
[ "$($V get Interface "$V1" ifindex)" = "$(cat /sys/class/net/$V1/ifindex)" ] || fail "ifindex"
$V get Open_vSwitch . iface_types | grep -q internal || fail "iface_types"
$V get Open_vSwitch . datapath_types | grep -q netdev || fail "datapath_types"
$O show "unix:$SL_RUNDIR/$BR.mgmt" | tee "$SL_TMP/show"
grep -q " $OF1($V1)" "$SL_TMP/show" || fail "ovs-ofctl show lacks $V1"
grep -q " 7($V2)" "$SL_TMP/show" || fail "ovs-ofctl show lacks $V2"
grep -q "LOCAL($BR)" "$SL_TMP/show" || fail "ovs-ofctl show lacks LOCAL"
ip link show "$BR" >/dev/null || fail "no kernel interface for the LOCAL port"

# (b) two hosts on the bridge ping each other (the standalone bridge's NORMAL flow).
sl_ping_ready "$H1" 10.77.0.2
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 10.77.0.2 || fail "ping $H1 -> $H2"

# (c) an interface of an unsupported type: ofport -1 and an error; the bridge keeps working.
$V add-port "$BR" bogus$S -- set Interface bogus$S type=bogus 2>"$SL_TMP/bogus.err" || true
[ "$($V get Interface bogus$S ofport)" = -1 ] || fail "bogus ofport: $($V get Interface bogus$S ofport)"
$V get Interface bogus$S error | grep -q "unsupported interface type 'bogus'" ||
  fail "bogus error: $($V get Interface bogus$S error)"
# A system interface whose device does not exist.
$V add-port "$BR" nodev$S 2>/dev/null || true
[ "$($V get Interface nodev$S ofport)" = -1 ] || fail "missing device ofport"
$V get Interface nodev$S error | grep -q "No such device" || fail "missing device error"
ip netns exec "$H1" ping -c 2 -i 0.2 -W 2 10.77.0.2 || fail "ping after bogus port"

# (d) the LOCAL port (internal) with an address, reachable from a host.
ip addr add 10.77.0.254/24 dev "$BR"
ip link set "$BR" up
sl_ping_ready "$H1" 10.77.0.254
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 10.77.0.254 || fail "ping the LOCAL port"
# Another internal port.
$V add-port "$BR" si$S -- set Interface si$S type=internal || fail "internal port"
ip link show si$S >/dev/null || fail "no kernel interface for internal port si$S"
[ "$($V get Interface si$S ofport)" -ge 1 ] || fail "internal ofport"

# (e) a second bridge joined by a patch-port pair.
$V add-br "$BR1" -- set Bridge "$BR1" other_config:datapath-id=00000000000000ab || fail "add-br 2"
[ "$($V get Bridge "$BR1" datapath_id)" = '"00000000000000ab"' ] || fail "explicit datapath-id"
$V add-port "$BR" pa$S -- set Interface pa$S type=patch options:peer=pb$S \
  -- add-port "$BR1" pb$S -- set Interface pb$S type=patch options:peer=pa$S || fail "patch pair"
[ "$($V get Interface pa$S ofport)" -ge 1 ] || fail "patch ofport: $($V get Interface pa$S error)"
[ "$($V get Interface pb$S ofport)" -ge 1 ] || fail "patch peer ofport"
$V add-port "$BR1" "$V3" || fail "add-port $V3"
$O show "unix:$SL_RUNDIR/$BR1.mgmt" | grep -q "(pb$S)" || fail "ovs-ofctl show lacks pb$S"
sl_ping_ready "$H3" 10.77.0.1
ip netns exec "$H3" ping -c 3 -i 0.2 -W 2 10.77.0.1 || fail "ping across the patch ports"
# A new datapath id recreates that bridge (and only it); the patch pair comes back.
$V set Bridge "$BR1" other_config:datapath-id=00000000000000ac || fail "set datapath-id"
[ "$($V get Bridge "$BR1" datapath_id)" = '"00000000000000ac"' ] || fail "datapath-id change"
$O show "unix:$SL_RUNDIR/$BR1.mgmt" | grep -q "dpid:00000000000000ac" || fail "ofctl dpid"
sl_ping_ready "$H3" 10.77.0.1
ip netns exec "$H3" ping -c 2 -i 0.2 -W 2 10.77.0.1 || fail "ping after bridge recreation"
# A patch port whose peer does not exist.
$V add-port "$BR1" pc$S -- set Interface pc$S type=patch options:peer=nothere 2>/dev/null || true
$V get Interface pc$S error | grep -q "does not exist" || fail "patch without peer"

# VLAN: H2 on an access port of VLAN 5 no longer reaches H1 (untagged), then again.
$V set Port "$V2" tag=5 || fail "set tag"
if ip netns exec "$H1" ping -c 2 -i 0.2 -W 1 10.77.0.2 >/dev/null; then
  fail "VLAN 5 access port still reachable from the native VLAN"
fi
$V set Port "$V1" tag=5 || fail "set tag"
sl_ping_ready "$H1" 10.77.0.2
ip netns exec "$H1" ping -c 2 -i 0.2 -W 2 10.77.0.2 || fail "ping within VLAN 5"
$V remove Port "$V1" tag 5 -- remove Port "$V2" tag 5 || fail "clear tags"

# A dpdk interface (any devargs; net_null with no-rx, as its rx would replay stale mbufs),
# and one without its devargs.
$V add-port "$BR" dn$S -- set Interface dn$S type=dpdk options:dpdk-devargs=net_null_b$S,no-rx=1 ||
  fail "dpdk port"
[ "$($V get Interface dn$S ofport)" -ge 1 ] || fail "dpdk ofport: $($V get Interface dn$S error)"
$V add-port "$BR" dx$S -- set Interface dx$S type=dpdk 2>/dev/null || true
$V get Interface dx$S error | grep -q "dpdk-devargs" || fail "dpdk without devargs"
$V del-port "$BR" dx$S

# Link state follows the kernel (rtnetlink): down, then up again.
ip link set "$V1" down
sl_wait_for sl_output_is down $V get Interface "$V1" link_state || fail "link_state did not follow"
[ "$($V get Interface "$V1" admin_state)" = down ] || fail "admin_state did not follow"
$O show "unix:$SL_RUNDIR/$BR.mgmt" | grep -A3 "($V1)" | grep -q LINK_DOWN || fail "port-desc LINK_DOWN"
ip link set "$V1" up
sl_wait_for sl_output_is up $V get Interface "$V1" link_state || fail "link_state did not come back"

# Manager rows become remotes of the embedded server, and go again.
MPORT=$(sl_tcp_port)
$V set-manager "ptcp:$MPORT:127.0.0.1" || fail "set-manager"
sl_wait_for sl_listening "$MPORT" || fail "manager remote does not listen"
ovsdb-client --timeout=$SL_CMD_TIMEOUT list-dbs "tcp:127.0.0.1:$MPORT" | grep -qx Open_vSwitch || fail "manager remote"
$V del-manager || fail "del-manager"
sl_wait_for sl_not sl_listening "$MPORT" || fail "manager remote kept"

# Statistics are refreshed every 5 s.
sl_wait_for sl_output_has "rx_packets=[1-9]" $V get Interface "$V1" statistics ||
  fail "statistics: $($V get Interface "$V1" statistics)"

# A kernel device that goes away: ofport -1 and an error; back when it comes back.
ip link del "$V3"
sl_wait_for sl_output_is -1 $V get Interface "$V3" ofport || fail "removed device still has an ofport"
ip link add "$V3" type veth peer name eth0 netns "$H3"
ip link set "$V3" up
ip -n "$H3" addr add 10.77.0.3/24 dev eth0
ip -n "$H3" link set eth0 up
sl_wait_for sl_output_has '^[1-9][0-9]*$' $V get Interface "$V3" ofport ||
  fail "re-created device not re-added: ofport $($V get Interface "$V3" ofport)"

# Removal: ports and bridges go, the others stay.
$V del-port "$BR" "$V2" || fail "del-port"
$O show "unix:$SL_RUNDIR/$BR.mgmt" | grep -q "($V2)" && fail "$V2 still on the bridge"
$V del-br "$BR1" || fail "del-br"
[ -S "$SL_RUNDIR/$BR1.mgmt" ] && fail "$BR1 management socket left behind"
ip link show "$BR1" >/dev/null 2>&1 && fail "$BR1 LOCAL port left behind"
sl_ping_ready "$H1" 10.77.0.254
ip netns exec "$H1" ping -c 2 -i 0.2 -W 2 10.77.0.254 || fail "ping LOCAL after deletions"
appctl bridge/show

# Restart on the same database: the same ports come back with the same OpenFlow numbers.
OF_SI=$($V get Interface si$S ofport)
sl_exit_switchd
sl_start
sl_wait_for test -S "$SL_RUNDIR/$BR.mgmt" || fail "$BR not back after the restart"
$V add-port "$BR" "$V2" || fail "add-port after restart"
[ "$($V get Interface "$V1" ofport)" = "$OF1" ] || fail "ofport of $V1 not kept across restart"
[ "$($V get Interface si$S ofport)" = "$OF_SI" ] || fail "ofport of si$S not kept across restart"
ip addr add 10.77.0.254/24 dev "$BR" && ip link set "$BR" up
sl_ping_ready "$H1" 10.77.0.2
ip netns exec "$H1" ping -c 2 -i 0.2 -W 2 10.77.0.2 || fail "ping after restart"
[ -n "${SL_KEEP_LOG:-}" ] && cp "$SL_TMP/switchd.log" "$SL_KEEP_LOG"
echo PASS
