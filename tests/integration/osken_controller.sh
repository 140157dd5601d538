#!/usr/bin/env bash
# A real controller: os-ken (Debian's osken-manager) running a MAC-learning app connects to a
# secure-mode bridge; four namespaced hosts ping each other and move an 8 MiB TCP transfer with
# verified content. Packet-ins reach the controller only until it has learned: once every pair
# has talked, more traffic causes none, because the flows it installed are in the datapath.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
[ -x /usr/bin/osken-manager ] || sl_skip "python3-os-ken not installed"

S=$$
PORT=$(sl_tcp_port)
for i in 1 2 3 4; do sl_host "sl-k$i-$S" "k$i-$S" "10.0.0.$i/24"; done
sl_start
for i in 1 2 3 4; do appctl dpctl/add-if "k$i-$S" || fail "add-if"; done
appctl ofproto/add-br br0 000000000000000c secure || fail "add-br"
export OSKEN_PKTIN_LOG=$SL_TMP/pktin.log
: > "$OSKEN_PKTIN_LOG"
sl_bg /usr/bin/osken-manager --ofp-tcp-listen-port "$PORT" "$(dirname "$0")/osken_l2_switch.py" \
  > "$SL_TMP/osken.log" 2>&1
# os-ken takes a while to start: point the bridge at it once it listens.
sl_wait_for -t 120 sl_listening "$PORT" || fail "os-ken does not listen: $(cat "$SL_TMP/osken.log")"
appctl ofproto/set-controller br0 "tcp:127.0.0.1:$PORT"
sl_wait_for sl_output_has " connected" appctl ofproto/show-controllers br0 ||
  fail "controller did not connect: $(cat $SL_TMP/osken.log)"
# The app installs its table-miss flow on the features reply.
sl_wait_for sl_output_has "priority=0 actions=CONTROLLER" \
  ovs-ofctl -O OpenFlow13 dump-flows "unix:$SL_RUNDIR/br0.mgmt" || fail "no table-miss flow"

ns() { ip netns exec "sl-k$1-$S" "${@:2}"; }
for a in 1 2 3 4; do
  for b in 1 2 3 4; do
    [ $a = $b ] && continue
    sl_ping_ready "sl-k$a-$S" "10.0.0.$b"
    ns $a ping -c 2 -i 0.2 -W 2 "10.0.0.$b" >/dev/null || fail "ping $a -> $b"
  done
done
head -c 8388608 /dev/urandom > "$SL_TMP/blob"
sl_tcp_copy "sl-k1-$S" "sl-k4-$S" 10.0.0.4 5001 "$SL_TMP/blob"
# Only frames between the hosts count: the kernel may still send an IPv6 router solicitation
# (33:33:..) from link setup, which is a new destination each time.
pktins() { grep -vc ' 33:33:\| 01:00:5e:' "$OSKEN_PKTIN_LOG" || true; }
learned=$(pktins)
sl_log "8 MiB transfer verified; $learned packet-ins while learning"
[ "$learned" -gt 0 ] || fail "the controller saw no packet-in"
# Everything is learned now: more traffic between the same hosts raises no packet-in.
for a in 1 2 3 4; do
  for b in 1 2 3 4; do
    [ $a = $b ] && continue
    ns $a ping -c 3 -i 0.1 -W 2 "10.0.0.$b" >/dev/null || fail "second ping $a -> $b"
  done
done
after=$(pktins)
[ "$after" -eq "$learned" ] || fail "packet-ins after learning: $learned -> $after: $(tail -n +$((learned + 1)) "$OSKEN_PKTIN_LOG")"
ovs-ofctl -O OpenFlow13 dump-flows "unix:$SL_RUNDIR/br0.mgmt" | tee "$SL_TMP/flows"
[ "$(grep -c 'priority=1,' "$SL_TMP/flows")" -ge 12 ] || fail "controller flows missing"
sl_log "osken_controller: all checks passed"
