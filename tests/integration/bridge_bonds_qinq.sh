#!/usr/bin/env bash
# Bonds are refused explicitly (add-bond: a port with several interfaces gets the reason in
# Interface.error and ofport -1; a single interface comes up). vlan_mode=dot1q-tunnel (802.1ad
# QinQ): frames from the tunnel port get an outer 0x88a8 tag over their own towards a trunk,
# and lose it again on the way back (ofproto/trace on the real daemon).
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_start
V="$BIN/sluice-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
S="$BIN/sluice-ofctl --rundir $SL_RUNDIR"
# wait_error IFACE ERROR: until the Interface row's error column reads ERROR.
wait_error() {
  sl_wait_for sl_output_is "$2" $V get Interface "$1" error ||
    fail "$1 error: expected '$2', got '$($V get Interface "$1" error 2>&1)'"
}
$V add-br br0 || fail "add-br"
$V add-bond br0 bond0 d1 d2 -- set Interface d1 type=dummy -- set Interface d2 type=dummy ||
  fail "add-bond"
for i in d1 d2; do
  wait_error $i '"port bond0 has 2 interfaces: bonds are not supported"'
  [ "$($V get Interface $i ofport)" = -1 ] || fail "$i ofport: $($V get Interface $i ofport)"
done
$V add-port br0 q1 tag=9 vlan_mode=dot1q-tunnel -- set Interface q1 type=dummy || fail "add-port q1"
$V add-port br0 t1 -- set Interface t1 type=dummy || fail "add-port t1"
wait_error q1 "[]"
Q=$($V get Interface q1 ofport); T=$($V get Interface t1 ofport)
[ "$Q" -ge 1 ] && [ "$T" -ge 1 ] || fail "ofports $Q $T"
$S show br0 | grep -q "($Q)\|(q1)" || fail "q1 not on the bridge"
PKT="$(dirname "$0")/pkt.py"
C5=$(python3 "$PKT" udp 00:00:00:00:00:01 ff:ff:ff:ff:ff:ff 10.0.0.1 10.0.0.255 1 2 18 5)
# Customer VLAN 5 in through the tunnel port: towards the trunks (t1, LOCAL) with the service tag.
appctl ofproto/trace br0 "in_port=$Q,$C5" >"$SL_TMP/trace"
grep -Eq "Datapath actions: pop_vlan,push_vlan\(vid=5,pcp=0\),push_vlan\(tpid=0x88a8,vid=9,pcp=0\),[0-9]+,[0-9]+$" \
  "$SL_TMP/trace" || fail "into the tunnel: $(cat "$SL_TMP/trace")"
# Service VLAN 9 over customer VLAN 5 from the trunk: the outer tag leaves towards q1.
S9C5=${C5:0:24}88a80009${C5:24}
appctl ofproto/trace br0 "in_port=$T,$S9C5" >"$SL_TMP/trace"
grep -Eq "Datapath actions: .*pop_vlan,push_vlan\(vid=5,pcp=0\),[0-9]+" "$SL_TMP/trace" ||
  fail "out of the tunnel: $(cat "$SL_TMP/trace")"
# cvlans limits the customer VLANs.
$V set Port q1 cvlans=7 || fail "cvlans"
sl_wait_for sl_output_has "Datapath actions: drop" appctl ofproto/trace br0 "in_port=$Q,$C5" ||
  fail "cvlans=7 let VLAN 5 in: $(appctl ofproto/trace br0 "in_port=$Q,$C5")"
# One interface left in the bond: a plain port.
$V del-port br0 bond0
$V add-port br0 d1 -- set Interface d1 type=dummy
wait_error d1 "[]"
[ "$($V get Interface d1 ofport)" -ge 1 ] || fail "d1 ofport"
$V del-br br0
echo PASS
