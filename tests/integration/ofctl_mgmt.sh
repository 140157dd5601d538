#!/usr/bin/env bash
# Debian's ovs-ofctl against a bridge's management socket (<rundir>/<bridge>.mgmt): version
# negotiation, features, port descriptions, switch description, port statistics; over OpenFlow
# 1.3 table features, flows, groups, meters, queue configuration and statistics; over OpenFlow 1.0
# (ovs-ofctl without -O) show, flows and queues; raw-socket checks of the errors for what the
# switch refuses (table reconfiguration, off-version messages, no common version); a controller
# connection.
# Expected lines are what Debian's ovs-vswitchd 3.1 prints for the same commands, except where
# noted (it adds a priority=0 NORMAL flow, reports max_entries=1000000 and uses Nicira extensions
# to show 1.3-only flows over 1.0).
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovs-ofctl openvswitch-common
sl_start
appctl dpctl/add-if p1,type=dummy
appctl dpctl/add-if p2,type=dummy
appctl ofproto/add-br br0 00000000000000aa || fail "add-br"
if appctl ofproto/add-br br0 2>/dev/null; then fail "duplicate bridge accepted"; fi
MGMT=unix:$SL_RUNDIR/br0.mgmt
O="ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"
$O show "$MGMT" | tee "$SL_TMP/show"
grep -q "dpid:00000000000000aa" "$SL_TMP/show" || fail "dpid"
grep -q "n_tables:254" "$SL_TMP/show" || fail "n_tables"
grep -q " 1(p1)" "$SL_TMP/show" || fail "port p1"
grep -q " 2(p2)" "$SL_TMP/show" || fail "port p2"
grep -q "LOCAL(br0)" "$SL_TMP/show" || fail "LOCAL port"
$O dump-desc "$MGMT" | grep -q "Sluice" || fail "dump-desc"
appctl netdev-dummy/receive p1 "$(python3 "$(dirname "$0")/pkt.py" udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.0.0.2 1 2)"
sl_wait_for sl_output_has "rx pkts=1" $O dump-ports "$MGMT" 1 || fail "port stats: $($O dump-ports "$MGMT" 1)"
$O dump-ports-desc "$MGMT" | grep -q "p2" || fail "dump-ports-desc"
$O get-frags "$MGMT" | grep -q normal || fail "get-frags (get-config)"
# Expects stdin to equal the argument, line for line.
expect_lines() {
  local got; got=$(cat)
  [ "$got" = "$1" ] || fail "$2: expected
$1
--- got
$got"
}

# ---- OpenFlow 1.3: table features (ovs-ofctl asks for them before any flow-mod) ----
$O dump-table-features "$MGMT" >"$SL_TMP/tf" || fail "dump-table-features"
head -6 "$SL_TMP/tf" | expect_lines "  table 0:
    metadata: match=0xffffffffffffffff write=0xffffffffffffffff
    max_entries=4294967295
    instructions (table miss and others):
      next tables: 1-253
      instructions: meter apply_actions clear_actions write_actions write_metadata goto_table" "table 0 features"
grep -qx "        actions: output group set_field strip_vlan push_vlan mod_nw_ttl dec_ttl set_mpls_ttl dec_mpls_ttl push_mpls pop_mpls set_queue" "$SL_TMP/tf" || fail "actions: $(cat "$SL_TMP/tf")"
grep -qx "      arbitrary mask: tun_id metadata eth_{src,dst} vlan_vid ip_{src,dst} ipv6_{src,dst,label} arp_{spa,tpa,sha,tha}" "$SL_TMP/tf" || fail "maskable fields"
grep -qx "  tables 1...252: ditto" "$SL_TMP/tf" || fail "tables 1..252"
grep -A4 -x "  table 253:" "$SL_TMP/tf" | tail -2 | expect_lines "    instructions (table miss and others):
      instructions: meter apply_actions clear_actions write_actions write_metadata" "last table: no goto"

# ---- OpenFlow 1.3: flows ----
$O add-flow "$MGMT" "in_port=1,actions=output:2" || fail "add-flow"
printf '%s\n' "table=0,priority=10,ip,nw_dst=10.0.0.0/8,actions=dec_ttl,output:1" \
  "table=1,priority=5,udp,tp_dst=53,actions=set_field:54->udp_dst,goto_table:2" |
  $O add-flows "$MGMT" - || fail "add-flows"
$O mod-flows "$MGMT" "in_port=1,actions=output:3" || fail "mod-flows"
$O --no-stats dump-flows "$MGMT" | expect_lines " in_port=1 actions=output:3
 priority=10,ip,nw_dst=10.0.0.0/8 actions=dec_ttl,output:1
 table=1, priority=5,udp,tp_dst=53 actions=set_field:54->udp_dst,goto_table:2" "dump-flows"
$O del-flows --strict "$MGMT" "table=0,priority=10,ip,nw_dst=10.0.0.0/8" || fail "del-flows --strict"
$O --no-stats dump-flows "$MGMT" | expect_lines " in_port=1 actions=output:3
 table=1, priority=5,udp,tp_dst=53 actions=set_field:54->udp_dst,goto_table:2" "after del-flows --strict"
$O dump-flows "$MGMT" | grep -q "n_packets=0, n_bytes=0, in_port=1 actions=output:3" || fail "flow stats"

# ---- OpenFlow 1.3: groups and meters ----
$O add-group "$MGMT" "group_id=1,type=all,bucket=output:1,bucket=output:2" || fail "add-group 1"
$O add-group "$MGMT" "group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:2" ||
  fail "add-group 2"
# (Open vSwitch lists the groups in hash order; Sluice by id.)
$O dump-groups "$MGMT" | expect_lines "OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):
 group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2
 group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2" "dump-groups"
$O del-groups "$MGMT" group_id=1 || fail "del-groups"
$O dump-groups "$MGMT" | expect_lines "OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):
 group_id=2,type=select,bucket=weight:10,actions=output:1,bucket=weight:20,actions=output:2" "dump-groups after del"
$O add-meter "$MGMT" "meter=1,kbps,band=type=drop,rate=1000" || fail "add-meter 1"
$O add-meter "$MGMT" "meter=2,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10" || fail "add-meter 2"
$O dump-meters "$MGMT" | expect_lines "OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):
meter=1 kbps bands=
type=drop rate=1000

meter=2 pktps burst stats bands=
type=drop rate=100 burst_size=10" "dump-meters"
$O meter-stats "$MGMT" | sed 's/duration:[0-9.]*s/duration:X/' | expect_lines "OFPST_METER reply (OF1.3) (xid=0x2):
meter:1 flow_count:0 packet_in_count:0 byte_in_count:0 duration:X bands:
0: packet_count:0 byte_count:0

meter:2 flow_count:0 packet_in_count:0 byte_in_count:0 duration:X bands:
0: packet_count:0 byte_count:0" "meter-stats"

# ---- OpenFlow 1.3: queue configuration (no queues: empty for a port, BAD_PORT otherwise) ----
$O queue-get-config "$MGMT" 1 | expect_lines "OFPT_QUEUE_GET_CONFIG_REPLY (OF1.3) (xid=0x2):" "queue-get-config 1"
$O queue-get-config "$MGMT" 99 2>&1 | head -1 | expect_lines "OFPT_ERROR (OF1.3) (xid=0x2): OFPQOFC_BAD_PORT" "queue-get-config 99"
# Queue statistics: only the default queue 0 of each port, counters unavailable ("?"), as
# ovs-vswitchd 3.1 answers for ports without QoS (it lists the ports in hash order).
$O queue-stats "$MGMT" | expect_lines "OFPST_QUEUE reply (OF1.3) (xid=0x2): 3 queues
  port 1 queue 0: bytes=?, pkts=?, errors=?, duration=?
  port 2 queue 0: bytes=?, pkts=?, errors=?, duration=?
  port LOCAL queue 0: bytes=?, pkts=?, errors=?, duration=?" "queue-stats"
$O queue-stats "$MGMT" 2 0 | expect_lines "OFPST_QUEUE reply (OF1.3) (xid=0x2): 1 queues
  port 2 queue 0: bytes=?, pkts=?, errors=?, duration=?" "queue-stats 2 0"
$O queue-stats "$MGMT" 99 2>&1 | expect_lines "OFPT_ERROR (OF1.3) (xid=0x2): OFPQOFC_BAD_PORT
OFPST_QUEUE request (OF1.3) (xid=0x2): port=99 queue=ALL" "queue-stats 99"
$O queue-stats "$MGMT" 1 5 2>&1 | expect_lines "OFPT_ERROR (OF1.3) (xid=0x2): OFPQOFC_BAD_QUEUE
OFPST_QUEUE request (OF1.3) (xid=0x2): port=1 queue=5" "queue-stats 1 5"
$O queue-stats "$MGMT" ANY 5 2>&1 | head -1 | expect_lines "OFPT_ERROR (OF1.3) (xid=0x2): OFPQOFC_BAD_QUEUE" "queue-stats ANY 5"

# ---- OpenFlow 1.0 (ovs-ofctl's default) ----
O10="ovs-ofctl --timeout=$SL_CMD_TIMEOUT"
$O10 show "$MGMT" | tee "$SL_TMP/show10" | head -4 | expect_lines "OFPT_FEATURES_REPLY (xid=0x2): dpid:00000000000000aa
n_tables:254, n_buffers:0
capabilities: FLOW_STATS TABLE_STATS PORT_STATS QUEUE_STATS ARP_MATCH_IP
actions: output enqueue set_vlan_vid set_vlan_pcp strip_vlan mod_dl_src mod_dl_dst mod_nw_src mod_nw_dst mod_nw_tos mod_tp_src mod_tp_dst" "show over 1.0"
grep -q "^ 1(p1): addr:" "$SL_TMP/show10" || fail "1.0 port p1"
grep -q "^ LOCAL(br0): addr:00:00:00:00:00:aa" "$SL_TMP/show10" || fail "1.0 LOCAL port"
grep -qx "OFPT_GET_CONFIG_REPLY (xid=0x4): frags=normal miss_send_len=128" "$SL_TMP/show10" || fail "1.0 get-config"
$O10 add-flow "$MGMT" "priority=7,tcp,nw_src=192.168.0.0/16,tp_dst=80,actions=mod_nw_tos:16,enqueue:2:5,output:1" ||
  fail "add-flow over 1.0"
# The table=1 flow (goto_table) has no OpenFlow 1.0 form and is not listed; Open vSwitch shows it
# through a Nicira extension.
$O10 --no-stats dump-flows "$MGMT" | expect_lines " in_port=1 actions=output:3
 priority=7,tcp,nw_src=192.168.0.0/16,tp_dst=80 actions=mod_nw_tos:16,enqueue:2:5,output:1" "dump-flows over 1.0"
# Over 1.3 the same flow shows its 1.3 form (Open vSwitch keeps the 1.0 spelling).
$O --no-stats dump-flows "$MGMT" table=0 | expect_lines " in_port=1 actions=output:3
 priority=7,tcp,nw_src=192.168.0.0/16,tp_dst=80 actions=set_field:4->ip_dscp,set_queue:5,output:2,output:1" "the 1.0 flow seen over 1.3"
$O10 del-flows "$MGMT" tcp || fail "del-flows over 1.0"
$O10 --no-stats dump-flows "$MGMT" | expect_lines " in_port=1 actions=output:3" "after del-flows over 1.0"
$O10 dump-aggregate "$MGMT" | expect_lines "OFPST_AGGREGATE reply (xid=0x4): packet_count=0 byte_count=0 flow_count=2" "dump-aggregate over 1.0"
$O10 queue-get-config "$MGMT" 1 | expect_lines "OFPT_QUEUE_GET_CONFIG_REPLY (xid=0x2):" "queue-get-config over 1.0"
$O10 queue-get-config "$MGMT" 99 2>&1 | head -1 | expect_lines "OFPT_ERROR (xid=0x2): OFPQOFC_BAD_PORT" "queue-get-config 99 over 1.0"
$O10 queue-stats "$MGMT" LOCAL | expect_lines "OFPST_QUEUE reply (xid=0x2): 1 queues
  port LOCAL queue 0: bytes=?, pkts=?, errors=?, duration=?" "queue-stats LOCAL over 1.0"
$O10 queue-stats "$MGMT" | head -1 | expect_lines "OFPST_QUEUE reply (xid=0x2): 3 queues" "queue-stats over 1.0"
$O10 queue-stats "$MGMT" 99 2>&1 | head -1 | expect_lines "OFPT_ERROR (xid=0x2): OFPQOFC_BAD_PORT" "queue-stats 99 over 1.0"
$O10 queue-stats "$MGMT" 1 5 2>&1 | head -1 | expect_lines "OFPT_ERROR (xid=0x2): OFPQOFC_BAD_QUEUE" "queue-stats 1 5 over 1.0"
$O10 dump-ports "$MGMT" 1 | grep -q "rx pkts=1" || fail "port stats over 1.0"
# A 1.0 packet-out with no input port ("none") leaves through port 2.
$O10 packet-out "$MGMT" none "output:2" \
  "$(python3 "$(dirname "$0")/pkt.py" udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.0.0.2 1 2)" ||
  fail "packet-out over 1.0"
sl_wait_for sl_output_has "tx pkts=1" $O10 dump-ports "$MGMT" 2 || fail "1.0 packet-out did not leave p2"
$O10 del-flows "$MGMT" || fail "del-flows (all) over 1.0"
[ -z "$($O --no-stats dump-flows "$MGMT")" ] || fail "flows left after a 1.0 del-flows"

# ---- Errors on a raw socket ----
python3 - "${MGMT#unix:}" <<'PY' || fail "raw protocol checks"
import socket, struct, sys
def conn(hello):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
    s.sendall(hello); recv(s); return s
def recv(s):
    h = b""
    while len(h) < 8: h += s.recv(8 - len(h))
    n = struct.unpack("!H", h[2:4])[0]; b = b""
    while len(b) < n - 8: b += s.recv(n - 8 - len(b))
    return h + b
def expect_error(s, version, etype, code, what):
    m = recv(s)
    got = (m[0], m[1], struct.unpack("!HH", m[8:12]))
    assert got == (version, 1, (etype, code)), "%s: got %r" % (what, got)
hello13 = struct.pack("!BBHI", 4, 0, 8, 1)
# A TABLE_FEATURES request with a body asks to reconfigure the tables: OFPTFFC_EPERM.
s = conn(hello13)
entry = struct.pack("!HB5x32sQQII", 64, 0, b"", 0, 0, 0, 10)
s.sendall(struct.pack("!BBHIHH4x", 4, 18, 16 + len(entry), 2, 12, 0) + entry)
expect_error(s, 4, 13, 5, "table features set")
# An unknown property type: OFPTFFC_BAD_TYPE.
entry = struct.pack("!HB5x32sQQIIHH4x", 72, 0, b"", 0, 0, 0, 10, 9, 8)
s.sendall(struct.pack("!BBHIHH4x", 4, 18, 16 + len(entry), 3, 12, 0) + entry)
expect_error(s, 4, 13, 2, "table features bad property")
# On a 1.0 connection, a 1.3 message is OFPBRC_BAD_VERSION (sent as 1.0).
s = conn(struct.pack("!BBHI", 1, 0, 8, 1))
s.sendall(struct.pack("!BBHI", 4, 20, 8, 4))
expect_error(s, 1, 1, 0, "off-version message")
s.sendall(struct.pack("!BBHI", 1, 18, 8, 5))
m = recv(s); assert m[:2] == bytes([1, 19]), "1.0 barrier: %r" % m
# A 1.0 multipart type that 1.0 lacks (group stats, 6): OFPBRC_BAD_STAT.
s.sendall(struct.pack("!BBHIHH", 1, 16, 12, 6, 6, 0))
expect_error(s, 1, 1, 2, "1.0 group stats")
# A peer speaking only 1.4 and 1.5 (bitmap): OFPHFC_INCOMPATIBLE, then the switch hangs up.
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(struct.pack("!BBHIHHI", 6, 0, 16, 1, 1, 8, (1 << 5) | (1 << 6)))
recv(s)
expect_error(s, 4, 0, 0, "no common version")
PY
# An active controller connection with reconnect: a listener started after the switch dials.
appctl ofproto/set-controller br0 tcp:127.0.0.1:16653
python3 - "$SL_TMP" <<'PY' &
import socket, struct, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 16653)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(10)
def recv_msg():
    hdr = b""
    while len(hdr) < 8: hdr += c.recv(8 - len(hdr))
    ln = struct.unpack("!H", hdr[2:4])[0]
    body = b""
    while len(body) < ln - 8: body += c.recv(ln - 8 - len(body))
    return hdr + body
hello = recv_msg()
c.sendall(struct.pack("!BBHI", 4, 0, 8, 1))                 # HELLO 1.3
c.sendall(struct.pack("!BBHI", 4, 5, 8, 2))                 # FEATURES_REQUEST
data = recv_msg()
ver, typ, ln, xid, dpid = struct.unpack("!BBHIQ", data[:16])
open(sys.argv[1] + "/ctl", "w").write("%d %d %d %x\n" % (ver, typ, xid, dpid))
PY
CTL=$!
wait $CTL || fail "controller side"
read -r ver typ xid dpid < "$SL_TMP/ctl"
[ "$ver $typ $xid $dpid" = "4 6 2 aa" ] || fail "controller got: $ver $typ $xid $dpid"
appctl ofproto/del-br br0
echo PASS
