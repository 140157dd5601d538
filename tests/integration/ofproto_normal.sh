#!/usr/bin/env bash
# OpenFlow bridges forwarding real traffic through the datapath: a standalone bridge (default
# flow priority=0,actions=NORMAL) learns MACs and switches ping and an 8 MiB TCP transfer
# between namespaced hosts; fdb/show, ofproto/trace, dpctl megaflows and OpenFlow counters show
# it. Then VLAN access ports isolate hosts, a trunk carries tagged frames, and two bridges joined
# by a patch-port pair forward between them.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-ofctl openvswitch-common

S=$$
for i in 1 2 3 4; do sl_host "sl-n$i-$S" "n$i-$S" "10.0.0.$i/24"; done
sl_start
for i in 1 2 3 4; do appctl dpctl/add-if "n$i-$S" || fail "add-if n$i"; done
appctl ofproto/add-br br0 00000000000000b0 standalone || fail "add-br"
OF="ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"
MGMT=unix:$SL_RUNDIR/br0.mgmt
$OF dump-flows "$MGMT" | grep -q "priority=0 actions=NORMAL" || fail "default NORMAL flow missing"

ns() { ip netns exec "sl-n$1-$S" "${@:2}"; }
sl_ping_ready "sl-n1-$S" 10.0.0.2
ns 1 ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null || fail "ping 1->2 via NORMAL"
sl_ping_ready "sl-n3-$S" 10.0.0.4
ns 3 ping -c 3 -i 0.2 -W 2 10.0.0.4 >/dev/null || fail "ping 3->4 via NORMAL"

head -c 8388608 /dev/urandom > "$SL_TMP/blob"
sl_tcp_copy "sl-n1-$S" "sl-n2-$S" 10.0.0.2 5001 "$SL_TMP/blob"
sl_log "8 MiB TCP transfer through NORMAL verified"

MAC1=$(ns 1 cat /sys/class/net/eth0/address)
MAC2=$(ns 2 cat /sys/class/net/eth0/address)
appctl fdb/show br0 | tee "$SL_TMP/fdb"
grep -q "    1     0  $MAC1" "$SL_TMP/fdb" || fail "fdb lacks $MAC1 on port 1"
grep -q "    2     0  $MAC2" "$SL_TMP/fdb" || fail "fdb lacks $MAC2 on port 2"
# Megaflows from NORMAL match on in_port, MACs and VLAN, not on IP addresses or ports.
appctl dpctl/dump-flows > "$SL_TMP/dp"
grep -q "in_port(1),packet_type(ns=0,id=0),eth(src=$MAC1,dst=$MAC2)" "$SL_TMP/dp" || fail "no unicast megaflow: $(cat $SL_TMP/dp)"
if grep "in_port(1),packet_type(ns=0,id=0),eth(src=$MAC1,dst=$MAC2)" "$SL_TMP/dp" | grep -q "ipv4("; then
  fail "NORMAL megaflow matches on IPv4 fields"
fi
# As in Open vSwitch, an untagged megaflow shows no vlan()/encap().
if grep "in_port(1),packet_type(ns=0,id=0),eth(src=$MAC1,dst=$MAC2)" "$SL_TMP/dp" | grep -q "vlan("; then
  fail "untagged NORMAL megaflow printed with a VLAN: $(cat "$SL_TMP/dp")"
fi
# The datapath counters reach the OpenFlow rule (pushed at least once a second).
normal_packets() { $OF dump-flows "$MGMT" | sed -n 's/.*n_packets=\([0-9]*\).*actions=NORMAL/\1/p'; }
normal_counted() { local n; n=$(normal_packets); [ "${n:-0}" -gt 5000 ]; }
sl_wait_for normal_counted || fail "NORMAL rule counted only $(normal_packets) packets"
# Trace: a frame from host 1 to host 2's MAC goes to port 2 only.
PKT=$(python3 "$(dirname "$0")/pkt.py" udp "$MAC1" "$MAC2" 10.0.0.1 10.0.0.2 1 2)
appctl ofproto/trace br0 "in_port=1,$PKT" | tee "$SL_TMP/trace"
grep -q "Datapath actions: 2$" "$SL_TMP/trace" || fail "trace actions"
grep -q "NORMAL: learned destination" "$SL_TMP/trace" || fail "trace NORMAL step"
# The same in ovs-ofctl's flow syntax (port names, dl_src=, udp, ...): each table's rule with its
# actions, the megaflow and the datapath actions.
appctl ofproto/trace br0 "in_port=n1-$S,udp,dl_src=$MAC1,dl_dst=$MAC2,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=2" |
  tee "$SL_TMP/trace2"
grep -q "^Flow: udp,in_port=1,dl_src=$MAC1,dl_dst=$MAC2,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=2$" \
  "$SL_TMP/trace2" || fail "trace (flow syntax): Flow line"
grep -q "br0: table 0: priority 0$" "$SL_TMP/trace2" || fail "trace (flow syntax): rule"
grep -q "^ *NORMAL$" "$SL_TMP/trace2" || fail "trace (flow syntax): the rule's actions"
grep -q "^Megaflow: .*in_port(1).*eth(src=$MAC1,dst=$MAC2)" "$SL_TMP/trace2" || fail "trace (flow syntax): megaflow"
grep -q "Datapath actions: 2$" "$SL_TMP/trace2" || fail "trace (flow syntax): actions"
if appctl ofproto/trace br0 "in_port=99,tcp" 2>/dev/null; then fail "trace from a missing port"; fi
if appctl ofproto/trace br0 "tcp,nw_dst=10.0.0.1" 2>/dev/null; then fail "trace without in_port"; fi
if appctl ofproto/trace br0 "in_port=1,tcp,bogus=1" 2>/dev/null; then fail "trace of a bad flow"; fi
appctl coverage/show | grep -q "megaflow_install" || fail "coverage/show"
appctl bridge/dump-flows br0 | grep -q "priority=0 actions=NORMAL" || fail "bridge/dump-flows"
appctl memory/show | grep -q "^bridges:1 ports:4 rules:1 " || fail "memory/show: $(appctl memory/show)"
appctl dpif-netdev/pmd-rxq-show | grep -q "port: n1-$S  queue-id: 0" || fail "pmd-rxq-show"

# Trace across a recirculation: pop_mpls exposes an IPv4 header the first pass cannot see, so
# the datapath actions end in recirc(N); the trace runs them on the packet, parses it again and
# shows the second pass from table 1.
$OF add-flow "$MGMT" "priority=10,dl_type=0x8847,actions=pop_mpls:0x0800,goto_table:1" ||
  fail "add-flow pop_mpls"
$OF add-flow "$MGMT" "table=1,priority=10,ip,nw_dst=10.0.0.2,actions=output:2" || fail "add-flow t1"
MPLS_PKT=${PKT:0:24}884700064140${PKT:28}  # label 100, bos, TTL 64 before the IPv4 header
appctl ofproto/trace br0 "in_port=1,$MPLS_PKT" | tee "$SL_TMP/trace_mpls"
grep -q "^Datapath actions: pop_mpls(eth_type=0x800),recirc(0x[0-9a-f]*)$" "$SL_TMP/trace_mpls" ||
  fail "trace (MPLS): first pass"
grep -q "^recirc(0x[0-9a-f]*) - the packet is parsed again" "$SL_TMP/trace_mpls" ||
  fail "trace (MPLS): recirculation"
grep -q "^Flow: .*recirc_id(0x[0-9a-f]*).*eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2" \
  "$SL_TMP/trace_mpls" || fail "trace (MPLS): the packet parsed again"
grep -q "^ *Resuming from table 1$" "$SL_TMP/trace_mpls" || fail "trace (MPLS): thaw"
grep -q "br0: table 1: ip,nw_dst=10.0.0.2, priority 10$" "$SL_TMP/trace_mpls" ||
  fail "trace (MPLS): second pass rule"
grep -q "^Megaflow: recirc_id(0x[0-9a-f]*),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(dst=10.0.0.2)$" \
  "$SL_TMP/trace_mpls" || fail "trace (MPLS): second pass megaflow"
tail -1 "$SL_TMP/trace_mpls" | grep -q "^Datapath actions: 2$" || fail "trace (MPLS): output"
appctl coverage/show | grep -q "^recirc_states  *[1-9]" || fail "coverage/show: recirc_states"
$OF del-flows "$MGMT" "dl_type=0x8847" || fail "del-flows mpls"
$OF del-flows "$MGMT" "table=1" || fail "del-flows t1"

# An OpenFlow flow overrides NORMAL; after the barrier that ovs-ofctl waits for, no packet
# takes the old megaflow: 1->2 is dropped at once.
$OF add-flow "$MGMT" "priority=100,in_port=1,ip,nw_dst=10.0.0.2,actions=drop" || fail "add-flow"
if ns 1 ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null; then fail "ping passed a drop flow"; fi
appctl ofproto/trace br0 in_port=1,icmp,nw_dst=10.0.0.2 | tee "$SL_TMP/trace3"
grep -q "br0: table 0: ip,in_port=1,nw_dst=10.0.0.2, priority 100$" "$SL_TMP/trace3" ||
  fail "trace: the drop rule"
grep -q "Datapath actions: drop$" "$SL_TMP/trace3" || fail "trace: drop"
$OF del-flows --strict "$MGMT" "priority=100,in_port=1,ip,nw_dst=10.0.0.2" || fail "del-flows"
sl_ping_ready "sl-n1-$S" 10.0.0.2
ns 1 ping -c 2 -i 0.2 -W 2 10.0.0.2 >/dev/null || fail "ping after del-flows"

# VLANs: hosts 1,2 on access VLAN 10, host 3 on VLAN 20; host 4 is a trunk carrying 10 and 20
# with a VLAN 10 subinterface.
appctl ofproto/del-br br0
appctl ofproto/add-br br1 00000000000000b1 standalone
i=0
for spec in "tag=10" "tag=10" "tag=20" "trunks=10,20"; do
  i=$((i + 1))
  appctl ofproto/del-port br1 "n$i-$S"  # add-br attached it untagged
  appctl ofproto/add-port br1 "n$i-$S" "$i" "$spec" >/dev/null || fail "add-port n$i $spec"
done
sl_ping_ready "sl-n1-$S" 10.0.0.2
ns 1 ping -c 2 -i 0.2 -W 2 10.0.0.2 >/dev/null || fail "VLAN 10 access to access"
# A broadcast from VLAN 10 floods untagged to the other VLAN 10 port and tagged to the trunk.
BC=$(python3 "$(dirname "$0")/pkt.py" udp "$MAC1" ff:ff:ff:ff:ff:ff 10.0.0.1 10.0.0.255 1 2)
appctl ofproto/trace br1 "in_port=1,$BC" | grep -q "Datapath actions: 2,push_vlan(vid=10,pcp=0),4$" ||
  fail "VLAN 10 flood: $(appctl ofproto/trace br1 "in_port=1,$BC")"
# With 802.1Q in the kernel, a VLAN 10 subinterface on the trunk host answers pings.
ns 4 ip addr del 10.0.0.4/24 dev eth0
if ns 4 ip link add link eth0 name eth0.10 type vlan id 10 2>/dev/null; then
  ns 4 ip addr add 10.0.0.4/24 dev eth0.10
  ns 4 ip link set eth0.10 up
  sl_ping_ready "sl-n1-$S" 10.0.0.4
  ns 1 ping -c 2 -i 0.2 -W 2 10.0.0.4 >/dev/null || fail "VLAN 10 access to trunk"
else
  sl_log "no 802.1Q in this kernel: trunk checked by trace only"
fi
if ns 1 ping -c 2 -i 0.2 -W 1 10.0.0.3 >/dev/null; then fail "VLAN 10 reached VLAN 20"; fi
appctl fdb/show br1 | grep -q "  10  $MAC1" || fail "MAC learned in VLAN 10: $(appctl fdb/show br1)"
appctl fdb/flush br1 | grep -q flushed || fail "fdb/flush"

# Patch ports: host 1 on bra, host 2 on brb, joined by pa<->pb.
appctl ofproto/del-br br1
appctl ofproto/add-br bra 00000000000000c1 standalone
for i in 2 3 4; do appctl ofproto/del-port bra "n$i-$S"; done
appctl ofproto/add-br brb 00000000000000c2 standalone
for i in 3 4; do appctl ofproto/del-port brb "n$i-$S"; done
appctl ofproto/add-port bra pa 5 peer=pb >/dev/null || fail "patch pa"
appctl ofproto/add-port brb pb 5 peer=pa >/dev/null || fail "patch pb"
sl_ping_ready "sl-n1-$S" 10.0.0.2
ns 1 ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null || fail "ping across the patch ports"
appctl ofproto/trace bra "in_port=1,$PKT" | grep -q 'bridge brb' || fail "trace does not cross the patch"
sl_log "ofproto_normal: all checks passed"
