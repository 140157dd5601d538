#!/usr/bin/env bash
# set_field of ARP, ICMP, ICMPv6 and IPv6 ND fields through the real daemon: frames sent from one
# namespaced host leave the other port rewritten, with every checksum valid (checked from scratch
# by setfield_frames.py); the megaflows carry the masked datapath sets as ovs-dpctl prints them;
# a tunnel_id set-field is accepted as pipeline metadata.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-ofctl openvswitch-common

S=$$
F="python3 $(dirname "$0")/setfield_frames.py"
sl_host "sl-s1-$S" "s1-$S" "10.0.0.1/24"
sl_host "sl-s2-$S" "s2-$S" "10.0.0.2/24"
sl_start
appctl dpctl/add-if "s1-$S" || fail "add-if s1"
appctl dpctl/add-if "s2-$S" || fail "add-if s2"
appctl ofproto/add-br br0 00000000000000c0 secure || fail "add-br"
OF="ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"
MGMT=unix:$SL_RUNDIR/br0.mgmt

$OF add-flows "$MGMT" - <<'EOF' || fail "add-flows"
priority=10,in_port=1,icmp,icmp_type=8,actions=set_field:0->icmp_type,set_field:10->icmp_code,output:2
priority=10,in_port=1,icmp6,icmp_type=128,actions=set_field:129->icmpv6_type,set_field:1->icmpv6_code,output:2
priority=10,in_port=1,arp,arp_op=1,actions=set_field:2->arp_op,set_field:10.9.9.9->arp_spa,set_field:aa:aa:aa:aa:aa:aa->arp_sha,output:2
priority=10,in_port=1,icmp6,icmp_type=135,actions=set_field:2001:db8::99->nd_target,set_field:aa:aa:aa:aa:aa:aa->nd_sll,output:2
priority=10,in_port=1,icmp6,icmp_type=136,actions=set_field:2001:db8::99->nd_target,set_field:aa:aa:aa:aa:aa:aa->nd_tll,output:2
EOF

KINDS="icmp icmpv6 arp nd_ns nd_na"
FRAMES=()
for k in $KINDS; do FRAMES+=("$($F frame "$k")"); done
ip netns exec "sl-s2-$S" $F sniff eth0 60 "$SL_TMP/sniffing" "${#FRAMES[@]}" >"$SL_TMP/rx" &
SNIFF=$!
sl_wait_for test -e "$SL_TMP/sniffing" || fail "sniffer did not start"
ip netns exec "sl-s1-$S" $F send eth0 "${FRAMES[@]}" || fail "send"
wait $SNIFF || fail "sniff"
for k in $KINDS; do
  $F check "$k" "$SL_TMP/rx" || fail "$k: $(cat "$SL_TMP/rx")"
  sl_log "$k rewritten, checksums valid"
done

# The megaflows: one masked set each, in OVS's dpctl syntax.
appctl dpctl/dump-flows >"$SL_TMP/dp"
for want in "set(icmp(type=0,code=10)),2" "set(icmpv6(type=129,code=1)),2" \
  "set(arp(sip=10.9.9.9,op=2,sha=aa:aa:aa:aa:aa:aa)),2" \
  "set(nd(target=2001:db8::99,sll=aa:aa:aa:aa:aa:aa)),2" \
  "set(nd(target=2001:db8::99,tll=aa:aa:aa:aa:aa:aa)),2"; do
  grep -qF "actions:$want" "$SL_TMP/dp" || fail "no megaflow with $want: $(cat "$SL_TMP/dp")"
done
# Every rule counted its packet (the hosts' own neighbour solicitations may add to one).
counted() { $OF dump-flows "$MGMT" | grep -c "n_packets=[1-9]"; }
sl_wait_for sl_output_is 5 counted || fail "counters: $($OF dump-flows "$MGMT")"

# What the datapath cannot do is refused, as TABLE_FEATURES says. (ovs-ofctl itself refuses to
# send set_field of eth_type or ip_proto; ofproto_test sends them.)
# tunnel_id is pipeline metadata while there are no tunnel ports: accepted.
$OF add-flow "$MGMT" "table=7,actions=set_field:5->tunnel_id,output:2" 2>"$SL_TMP/err" ||
  fail "set_field tunnel_id refused: $(cat "$SL_TMP/err")"
$OF del-flows "$MGMT" "table=7"
$OF dump-table-features "$MGMT" >"$SL_TMP/tf" || fail "dump-table-features"
grep -m1 "supported on Set-Field:" "$SL_TMP/tf" | grep -qF \
  "arp_{op,spa,tpa,sha,tha} tcp_{src,dst} udp_{src,dst} sctp_{src,dst} icmp_{type,code} icmpv6_{type,code} nd_{target,sll,tll}" ||
  fail "Set-Field features: $(cat "$SL_TMP/tf")"
sl_log "set_field OK"
