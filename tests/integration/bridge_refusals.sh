#!/usr/bin/env bash
# What the bridge layer refuses, explicitly: a bond (add-bond: a port with several interfaces)
# and vlan_mode=dot1q-tunnel (no 802.1ad QinQ in the datapath). The interfaces get the reason in
# Interface.error and ofport -1 instead of forwarding with other semantics; fixing the row
# brings the port up.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_start
V="$BIN/sluice-vsctl --timeout=20 --db=unix:$SL_RUNDIR/db.sock"
S="$BIN/sluice-ofctl --rundir $SL_RUNDIR"
wait_for() {
  for _ in $(seq 100); do [ "$(eval "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
  fail "$1: expected '$2', got '$(eval "$1" 2>&1)'"
}
$V add-br br0 || fail "add-br"
$V add-bond br0 bond0 d1 d2 -- set Interface d1 type=dummy -- set Interface d2 type=dummy ||
  fail "add-bond"
for i in d1 d2; do
  wait_for "$V get Interface $i error" '"port bond0 has 2 interfaces: bonds are not supported"'
  [ "$($V get Interface $i ofport)" = -1 ] || fail "$i ofport: $($V get Interface $i ofport)"
done
$V add-port br0 q1 tag=9 vlan_mode=dot1q-tunnel -- set Interface q1 type=dummy || fail "add-port q1"
wait_for "$V get Interface q1 error" \
  '"port q1: vlan_mode dot1q-tunnel is not supported (no 802.1ad QinQ in this datapath)"'
[ "$($V get Interface q1 ofport)" = -1 ] || fail "q1 ofport"
$S show br0 | grep -q "(q1)" && fail "a refused port reached OpenFlow"
# An access port is fine.
$V set Port q1 vlan_mode=access || fail "set vlan_mode"
wait_for "$V get Interface q1 error" "[]"
[ "$($V get Interface q1 ofport)" -ge 1 ] || fail "q1 ofport after the fix"
$S show br0 | grep -q "(q1)" || fail "q1 not on the bridge"
# One interface left in the bond: a plain port.
$V del-port br0 bond0
$V add-port br0 d1 -- set Interface d1 type=dummy
wait_for "$V get Interface d1 error" "[]"
[ "$($V get Interface d1 ofport)" -ge 1 ] || fail "d1 ofport"
$V del-br br0
echo PASS
