#!/usr/bin/env bash
# Debian's ovs-ofctl against a bridge's management socket (<rundir>/<bridge>.mgmt): version
# negotiation, features, port descriptions, switch description, port statistics, and explicit
# OpenFlow errors for what the switch does not implement yet; a controller connection.
BIN=$1
source "$(dirname "$0")/lib.bash"
command -v ovs-ofctl >/dev/null || { echo "openvswitch-common not installed"; exit 77; }
sl_start
appctl dpctl/add-if p1,type=dummy
appctl dpctl/add-if p2,type=dummy
appctl ofproto/add-br br0 00000000000000aa || fail "add-br"
if appctl ofproto/add-br br0 2>/dev/null; then fail "duplicate bridge accepted"; fi
MGMT=unix:$SL_RUNDIR/br0.mgmt
O="ovs-ofctl -O OpenFlow13 --timeout=10"
$O show "$MGMT" | tee "$SL_TMP/show"
grep -q "dpid:00000000000000aa" "$SL_TMP/show" || fail "dpid"
grep -q "n_tables:254" "$SL_TMP/show" || fail "n_tables"
grep -q " 1(p1)" "$SL_TMP/show" || fail "port p1"
grep -q " 2(p2)" "$SL_TMP/show" || fail "port p2"
grep -q "LOCAL(br0)" "$SL_TMP/show" || fail "LOCAL port"
$O dump-desc "$MGMT" | grep -q "Sluice" || fail "dump-desc"
appctl netdev-dummy/receive p1 "$(python3 "$(dirname "$0")/pkt.py" udp 00:00:00:00:00:01 00:00:00:00:00:02 10.0.0.1 10.0.0.2 1 2)"
sleep 0.3
$O dump-ports "$MGMT" 1 | tee "$SL_TMP/ports"
grep -q "rx pkts=1" "$SL_TMP/ports" || fail "port stats"
$O dump-ports-desc "$MGMT" | grep -q "p2" || fail "dump-ports-desc"
$O get-frags "$MGMT" | grep -q normal || fail "get-frags (get-config)"
# Not implemented yet: an explicit OpenFlow error, and the connection still works afterwards.
if $O add-flow "$MGMT" "in_port=1,actions=output:2" 2>"$SL_TMP/err"; then fail "add-flow pretended to work"; fi
# (ovs-ofctl first asks for table features, which are answered with OFPBRC_BAD_MULTIPART.)
grep -q "00 01 00 02\|BAD_MULTIPART\|BAD_TYPE" "$SL_TMP/err" || fail "add-flow error: $(cat $SL_TMP/err)"
# OpenFlow 1.0 is not spoken yet: negotiation fails cleanly.
if ovs-ofctl --timeout=5 show "$MGMT" 2>"$SL_TMP/err10"; then fail "OpenFlow 1.0 pretended to work"; fi
grep -qi "version" "$SL_TMP/err10" || fail "1.0 error: $(cat $SL_TMP/err10)"
$O show "$MGMT" >/dev/null || fail "switch unusable after errors"

# An active controller connection with reconnect: a listener started after the switch dials.
appctl ofproto/set-controller br0 tcp:127.0.0.1:16653
python3 - "$SL_TMP" <<'PY' &
import socket, struct, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 16653)); s.listen(1); s.settimeout(20)
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
