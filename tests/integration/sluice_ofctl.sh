#!/usr/bin/env bash
# sluice-ofctl against a bridge's management socket: every command, its output compared with
# Debian's ovs-ofctl talking to the same switch (durations and xids blanked), the switch's
# OFPT_ERRORs printed as ovs-ofctl prints them, parse errors, pipelined add-flows, replace-flows
# and diff-flows, groups, meters, mod-port, packet-out and monitor.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovs-ofctl openvswitch-common
sl_start
appctl dpctl/add-if p1,type=dummy
appctl dpctl/add-if p2,type=dummy
appctl ofproto/add-br br0 00000000000000aa || fail "add-br"
MGMT=unix:$SL_RUNDIR/br0.mgmt
S="$BIN/sluice-ofctl --rundir $SL_RUNDIR"
# ovs-ofctl wants a writable run directory for its own control socket.
O="env OVS_RUNDIR=$SL_TMP ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"
# Durations and xids vary between runs and tools (also the xid inside a hex-dumped header).
norm() {
  sed -E 's/duration([=:]?)[0-9.]+s/duration\1X/g; s/xid=0x[0-9a-f]+/xid=X/;
          s/^(00000000  .. .. .. .. ).. .. .. ..-/\1XX XX XX XX-/; s/^(00000000  .*\|....)..../\1XXXX/'
}
# same "ovs-ofctl args" "sluice-ofctl args": identical output on the same switch.
same() {
  local a b
  a=$($O $1 2>&1 | norm) || true
  b=$($S $2 2>&1 | norm) || true
  [ "$a" = "$b" ] || { diff <(echo "$a") <(echo "$b") >&2; fail "output differs: $2"; }
}

# ---- parse-flow (offline): the same flow-mod text as ovs-ofctl parse-flow ----
while read -r f; do
  a=$($O parse-flow "$f" 2>&1 | tail -1)
  b=$($S parse-flow "$f" 2>&1)
  [ "$a" = "$b" ] || fail "parse-flow $f: ovs-ofctl: $a, sluice-ofctl: $b"
done <<'EOF'
actions=drop
in_port=LOCAL,actions=in_port
dl_src=aa:bb:cc:dd:ee:ff,dl_dst=01:00:00:00:00:00/01:00:00:00:00:00,actions=FLOOD
dl_type=0x0800,nw_src=1.2.3.4,nw_dst=5.6.7.0/24,actions=ALL
ip,nw_tos=16,nw_ecn=3,actions=mod_nw_tos:8
tcp,tcp_src=1,tcp_dst=2,actions=mod_tp_src:3,mod_tp_dst:4
icmp6,icmpv6_type=136,nd_target=2001:db8::1,nd_tll=00:00:00:00:00:01,actions=drop
arp,arp_op=1,arp_spa=10.0.0.0/8,arp_sha=00:00:00:00:00:01/ff:ff:ff:00:00:00,actions=NORMAL
ipv6,ipv6_src=::1,ipv6_dst=fe80::/10,ipv6_label=0x1/0xf,actions=drop
tunnel_id=5/7,metadata=0x1/0x3,actions=write_metadata:0x2/0x3,goto_table:4
mplsm,mpls_tc=3,actions=pop_mpls:0x8847
dl_vlan=10,dl_vlan_pcp=5,actions=mod_vlan_vid:20,mod_vlan_pcp:1
vlan_tci=0x0000/0x1000,actions=push_vlan:0x8100,mod_vlan_vid:4
dl_vlan=0xffff,actions=drop
table=5,cookie=0xabc,priority=65535,idle_timeout=1,hard_timeout=2,send_flow_rem,check_overlap,reset_counts,no_packet_counts,no_byte_counts,actions=drop
actions=controller:0,CONTROLLER:65535,LOCAL,TABLE,NORMAL,output:CONTROLLER
actions=meter:5,set_queue:1,clear_actions,write_actions(output:2,group:3),goto_table:10
arp,actions=set_field:1->arp_op,set_field:1.1.1.1->arp_spa,set_field:aa:aa:aa:aa:aa:aa->arp_sha
mpls,actions=set_field:7->mpls_tc,dec_mpls_ttl,set_mpls_ttl:10
tcp6,tp_dst=443,ipv6_dst=2001:db8::/ffff:ffff::,actions=drop
EOF
if $S parse-flow "tcp,actions=set_field:1->udp_dst" 2>"$SL_TMP/err"; then fail "bad set_field"; fi
grep -q "^sluice-ofctl: actions are invalid with specified match (OFPBAC_MATCH_INCONSISTENT)" \
  "$SL_TMP/err" || fail "set_field consistency: $(cat "$SL_TMP/err")"

# ---- targets: bridge name via --rundir and SLUICE_RUNDIR, unix:PATH ----
$S show br0 | tee "$SL_TMP/show" >/dev/null
grep -q "dpid:00000000000000aa" "$SL_TMP/show" || fail "show dpid"
grep -q "^ 1(p1): addr:" "$SL_TMP/show" || fail "show p1"
grep -q "^ LOCAL(br0): addr:00:00:00:00:00:aa" "$SL_TMP/show" || fail "show LOCAL"
grep -q "OFPT_GET_CONFIG_REPLY (OF1.3) (xid=0x4): frags=normal miss_send_len=128" \
  "$SL_TMP/show" || fail "show config"
SLUICE_RUNDIR=$SL_RUNDIR "$BIN/sluice-ofctl" show br0 | grep -q "dpid:00000000000000aa" ||
  fail "SLUICE_RUNDIR"
$S -O OpenFlow13 show "$MGMT" >/dev/null || fail "unix: target"
if $S show nosuchbr 2>"$SL_TMP/err"; then fail "missing bridge accepted"; fi
grep -q "^sluice-ofctl: unix:$SL_RUNDIR/nosuchbr.mgmt: failed to connect to socket" \
  "$SL_TMP/err" || fail "connect error: $(cat "$SL_TMP/err")"
if $S -O OpenFlow10 show br0 2>"$SL_TMP/err"; then fail "OpenFlow10 accepted"; fi
grep -q "only OpenFlow13 is supported" "$SL_TMP/err" || fail "-O OpenFlow10: $(cat "$SL_TMP/err")"

same "show $MGMT" "show br0"
same "dump-desc $MGMT" "dump-desc br0"
same "dump-ports-desc $MGMT" "dump-ports-desc br0"
# OpenFlow 1.3 has no per-port PORT_DESC request: ovs-ofctl prints every port, sluice-ofctl
# prints the one asked for.
[ "$($S dump-ports-desc br0 p2 | norm)" = "$($O dump-ports-desc "$MGMT" | norm | sed -n '1p;/^ 2(p2)/,/speed/p')" ] ||
  fail "dump-ports-desc p2: $($S dump-ports-desc br0 p2)"
same "dump-tables $MGMT" "dump-tables br0"

# ---- flows ----
cat >"$SL_TMP/flows" <<'EOF'
# comment lines and blank lines are skipped

priority=100,ip,nw_dst=10.0.0.0/8,actions=output:2
table=0,priority=200,cookie=0x12,tcp,tp_dst=80,idle_timeout=300,send_flow_rem actions=mod_vlan_vid:10,p1
in_port=p1,dl_src=00:11:22:33:44:55/ff:ff:ff:00:00:00,dl_vlan=5,actions=strip_vlan,output:2,CONTROLLER:100
arp,arp_tpa=10.0.0.1,actions=NORMAL
ipv6,ipv6_src=2001:db8::/32,actions=drop
priority=5,metadata=0x5/0xff,actions=write_metadata:0x10/0xff,goto_table:3
priority=6,udp,actions=set_field:10.1.1.1->ip_dst,dec_ttl,mod_tp_dst:99,clear_actions,write_actions(output:1)
table=3,actions=set_queue:3,output:1
table=1,priority=7,tcp6,tp_src=22,actions=set_field:fe80::1->ipv6_src,output:LOCAL
table=1,icmp,icmp_type=8,icmp_code=0,nw_src=192.168.0.0/255.255.0.255,actions=mod_nw_tos:16,mod_nw_ttl:5,in_port
table=1,icmp6,icmp_type=135,nd_target=fe80::2,nd_sll=00:00:00:00:00:09,actions=drop
table=1,arp,arp_op=2,arp_sha=00:00:00:00:00:01,arp_spa=1.1.1.1,actions=FLOOD
table=1,dl_vlan_pcp=3,actions=ALL
table=2,mpls,mpls_label=5,mpls_tc=2,mpls_bos=1,actions=controller(max_len=80)
table=2,sctp,sctp_dst=5,actions=set_field:3->ip_dscp,set_field:1->ip_ecn
table=2,udp6,ipv6_label=0x12345,ipv6_dst=::1/64,actions=set_field:00:00:00:00:00:05->eth_dst
table=2,eth_src=01:00:00:00:00:00/01:00:00:00:00:00,eth_type=0x0800,ip_proto=6,actions=NORMAL
EOF
$S add-flows br0 "$SL_TMP/flows" || fail "add-flows"
same "dump-flows $MGMT" "dump-flows br0"
same "dump-flows --no-stats $MGMT" "dump-flows --no-stats br0"
[ "$($O dump-flows --no-stats "$MGMT" | sort)" = "$($S dump-flows --no-stats br0 | sort)" ] ||
  fail "dump-flows --no-stats (sorted) differs"
same "dump-flows $MGMT table=1" "dump-flows br0 table=1"
same "dump-flows $MGMT tcp" "dump-flows br0 tcp"
same "dump-aggregate $MGMT" "dump-aggregate br0"
same "dump-aggregate $MGMT table=2" "dump-aggregate br0 table=2"
[ "$($S dump-aggregate br0 | sed 's/.*flow_count=//')" = 17 ] || fail "17 flows"
# The exact line format (stats prefix, flags, canonical match and 1.3 actions).
$S dump-flows br0 cookie=0x12/-1 2>/dev/null && fail "cookie=V/-1 accepted"
$S dump-flows br0 cookie=0x12/0xffffffffffffffff | tail -1 | norm >"$SL_TMP/line"
[ "$(cat "$SL_TMP/line")" = " cookie=0x12, duration=X, table=0, n_packets=0, n_bytes=0, idle_timeout=300, send_flow_rem priority=200,tcp,tp_dst=80 actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:1" ] ||
  fail "dump-flows line: $(cat "$SL_TMP/line")"

# What ovs-ofctl installs and what sluice-ofctl installs are the same flows.
$S dump-flows --no-stats --sort br0 >"$SL_TMP/mine"
$S del-flows br0
[ -z "$($S dump-flows --no-stats br0)" ] || fail "del-flows left flows"
$O add-flows "$MGMT" "$SL_TMP/flows" || fail "ovs-ofctl add-flows"
$S dump-flows --no-stats --sort br0 >"$SL_TMP/theirs"
diff "$SL_TMP/theirs" "$SL_TMP/mine" || fail "parsed flows differ from ovs-ofctl's"

# stdin, mod-flows (strict and not), del-flows (strict and not).
$S del-flows br0
printf 'priority=10,in_port=1,actions=output:2\npriority=20,in_port=1,actions=output:2\n' |
  $S add-flows br0 - || fail "add-flows -"
$S mod-flows br0 "in_port=1,actions=output:LOCAL"
[ "$($S dump-flows --no-stats br0 | grep -c 'actions=LOCAL')" = 2 ] || fail "mod-flows"
$S --strict mod-flows br0 "priority=10,in_port=1,actions=drop"
$S dump-flows --no-stats br0 | grep -q "priority=10,in_port=1 actions=drop" || fail "mod --strict"
$S dump-flows --no-stats br0 | grep -q "priority=20,in_port=1 actions=LOCAL" ||
  fail "mod --strict touched another flow"
$S del-flows --strict br0 "priority=10,in_port=1"
[ "$($S dump-flows --no-stats br0)" = " priority=20,in_port=1 actions=LOCAL" ] ||
  fail "del-flows --strict: $($S dump-flows --no-stats br0)"
$S del-flows br0 in_port=1
[ -z "$($S dump-flows --no-stats br0)" ] || fail "del-flows in_port=1"
# add-flows lines may carry their command, as in ovs-ofctl.
printf 'priority=1,ip,actions=output:1\nadd priority=2,arp,actions=output:1\nmodify ip,actions=output:2\ndelete_strict priority=2,arp\n' |
  $S add-flows br0 - || fail "add-flows with commands"
[ "$($S dump-flows --no-stats br0)" = " priority=1,ip actions=output:2" ] ||
  fail "add-flows commands: $($S dump-flows --no-stats br0)"
if $S --no-names add-flow br0 "in_port=p1,actions=drop" 2>"$SL_TMP/err"; then fail "--no-names"; fi
$S del-flows br0

# --names prints port names (LOCAL stays LOCAL); --sort/--rsort take priority and match
# fields, several criteria in order; all compared with ovs-ofctl on the same flows.
printf '%s\n' "priority=7,in_port=1,ip,nw_src=10.0.0.2,actions=output:2,LOCAL" \
  "priority=7,in_port=2,ip,nw_src=10.0.0.1,actions=output:1" \
  "priority=9,tcp,tp_dst=80,actions=output:1" \
  "table=1,priority=5,in_port=LOCAL,actions=write_actions(output:1)" | $S add-flows br0 -
$S add-group br0 "group_id=7,type=ff,bucket=watch_port:2,output:2"
[ "$($S --names --no-stats dump-flows br0 in_port=p1)" = " priority=7,ip,in_port=p1,nw_src=10.0.0.2 actions=output:p2,LOCAL" ] ||
  fail "--names: $($S --names --no-stats dump-flows br0 in_port=p1)"
for opts in "--names" "--no-names" "--names --no-stats" "--sort" "--names --rsort" \
  "--rsort=nw_src --no-stats" "--sort=in_port --rsort=priority --no-stats" "--sort=tcp_dst"; do
  same "$opts dump-flows $MGMT" "$opts dump-flows br0"
done
same "--names dump-groups $MGMT" "--names dump-groups br0"
same "--names dump-ports $MGMT" "--names dump-ports br0"
same "--names dump-ports-desc $MGMT" "--names dump-ports-desc br0"
[ "$($S --sort=table dump-flows br0 2>&1)" = "sluice-ofctl: table: unknown field name" ] ||
  fail "--sort=table is not a field (ovs-ofctl refuses it too)"
$S del-groups br0
$S del-flows br0

# replace-flows and diff-flows (file against bridge: exit 2 and the +/- lines, then 0).
$S add-flow br0 "priority=1,actions=drop"
$S add-flow br0 "priority=2,ip,actions=output:1"
printf 'priority=2,ip,actions=output:2\npriority=3,arp,actions=NORMAL\n' >"$SL_TMP/want"
rc=0; $S diff-flows br0 "$SL_TMP/want" >"$SL_TMP/diff" || rc=$?
[ $rc = 2 ] || fail "diff-flows exit $rc"
cat >"$SL_TMP/diff.expected" <<'EOF'
-priority=1 actions=drop
-priority=2,ip actions=output:1
+priority=2,ip actions=output:2
+priority=3,arp actions=NORMAL
EOF
diff "$SL_TMP/diff.expected" "$SL_TMP/diff" || fail "diff-flows output"
$S replace-flows br0 "$SL_TMP/want" || fail "replace-flows"
$S diff-flows "$SL_TMP/want" br0 || fail "diff-flows after replace-flows"
[ "$($S dump-flows --no-stats --sort br0)" = " priority=2,ip actions=output:2
 priority=3,arp actions=NORMAL" ] || fail "replace-flows result"

# ---- errors: the switch's OFPT_ERROR as ovs-ofctl prints it, parse errors, exit 1 ----
rc=0; $S add-flow br0 "actions=group:99" 2>"$SL_TMP/err" || rc=$?
[ $rc = 1 ] || fail "group:99 exit $rc"
rc=0; $O add-flow "$MGMT" "actions=group:99" 2>"$SL_TMP/err.ovs" || rc=$?
[ $rc = 1 ] || fail "ovs-ofctl group:99 exit $rc"
diff <(norm <"$SL_TMP/err.ovs") <(norm <"$SL_TMP/err") || fail "OFPT_ERROR text differs"
head -1 "$SL_TMP/err" | grep -q "^OFPT_ERROR (OF1.3) (xid=0x2): OFPBAC_BAD_OUT_GROUP$" ||
  fail "error line: $(head -1 "$SL_TMP/err")"
rc=0; $S add-flow br0 "tcp,tp_dst=80,actions=frob" 2>"$SL_TMP/err" || rc=$?
[ $rc = 1 ] && [ "$(cat "$SL_TMP/err")" = "sluice-ofctl: unknown action frob" ] ||
  fail "parse error ($rc): $(cat "$SL_TMP/err")"
rc=0; $S add-flow br0 "tp_dst=80,actions=drop" 2>"$SL_TMP/err" || rc=$?
[ $rc = 1 ] && grep -q "tp_dst requires tcp, udp or sctp" "$SL_TMP/err" || fail "prereq error"
printf 'ip,actions=drop\nbogus=1,actions=drop\n' >"$SL_TMP/bad"
rc=0; $S add-flows br0 "$SL_TMP/bad" 2>"$SL_TMP/err" || rc=$?
[ $rc = 1 ] && [ "$(cat "$SL_TMP/err")" = "sluice-ofctl: $SL_TMP/bad:2: unknown keyword bogus" ] ||
  fail "add-flows parse error: $(cat "$SL_TMP/err")"
# A failing flow in a pipelined batch: the first error is printed, the good flows stay.
$S del-flows br0
printf 'priority=1,actions=output:1\npriority=2,actions=group:77\npriority=3,actions=output:2\n' >"$SL_TMP/mixed"
rc=0; $S add-flows br0 "$SL_TMP/mixed" 2>"$SL_TMP/err" || rc=$?
[ $rc = 1 ] && head -1 "$SL_TMP/err" | grep -q "OFPBAC_BAD_OUT_GROUP" || fail "batch error"
[ "$($S dump-flows --no-stats --sort br0)" = " priority=1 actions=output:1
 priority=3 actions=output:2" ] || fail "batch: good flows"
if $S frobnicate br0 2>"$SL_TMP/err"; then fail "unknown command accepted"; fi
grep -q "^sluice-ofctl: unknown command 'frobnicate'" "$SL_TMP/err" || fail "unknown command"

# add-flows with many flows: one pipelined batch and one barrier.
$S del-flows br0
for i in $(seq 1 2000); do echo "priority=$i,ip,nw_dst=10.$((i / 256)).$((i % 256)).0/24,actions=output:1"; done >"$SL_TMP/many"
$S add-flows br0 "$SL_TMP/many" || fail "2000 flows"
[ "$($S dump-aggregate br0 | sed 's/.*flow_count=//')" = 2000 ] || fail "2000 flows installed"
$S del-flows br0

# ---- groups ----
$S add-group br0 "group_id=1,type=all,bucket=output:1,bucket=output:2" || fail "add-group all"
$S add-group br0 "group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,watch_port:2,actions=set_field:00:00:00:00:00:01->eth_src,output:2" ||
  fail "add-group select"
$S add-group br0 "group_id=3,type=fast_failover,bucket=watch_port:1,output:1,bucket=watch_group:1,group:1" ||
  fail "add-group ff"
$S add-group br0 "group_id=4,type=indirect,bucket=actions=output:LOCAL" || fail "add-group indirect"
same "dump-groups $MGMT" "dump-groups br0"
same "dump-group-stats $MGMT" "dump-group-stats br0"
same "dump-group-stats $MGMT group_id=2" "dump-group-stats br0 group_id=2"
$S dump-groups br0 | grep -q "^ group_id=3,type=ff,bucket=watch_port:1,actions=output:1,bucket=watch_group:1,actions=group:1$" ||
  fail "dump-groups ff"
$S mod-group br0 "group_id=4,type=indirect,bucket=actions=output:2" || fail "mod-group"
$S dump-groups br0 4 | grep -q "^ group_id=4,type=indirect,bucket=actions=output:2$" || fail "mod-group result"
$S add-flow br0 "actions=group:1" || fail "flow to group"
rc=0; $S add-group br0 "group_id=1,type=all" 2>"$SL_TMP/err" || rc=$?
[ $rc = 1 ] && head -1 "$SL_TMP/err" | grep -q "OFPGMFC_GROUP_EXISTS" || fail "duplicate group: $(cat "$SL_TMP/err")"
$S del-groups br0 group_id=4
[ "$($S dump-groups br0 | grep -c group_id=)" = 3 ] || fail "del-groups 4"
$S del-groups br0
[ "$($S dump-groups br0 | grep -c group_id=)" = 0 ] || fail "del-groups all"
[ -z "$($S dump-flows --no-stats br0)" ] || fail "deleting a group deletes its flows"

# ---- meters ----
$S add-meter br0 "meter=1,kbps,burst,stats,bands=type=drop,rate=1000,burst_size=100" || fail "add-meter 1"
$S add-meter br0 "meter=2,pktps,bands=type=dscp_remark,rate=100,prec_level=1,type=drop,rate=200" ||
  fail "add-meter 2"
same "dump-meters $MGMT" "dump-meters br0"
same "meter-stats $MGMT" "meter-stats br0"
same "dump-meters $MGMT meter=2" "dump-meters br0 meter=2"
same "meter-features $MGMT" "meter-features br0"
$S mod-meter br0 "meter=1,kbps,bands=type=drop,rate=5" || fail "mod-meter"
[ "$($S dump-meters br0 meter=1 | tail -2)" = "meter=1 kbps bands=
type=drop rate=5" ] || fail "mod-meter result: $($S dump-meters br0 meter=1)"
$S add-flow br0 "priority=9,actions=meter:1,output:1" || fail "flow with meter"
$S dump-flows --no-stats br0 | grep -q "priority=9 actions=meter:1,output:1" || fail "meter flow"
$S del-meters br0 meter=2
$S meter-stats br0 | grep -q "^meter:2 " && fail "del-meters meter=2"
$S del-meters br0
[ "$($S dump-meters br0 | wc -l)" = 1 ] || fail "del-meters all"
$S del-flows br0

# ---- ports: dump-ports, mod-port ----
same "dump-ports $MGMT" "dump-ports br0"
same "dump-ports $MGMT 1" "dump-ports br0 p1"
$S mod-port br0 p1 down || fail "mod-port down"
$S dump-ports-desc br0 | grep -A1 "^ 1(p1)" | grep -q "config:     PORT_DOWN" || fail "port down"
$S mod-port br0 1 up || fail "mod-port up"
$S dump-ports-desc br0 | grep -A1 "^ 1(p1)" | grep -q "config:     0" || fail "port up"
if $S mod-port br0 p1 no-flood 2>"$SL_TMP/err"; then fail "no-flood accepted"; fi
grep -q "OpenFlow 1.0 port setting" "$SL_TMP/err" || fail "no-flood error"
if $S mod-port br0 p9 down 2>"$SL_TMP/err"; then fail "unknown port accepted"; fi

# ---- monitor: flow-removed and port-status, as ovs-ofctl prints them ----
# Monitors are ready once they print the port-status of a port toggled down and up again (a
# monitor that is not there yet misses a round: toggle until every one has printed one).
# shellcheck disable=SC2317  # called through sl_wait_for
monitors_see_port_status() {
  $S mod-port br0 p1 down && $S mod-port br0 p1 up || return 1
  local f
  for f in "$@"; do grep -q "^OFPT_PORT_STATUS.* 1(p1)" "$f" || return 1; done
}
$S add-flow br0 "priority=20,tcp,tp_dst=80,send_flow_rem,actions=drop"
sl_bg $S monitor br0 >"$SL_TMP/mon" 2>&1
MON=$SL_BG
sl_wait_for monitors_see_port_status "$SL_TMP/mon" || fail "monitor did not connect: $(cat "$SL_TMP/mon")"
$S del-flows br0 tcp
$S mod-port br0 p2 down
sl_wait_for grep -q "^OFPT_PORT_STATUS.* 2(p2)" "$SL_TMP/mon" ||
  fail "monitor saw no port-status: $(cat "$SL_TMP/mon")"
sl_stop $MON
grep -q "^OFPT_FLOW_REMOVED (OF1.3) (xid=0x[0-9a-f]*): priority=20,tcp,tp_dst=80 reason=delete table_id=0 duration[0-9.]*s idle0 pkts0 bytes0$" \
  "$SL_TMP/mon" || fail "monitor flow-removed: $(cat "$SL_TMP/mon")"
grep -q "^OFPT_PORT_STATUS (OF1.3) (xid=0x[0-9a-f]*): MOD: 2(p2): addr:" "$SL_TMP/mon" ||
  fail "monitor port-status: $(cat "$SL_TMP/mon")"
$S mod-port br0 p2 up

# ---- monitor: packet-in (CONTROLLER action), line for line as ovs-ofctl monitor ----
$S add-flow br0 "priority=50,in_port=p1,actions=CONTROLLER:200"
sl_bg $S monitor br0 >"$SL_TMP/pin.mine" 2>&1
MON=$SL_BG
# (No --timeout: ovs-ofctl would end the monitor with SIGALRM.)
sl_bg stdbuf -oL env OVS_RUNDIR="$SL_TMP" ovs-ofctl -O OpenFlow13 monitor "$MGMT" 65535 \
  >"$SL_TMP/pin.ovs" 2>&1
MON2=$SL_BG
sl_wait_for monitors_see_port_status "$SL_TMP/pin.mine" "$SL_TMP/pin.ovs" ||
  fail "monitors did not connect: $(cat "$SL_TMP/pin.mine" "$SL_TMP/pin.ovs")"
appctl netdev-dummy/receive p1 "$(python3 "$(dirname "$0")/pkt.py" udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.0.0.2 1 2)"
sl_wait_for grep -q "^OFPT_PACKET_IN" "$SL_TMP/pin.mine" || fail "packet-in: $(cat "$SL_TMP/pin.mine")"
sl_wait_for grep -q "^OFPT_PACKET_IN" "$SL_TMP/pin.ovs" || fail "packet-in (ovs-ofctl): $(cat "$SL_TMP/pin.ovs")"
sl_stop $MON $MON2
grep -q "^OFPT_PACKET_IN (OF1.3) (xid=0x[0-9a-f]*): cookie=0x0 total_len=60 in_port=1 (via action) data_len=60 (unbuffered)$" \
  "$SL_TMP/pin.mine" || fail "packet-in: $(cat "$SL_TMP/pin.mine")"
# The packet-in as both print it (the port-status rounds before it may differ in number).
packet_in() { awk '/^OFPT_/ {p = /^OFPT_PACKET_IN/} p' "$1" | grep -v "fatal_signal" | norm; }
diff <(packet_in "$SL_TMP/pin.ovs") <(packet_in "$SL_TMP/pin.mine") || fail "packet-in text"
$S del-flows br0 in_port=p1

# ---- packet-out: both syntaxes; the packet leaves on p2 ----
ARP=ffffffffffff000000000001080600010800060400010000000000010a000001000000000000000a000002
$S packet-out br0 "in_port=1 packet=$ARP actions=output:2" || fail "packet-out"
$S packet-out br0 1 output:2 "$ARP" || fail "packet-out (positional)"
sl_wait_for sl_output_has "tx pkts=2," $S dump-ports br0 p2 || fail "packet-out tx: $($S dump-ports br0 p2)"
if $S packet-out br0 "in_port=1 actions=output:2" 2>"$SL_TMP/err"; then fail "no packet"; fi
grep -q "must specify packet" "$SL_TMP/err" || fail "packet-out usage"

# ---- dump-table-features: ovs-ofctl's layout (tables 1...252 folded into "ditto") ----
same "dump-table-features $MGMT" "dump-table-features br0"
$S dump-table-features br0 >"$SL_TMP/tf"
grep -qx "  tables 1...252: ditto" "$SL_TMP/tf" || fail "table features ditto: $(cat "$SL_TMP/tf")"
grep -qx "      next tables: 1-253" "$SL_TMP/tf" || fail "table features next tables"

$S show br0 >/dev/null || fail "switch unusable at the end"
appctl ofproto/del-br br0
echo PASS
