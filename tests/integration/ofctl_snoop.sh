#!/usr/bin/env bash
# <rundir>/<bridge>.snoop: the switch copies the OpenFlow traffic of its controller connection
# (both directions, echo included) to snoopers. Debian's ovs-ofctl snoop and sluice-ofctl snoop
# watch a small Python controller's exchange and print the same messages; without a controller
# the snoop connection is closed at once (as Open vSwitch does).
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovs-ofctl openvswitch-common
sl_start
appctl dpctl/add-if p1,type=dummy
appctl ofproto/add-br br0 00000000000000aa || fail "add-br"
[ -S "$SL_RUNDIR/br0.snoop" ] || fail "no snoop socket"
S="$BIN/sluice-ofctl --rundir $SL_RUNDIR"
O="env OVS_RUNDIR=$SL_TMP ovs-ofctl"

# No controller: the snooper is disconnected right away (ovs-ofctl fails to connect, too).
rc=0; timeout 5 $S snoop br0 >"$SL_TMP/none" 2>&1 || rc=$?
[ $rc = 1 ] && grep -q "br0.snoop" "$SL_TMP/none" || fail "snoop without controller: $rc $(cat "$SL_TMP/none")"
rc=0; timeout 5 $O snoop "unix:$SL_RUNDIR/br0.snoop" >"$SL_TMP/none" 2>&1 || rc=$?
[ $rc = 1 ] || fail "ovs-ofctl snoop without controller: $rc $(cat "$SL_TMP/none")"

PORT=$(sl_tcp_port)
# The controller: HELLO, then on a signal (file "go") ECHO_REQUEST, FEATURES_REQUEST, a flow-mod
# and a barrier; waits for the barrier reply and holds the connection until "done" exists.
cat >"$SL_TMP/ctl.py" <<'PY'
import os, socket, struct, sys, time
d, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(1); s.settimeout(60)
open(d + "/listening", "w").close()
c, _ = s.accept(); c.settimeout(30)
def recv_msg():
    hdr = b""
    while len(hdr) < 8: hdr += c.recv(8 - len(hdr))
    ln = struct.unpack("!H", hdr[2:4])[0]
    body = b""
    while len(body) < ln - 8: body += c.recv(ln - 8 - len(body))
    return hdr + body
recv_msg()                                                  # switch HELLO
c.sendall(struct.pack("!BBHI", 4, 0, 8, 1))                 # HELLO 1.3
open(d + "/connected", "w").close()
for _ in range(1200):
    if os.path.exists(d + "/go"): break
    time.sleep(0.05)
c.sendall(struct.pack("!BBHI", 4, 2, 12, 0x10) + b"ping")   # ECHO_REQUEST
c.sendall(struct.pack("!BBHI", 4, 5, 8, 0x11))              # FEATURES_REQUEST
# FLOW_MOD add, table 0, priority 7, match in_port=1, apply-actions output:1
match = struct.pack("!HHII", 1, 12, 0x80000004, 1) + b"\0" * 4      # OXM in_port=1
act = struct.pack("!HHIH6x", 0, 16, 1, 0xffff)
inst = struct.pack("!HH4x", 4, 8 + len(act)) + act
fm = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, 0, 0, 0, 7, 0xffffffff, 0xffffffff, 0xffffffff, 0) + match + inst
c.sendall(struct.pack("!BBHI", 4, 14, 8 + len(fm), 0x12) + fm)
c.sendall(struct.pack("!BBHI", 4, 20, 8, 0x13))             # BARRIER_REQUEST
while True:
    m = recv_msg()
    if m[1] == 21: break
open(d + "/replied", "w").close()
for _ in range(1200):
    if os.path.exists(d + "/done"): break
    time.sleep(0.05)
PY
python3 "$SL_TMP/ctl.py" "$SL_TMP" "$PORT" &
CTL=$!
SL_PIDS+=("$CTL")
sl_wait_for test -e "$SL_TMP/listening" || fail "controller did not listen"
appctl ofproto/set-controller br0 tcp:127.0.0.1:$PORT
sl_wait_for test -e "$SL_TMP/connected" || fail "controller not connected"
sl_bg stdbuf -oL $S snoop br0 >"$SL_TMP/mine" 2>&1
SN1=$SL_BG
# (ovs-ofctl offers OpenFlow 1.0 only unless told; the snoop speaks the controller's 1.3.)
sl_bg stdbuf -oL $O -O OpenFlow13 snoop "unix:$SL_RUNDIR/br0.snoop" >"$SL_TMP/theirs" 2>&1
SN2=$SL_BG
# Both snoopers attached to the controller connection (switchd logs each) before it talks.
sl_wait_for sl_output_is 2 grep -c "snooping on" "$SL_TMP/switchd.log" || fail "snoopers not attached"
touch "$SL_TMP/go"
sl_wait_for test -e "$SL_TMP/replied" || fail "controller got no barrier reply"
# The barrier reply reached both snoopers before they stop.
sl_wait_for grep -q "OFPT_BARRIER_REPLY" "$SL_TMP/mine" || fail "sluice-ofctl snoop missed the barrier reply"
sl_wait_for grep -q "OFPT_BARRIER_REPLY" "$SL_TMP/theirs" || fail "ovs-ofctl snoop missed the barrier reply"
sl_stop $SN1 $SN2
touch "$SL_TMP/done"
wait $CTL || fail "controller side"

for m in "OFPT_ECHO_REQUEST (OF1.3) (xid=0x10): 4 bytes of payload" \
  "OFPT_ECHO_REPLY (OF1.3) (xid=0x10): 4 bytes of payload" \
  "OFPT_FEATURES_REQUEST (OF1.3) (xid=0x11):" \
  "OFPT_FEATURES_REPLY (OF1.3) (xid=0x11): dpid:00000000000000aa" \
  "OFPT_FLOW_MOD (OF1.3) (xid=0x12): ADD priority=7,in_port=1 actions=output:1" \
  "OFPT_BARRIER_REQUEST (OF1.3) (xid=0x13):" "OFPT_BARRIER_REPLY (OF1.3) (xid=0x13):"; do
  grep -qxF "$m" "$SL_TMP/mine" || fail "sluice-ofctl snoop: no '$m'"
done
# Debian's ovs-ofctl snoop saw and printed the same.
diff <(grep -v "fatal_signal\|^$" "$SL_TMP/theirs") <(grep -v "^$" "$SL_TMP/mine") ||
  fail "ovs-ofctl snoop printed something else"
appctl ofproto/del-br br0
[ ! -e "$SL_RUNDIR/br0.snoop" ] || fail "snoop socket left behind"
echo PASS
