#!/usr/bin/env bash
# The real datapath (PMD, EMC, megaflow classifier, actions) driven through dummy ports:
# packets injected with netdev-dummy/receive, outputs read back with netdev-dummy/dump-tx.
# Also covers the unixctl basics (version, list-commands, vlog/*, errors) with both
# sluice-appctl and Debian's ovs-appctl.
BIN=$1
source "$(dirname "$0")/lib.bash"
PKT="python3 $(dirname "$0")/pkt.py"
sl_start --pmd-cores 1

# --- unixctl basics
appctl version | grep -q "sluice-switchd (Sluice)" || fail "version"
appctl list-commands | grep -q "dpctl/add-flow" || fail "list-commands"
appctl vlog/list | grep -q dpif_netdev || fail "vlog/list"
appctl vlog/set dpif_netdev:dbg || fail "vlog/set"
appctl vlog/list | grep dpif_netdev | grep -q debug || fail "vlog/set did not take"
appctl vlog/set ANY:info
if appctl no/such-command 2>"$SL_TMP/err"; then fail "unknown command succeeded"; fi
grep -q "is not a valid command" "$SL_TMP/err" || fail "unknown command message"
if appctl dpctl/add-flow 2>/dev/null; then fail "missing args accepted"; fi
if command -v ovs-appctl >/dev/null; then
  ovs-appctl -t "$SL_RUNDIR/sluice-switchd.ctl" list-commands | grep -q dpctl/show || fail "ovs-appctl list-commands"
  ovs-appctl -t "$SL_RUNDIR/sluice-switchd.ctl" vlog/set dpif_netdev:warn || fail "ovs-appctl vlog/set"
fi

# --- ports
appctl dpctl/add-if p1,type=dummy || fail "add p1"
appctl dpctl/add-if p2,type=dummy,pcap="$SL_TMP/p2.pcap" || fail "add p2"
appctl dpctl/add-if p3,type=dummy,port_no=7 || fail "add p3"
if appctl dpctl/add-if p1,type=dummy 2>/dev/null; then fail "duplicate port accepted"; fi
if appctl dpctl/add-if bad0,type=frobnicate 2>"$SL_TMP/err"; then fail "bad type accepted"; fi
grep -q "unsupported port type" "$SL_TMP/err" || fail "bad type message: $(cat $SL_TMP/err)"
appctl dpctl/show | tee "$SL_TMP/show"
grep -q "port 1: p1 (dummy)" "$SL_TMP/show" || fail "show p1"
grep -q "port 7: p3 (dummy)" "$SL_TMP/show" || fail "show p3 with requested number"

# --- flows: a /24 prefix to p2, one exact host to p3 with a rewrite and a VLAN push
appctl dpctl/add-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.1.0.0/255.255.255.0,frag=no)" 2
appctl dpctl/add-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.2.0.9,frag=no)" \
  "set(ipv4(dst=10.3.0.9)),push_vlan(vid=100,pcp=0),7"
if appctl dpctl/add-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.2.0.9,frag=no)" 2 2>/dev/null; then
  fail "duplicate flow accepted"
fi
if appctl dpctl/add-flow "in_port(1),ipv4(sorce=1.2.3.4)" 2 2>"$SL_TMP/err"; then fail "bad flow accepted"; fi
[ -s "$SL_TMP/err" ] || fail "no message for a bad flow"
if appctl dpctl/add-flow "in_port(1)" "frobnicate" 2>/dev/null; then fail "bad action accepted"; fi

for i in $(seq 1 20); do
  appctl netdev-dummy/receive p1 "$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.1.0.$i 1000 2000)"
done
appctl netdev-dummy/receive p1 "$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.2.0.9 1000 2000)"
appctl netdev-dummy/receive p1 "$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.9.9.9 1000 2000)"
sl_wait_for sl_output_is 22 sl_pmd_stat "packets received" || fail "packets not received"
sl_wait_for sl_output_is 20 sl_tx_packets p2 || fail "p2 sent $(sl_tx_packets p2), expected 20"
sl_wait_for sl_output_is 1 sl_tx_packets p3 || fail "p3 sent $(sl_tx_packets p3), expected 1"
n2=$(appctl netdev-dummy/dump-tx p2 | grep -c . || true)
[ "$n2" -eq 20 ] || fail "p2 got $n2 packets, expected 20"
out3=$(appctl netdev-dummy/dump-tx p3)
want=$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.3.0.9 1000 2000 18 100)
[ "$out3" = "$want" ] || fail "rewritten packet differs:\n got  $out3\n want $want"
[ -s "$SL_TMP/p2.pcap" ] || fail "pcap not written"

appctl dpctl/dump-flows | tee "$SL_TMP/flows"
grep -q "ipv4(dst=10.1.0.0/255.255.255.0,frag=no), packets:20, bytes:1200" "$SL_TMP/flows" || fail "prefix flow counters"
grep -q "actions:set(ipv4(dst=10.3.0.9)),push_vlan(vid=100,pcp=0),7" "$SL_TMP/flows" || fail "action formatting"
[ "$(sl_pmd_stat misses)" -eq 1 ] || fail "expected exactly one miss"
[ "$(sl_pmd_stat 'packets received')" -eq 22 ] || fail "expected 22 packets received"

# mod-flow changes actions in place; del-flow removes one; filters work.
appctl dpctl/mod-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.1.0.0/255.255.255.0,frag=no)" 7
appctl netdev-dummy/receive p1 "$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.1.0.77 1 2)"
sl_wait_for sl_output_is 2 sl_tx_packets p3 || fail "mod-flow did not redirect"
[ "$(appctl netdev-dummy/dump-tx p3 | grep -c .)" -eq 1 ] || fail "mod-flow: p3 frames"
appctl dpctl/dump-flows "ipv4(dst=10.2.0.9)" | grep -c actions | grep -qx 1 || fail "dump filter"
appctl dpctl/del-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.2.0.9,frag=no)"
if appctl dpctl/del-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.2.0.9,frag=no)" 2>/dev/null; then
  fail "deleting a missing flow succeeded"
fi
[ "$(appctl dpctl/dump-flows | grep -c actions)" -eq 1 ] || fail "del-flow"

# The warpable clock: "used" follows time/stop and time/warp.
appctl time/stop
appctl netdev-dummy/receive p1 "$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.1.0.78 1 2)"
sl_wait_for sl_output_has "used:0.000s" appctl dpctl/dump-flows ||
  fail "stopped clock: $(appctl dpctl/dump-flows)"
appctl time/warp 5000 >/dev/null
appctl dpctl/dump-flows | grep -q "used:5.000s" || fail "warped clock: $(appctl dpctl/dump-flows)"

# Ports can go while the datapath runs; flows to them drop and count.
appctl dpctl/del-if p3
appctl netdev-dummy/receive p1 "$($PKT udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.1.0.5 1 2)"
sl_wait_for sl_output_has "dropped by actions: [1-9]" appctl dpif-netdev/pmd-stats-show ||
  fail "drop not counted"
appctl dpif-netdev/pmd-stats-clear
[ "$(sl_pmd_stat 'packets received')" -eq 0 ] || fail "pmd-stats-clear"

sl_exit_switchd
echo PASS
