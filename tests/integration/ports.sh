#!/usr/bin/env bash
# Port kinds and port churn: an `internal` port (a kernel tap the daemon creates and configures
# through libnl) reachable from a namespaced host; ports added and removed while traffic flows
# on other ports without loss; --detach/--pidfile.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
S=$$
H1=ph1-$S H2=ph2-$S INT=pint-$S
sl_host "sl-pns1-$S" "$H1" 10.0.1.1/24
sl_host "sl-pns2-$S" "$H2" 10.0.1.2/24
sl_start --detach --pidfile "$SL_TMP/switchd.pid"
# With --detach the launcher returns at once; the daemon's pid is in the pidfile.
sl_wait_for test -s "$SL_TMP/switchd.pid" || fail "no pidfile"
SL_PID=$(cat "$SL_TMP/switchd.pid")
kill -0 "$SL_PID" || fail "detached daemon not running"

appctl dpctl/add-if "$H1" "$H2"
appctl dpctl/add-if "$INT,type=internal,mac=02:00:00:00:aa:01,mtu=1400" || fail "internal port"
SL_LINKS+=("$INT")
ip link show "$INT" > "$SL_TMP/link" || fail "internal port has no kernel interface"
grep -q "02:00:00:00:aa:01" "$SL_TMP/link" || fail "MAC not set: $(cat $SL_TMP/link)"
grep -q "mtu 1400" "$SL_TMP/link" || fail "MTU not set"
grep -q "UP" "$SL_TMP/link" || fail "internal port not up"
ip addr add 10.0.1.254/24 dev "$INT"
ethtool -K "$INT" tx off tso off gso off >/dev/null 2>&1 || true

# Flood ARP and IPv4 between all three ports by destination.
appctl dpctl/add-flow "in_port(1),eth(),eth_type(0x0806)" 2,3
appctl dpctl/add-flow "in_port(2),eth(),eth_type(0x0806)" 1,3
appctl dpctl/add-flow "in_port(3),eth(),eth_type(0x0806)" 1,2
for src in 1 2 3; do
  for dst in 1 2 254; do
    case $dst in 1) out=1 ;; 2) out=2 ;; 254) out=3 ;; esac
    [ "$out" = "$src" ] && continue
    appctl dpctl/add-flow "in_port($src),eth(),eth_type(0x0800),ipv4(dst=10.0.1.$dst,frag=no)" $out
  done
done
sl_ping_ready "sl-pns1-$S" 10.0.1.254
ip netns exec "sl-pns1-$S" ping -c 3 -i 0.2 -W 2 10.0.1.254 || fail "ping to the internal port"

# Churn: 100 port add/del cycles of unrelated ports while ns1 pings ns2 every 20 ms.
sl_ping_ready "sl-pns1-$S" 10.0.1.2
ip netns exec "sl-pns1-$S" ping -c 2 -W 1 10.0.1.2 >/dev/null || fail "warm-up ping"
ip netns exec "sl-pns1-$S" ping -i 0.02 -c 400 -w 60 10.0.1.2 > "$SL_TMP/ping" 2>&1 &
PING=$!
for i in $(seq 1 100); do
  appctl dpctl/add-if "churn$i,type=dummy" >/dev/null
  appctl dpctl/del-if "churn$i" >/dev/null
done
wait $PING || true
cat "$SL_TMP/ping" | tail -3
grep -q " 0% packet loss" "$SL_TMP/ping" || fail "loss during port churn: $(grep loss $SL_TMP/ping)"

# Deleting the internal port removes the kernel interface.
appctl dpctl/del-if "$INT"
sl_wait_for sl_not ip link show "$INT" 2>/dev/null || fail "internal port's tap survived del-if"
echo PASS
