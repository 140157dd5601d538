#!/usr/bin/env bash
# Datapath flow text as Open vSwitch prints it: the same flows are added with dpctl/add-flow to
# sluice-switchd and to Debian's ovs-vswitchd (userspace datapath, dummy ports 1-3), the same
# frames go through both, and dpctl/dump-flows of the two must be the same line for line (but
# for the "used" times): L2, IPv4/IPv6 5-tuples with prefixes, ARP, ICMP, ND, MPLS,
# recirc_id/dp_hash, skb_mark, TCP flags, and the packets/bytes/used/flags counters. Each line
# also reads back: dpctl/del-flow of it removes that flow.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-vswitchd openvswitch-switch

# Open vSwitch: its own database server, a netdev bridge with dummy ports p1-p3 (its internal
# ports dummies too: nothing in the kernel).
sl_ovsdb_server "$SL_TMP/ovsdb"
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_TMP/ovsdb/db.sock"
$V --no-wait init || fail "init"
sl_ovs_vswitchd "$SL_TMP/ovsdb/db.sock" --enable-dummy=override
$V add-br br0 -- set Bridge br0 datapath_type=netdev || fail "add-br"
for p in 1 2 3; do $V add-port br0 p$p -- set Interface p$p type=dummy || fail "add-port p$p"; done
# Its revalidators would delete flows that its OpenFlow tables did not make.
ovs_appctl revalidator/pause

# Sluice's datapath gets the same ports under the same numbers.
sl_start
for p in 1 2 3; do
  no=$(ovs_appctl dpctl/show | sed -n "s/^  port \([0-9]*\): p$p (dummy)$/\1/p")
  [ -n "$no" ] || fail "OVS has no datapath port p$p: $(ovs_appctl dpctl/show)"
  printf -v "P$p" %s "$no"
  appctl dpctl/add-if "p$p,type=dummy,port_no=$no" || fail "add-if p$p"
done

# (ovs-vswitchd 3.1 refuses VLAN flows from dpctl/add-flow on its userspace datapath, "internal
# error parsing flow key"; the VLAN lines of tests/datapath/odp_text_ovs_test.cc come from its
# upcalls instead.)
FLOWS=(
  "in_port($P1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,dst=10.1.0.0/255.255.0.0,proto=6,frag=no),tcp(src=1234,dst=80)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(dst=10.2.0.0/255.255.0.0,proto=17,frag=no),udp(dst=53)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x86dd),ipv6(src=2001:db8::/ffff:ffff::,dst=2001:db8:1::/ffff:ffff:ffff::,proto=6,frag=no),tcp(dst=443)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x0806),arp(tip=10.9.0.0/255.255.0.0,op=1)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(proto=1,frag=no),icmp(type=8,code=0)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x86dd),ipv6(proto=58,frag=no),icmpv6(type=135,code=0),nd(target=2001:db8::5)"
  "in_port($P2),packet_type(ns=0,id=0),eth(),eth_type(0x8847),mpls(label=100,tc=1,ttl=64,bos=1)"
  "in_port($P1),packet_type(ns=0,id=0),eth(),eth_type(0x8847),mpls(label=200/0xfffff,tc=0/0,ttl=0/0,bos=1/1)"
  "recirc_id(0x2),dp_hash(0x2/0xf),in_port($P3),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(frag=no)"
  "skb_mark(0x5),in_port($P3),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(frag=no)"
  "in_port($P3),packet_type(ns=0,id=0),eth(),eth_type(0x0800),ipv4(proto=6,frag=no),tcp(dst=22),tcp_flags(+syn-ack)"
)
for f in "${FLOWS[@]}"; do
  ovs_appctl dpctl/add-flow "$f" "$P1" || fail "OVS refused $f"
  appctl dpctl/add-flow "$f" "$P1" || fail "refused $f"
done

# Frames (made by Debian's ovs-ofctl) that hit some of the flows, on both datapaths.
compose() { ovs-ofctl compose-packet "$1" | sed -E 's/^[0-9a-f]{8}  //' | tr -d '\n -'; }
E=eth_src=50:54:00:00:00:02,eth_dst=50:54:00:00:00:01
SYN=$(compose "$E,tcp,nw_src=10.0.0.7,nw_dst=10.1.2.3,tp_src=1234,tp_dst=80,tcp_flags=0x002,nw_ttl=64")
ACK=$(compose "$E,tcp,nw_src=10.0.0.7,nw_dst=10.1.2.3,tp_src=1234,tp_dst=80,tcp_flags=0x010,nw_ttl=64")
DNS=$(compose "$E,udp,nw_src=10.0.0.7,nw_dst=10.2.9.9,udp_src=999,udp_dst=53,nw_ttl=64")
L2=$(compose "eth_src=50:54:00:00:00:01,eth_dst=50:54:00:00:00:02,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1,udp_dst=2,nw_ttl=64")
for a in ovs_appctl appctl; do
  $a netdev-dummy/receive p2 "$SYN" "$ACK" "$DNS" || fail "$a receive"
  $a netdev-dummy/receive p1 "$L2" || fail "$a receive"
done
counted() { $1 dpctl/dump-flows | grep -c "packets:[1-9]"; }
sl_wait_for sl_output_is 3 counted ovs_appctl || fail "OVS did not count: $(ovs_appctl dpctl/dump-flows)"
sl_wait_for sl_output_is 3 counted appctl || fail "Sluice did not count: $(appctl dpctl/dump-flows)"

# The two dumps, without the thread headers and with the ages blanked.
dump() { $1 dpctl/dump-flows | grep -v '^flow-dump from' | sed -E 's/used:[0-9.]+s/used:Xs/' | sort; }
dump ovs_appctl >"$SL_TMP/ovs.txt"
dump appctl >"$SL_TMP/sluice.txt"
[ "$(wc -l <"$SL_TMP/ovs.txt")" = ${#FLOWS[@]} ] || fail "OVS has $(wc -l <"$SL_TMP/ovs.txt") flows"
diff "$SL_TMP/ovs.txt" "$SL_TMP/sluice.txt" || fail "dpctl/dump-flows differs from Open vSwitch's"
grep -q "packets:2, bytes:[0-9]*, used:Xs, flags:S\., actions:$P1" "$SL_TMP/sluice.txt" ||
  fail "TCP flags not shown: $(cat "$SL_TMP/sluice.txt")"

# What dump-flows printed reads back: deleting each printed flow by its text empties the
# datapath.
while read -r line; do
  appctl dpctl/del-flow "${line%%, packets:*}" || fail "del-flow of a printed flow: $line"
done <"$SL_TMP/sluice.txt"
[ -z "$(appctl dpctl/dump-flows)" ] || fail "flows left: $(appctl dpctl/dump-flows)"
sl_log "${#FLOWS[@]} flows printed as Open vSwitch 3.1 prints them"
echo PASS
