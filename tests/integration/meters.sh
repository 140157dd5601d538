#!/usr/bin/env bash
# OpenFlow meters enforced by the datapath, driven by Debian's ovs-ofctl: a pktps drop meter on
# a flow, real traffic through dummy ports, and meter-stats showing the band's drops and about
# the rate passing; the megaflow carries meter(N); a dscp_remark band rewrites AF DSCPs (IPv4
# header checksum still valid); deleting a meter deletes its flows.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovs-ofctl openvswitch-common
sl_start
appctl dpctl/add-if p1,type=dummy
appctl dpctl/add-if p2,type=dummy
appctl dpctl/add-if p3,type=dummy
appctl ofproto/add-br br0 00000000000000bb secure || fail "add-br"
MGMT=unix:$SL_RUNDIR/br0.mgmt
O="ovs-ofctl -O OpenFlow13 --timeout=$SL_CMD_TIMEOUT"

# ---- a 100 packets/s drop meter ----
$O add-meter "$MGMT" "meter=1,pktps,band=type=drop,rate=100" || fail "add-meter"
$O add-flow "$MGMT" "in_port=1,actions=meter:1,output:2" || fail "flow with meter"
$O --no-stats dump-flows "$MGMT" | grep -qx " in_port=1 actions=meter:1,output:2" ||
  fail "dump-flows: $($O --no-stats dump-flows "$MGMT")"
$O dump-table-features "$MGMT" | grep -q "instructions: meter apply_actions" ||
  fail "TABLE_FEATURES offers the meter instruction"
$O meter-features "$MGMT" | tee "$SL_TMP/mf"
grep -q "band_types: drop dscp_remark" "$SL_TMP/mf" || fail "meter-features band types"
grep -q "capabilities: kbps pktps burst stats" "$SL_TMP/mf" || fail "meter-features capabilities"

# 63 frames per netdev-dummy/receive call, calls for about three seconds (well above 100/s).
frame=$(python3 "$(dirname "$0")/pkt.py" udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.0.0.2 1 2)
batch=$(for _ in $(seq 63); do printf '%s ' "$frame"; done)
sent=0
t0=$(date +%s.%N)
while :; do
  # shellcheck disable=SC2086
  appctl netdev-dummy/receive p1 $batch
  sent=$((sent + 63))
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 3.0) }' || break
  sleep 0.05
done
# Until the datapath has taken every frame and meter-stats (which pulls the datapath's
# counters) has counted them all.
sl_wait_for sl_output_has "packet_in_count:$sent " $O meter-stats "$MGMT" meter=1 ||
  fail "meter 1 did not count $sent packets: $($O meter-stats "$MGMT" meter=1)"
$O meter-stats "$MGMT" meter=1 | tee "$SL_TMP/ms"
in=$(sed -n 's/.*packet_in_count:\([0-9]*\).*/\1/p' "$SL_TMP/ms")
drops=$(sed -n 's/^0: packet_count:\([0-9]*\).*/\1/p' "$SL_TMP/ms")
grep -q "flow_count:1 " "$SL_TMP/ms" || fail "flow_count"
[ "$in" = "$sent" ] || fail "packet_in_count $in, sent $sent"
[ "${drops:-0}" -gt 0 ] || fail "no band drops"
passed=$((in - drops))
# The burst (one second of the rate, as Open vSwitch) plus 100/s for the time traffic flowed.
elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
# At most what the meter allows in the sender's time (a loaded machine only lowers it: the PMD
# then takes the frames in fewer, larger bursts, and a bucket full after a pause holds no more
# than its burst); at least half of it. The exact token arithmetic is meter_test's.
lo=$(awk -v e="$elapsed" 'BEGIN { printf "%d", (100 + 100 * e) * 0.5 }')
hi=$(awk -v e="$elapsed" 'BEGIN { printf "%d", (100 + 100 * e) * 1.15 + 5 }')
sl_log "meter 1: sent $sent in ${elapsed}s, passed $passed (expected $lo..$hi), dropped $drops"
[ "$passed" -ge "$lo" ] && [ "$passed" -le "$hi" ] || fail "passed $passed not in $lo..$hi"
tx=$($O dump-ports "$MGMT" 2 | sed -n 's/.*tx pkts=\([0-9]*\).*/\1/p')
[ "$tx" = "$passed" ] || fail "port 2 sent $tx, the meter passed $passed"
appctl dpctl/dump-flows | tee "$SL_TMP/dpflows"
grep -q "actions:meter([0-9]*),2" "$SL_TMP/dpflows" || fail "megaflow without meter()"

# ---- dscp_remark: AF11 above 10 packets/s becomes AF12 ----
$O add-meter "$MGMT" "meter=2,pktps,burst,bands=type=dscp_remark,rate=10,prec_level=1,burst_size=5" ||
  fail "add-meter 2"
$O add-flow "$MGMT" "in_port=3,ip,actions=meter:2,output:2" || fail "flow with meter 2"
af11=$(python3 - <<'EOF'
import struct
def csum(b):
    s = sum(struct.unpack("!10H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 10 << 2, 28, 7, 0, 64, 17, 0, bytes([10, 0, 0, 3]), bytes([10, 0, 0, 2]))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
udp = struct.pack("!HHHH", 5, 6, 8, 0)
f = bytes.fromhex("000000000002000000000003") + b"\x08\x00" + ip + udp
print((f + bytes(60 - len(f))).hex())
EOF
)
appctl netdev-dummy/dump-tx p2 >/dev/null
tx0=$(sl_tx_packets p2)
# shellcheck disable=SC2086
appctl netdev-dummy/receive p3 $(for _ in $(seq 20); do printf '%s ' "$af11"; done)
sl_wait_for sl_output_is $((tx0 + 20)) sl_tx_packets p2 ||
  fail "remark band must not drop: $(($(sl_tx_packets p2) - tx0)) sent"
appctl netdev-dummy/dump-tx p2 >"$SL_TMP/tx2"
[ "$(wc -l <"$SL_TMP/tx2")" -eq 20 ] || fail "remark band must not drop: $(wc -l <"$SL_TMP/tx2") sent"
python3 - "$SL_TMP/tx2" <<'EOF' || fail "dscp_remark"
import struct, sys
tos = {}
for line in open(sys.argv[1]):
    f = bytes.fromhex(line.strip())
    ip = f[14:34]
    s = sum(struct.unpack("!10H", ip))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    assert s == 0xFFFF, "bad IPv4 checksum in %s" % line
    tos[ip[1] >> 2] = tos.get(ip[1] >> 2, 0) + 1
print("DSCPs out:", tos)
# The burst (5) passes as AF11 (10), the rest exceeds the band: AF12 (12).
assert tos.get(10, 0) in (5, 6) and tos.get(12, 0) + tos.get(10, 0) == 20, tos
EOF
$O meter-stats "$MGMT" meter=2 | grep -q "^0: packet_count:1[45] " ||
  fail "meter 2 band count: $($O meter-stats "$MGMT" meter=2)"

# ---- deleting a meter deletes the flows that use it ----
$O del-meters "$MGMT" meter=1 || fail "del-meters"
$O --no-stats dump-flows "$MGMT" | grep -q "meter:1" && fail "flow of the deleted meter remains"
$O --no-stats dump-flows "$MGMT" | grep -q "meter:2" || fail "meter 2's flow went too"
$O add-flow "$MGMT" "in_port=1,actions=meter:1,output:2" 2>"$SL_TMP/err" &&
  fail "flow naming a deleted meter accepted"
grep -q "OFPMMFC_UNKNOWN_METER" "$SL_TMP/err" || fail "error: $(cat "$SL_TMP/err")"
sl_log "meters: OK"
