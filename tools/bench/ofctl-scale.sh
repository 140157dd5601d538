#!/usr/bin/env bash
# Flow-table scale, side by side with Open vSwitch: time to add N flows from a file through the
# management connection (ovs-ofctl add-flows, one pipelined batch), and resident memory per flow.
#   tools/bench/ofctl-scale.sh [BUILD_DIR] [N=100000] [BIG=1000000]
# Sluice: sluice-switchd with a secure harness bridge; OVS: Debian's ovsdb-server + ovs-vswitchd
# (netdev datapath, no DPDK) in a temp dir. BIG flows are then loaded into Sluice alone.
set -euo pipefail
BIN=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
N=${2:-100000}
BIG=${3:-1000000}
T=$(mktemp -d /tmp/sluice-scale.XXXXXX)
cleanup() {
  [ -n "${SW:-}" ] && kill "$SW" 2>/dev/null || true
  if [ -f "$T/ovs/ovs-vswitchd.pid" ]; then kill "$(cat "$T/ovs/ovs-vswitchd.pid")" 2>/dev/null || true; fi
  if [ -f "$T/ovs/ovsdb-server.pid" ]; then kill "$(cat "$T/ovs/ovsdb-server.pid")" 2>/dev/null || true; fi
  sleep 0.5
  rm -rf "$T"
}
trap cleanup EXIT
gen() {  # N FILE: distinct 5-tuple-ish flows in table 0
  python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write("priority=%d,tcp,nw_src=10.%d.%d.%d,tp_dst=%d,actions=output:1\n"
                % (100 + i % 1000, (i >> 16) & 255, (i >> 8) & 255, i & 255, 1 + i % 60000))
PY
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
gen "$N" "$T/flows"

mkdir -p "$T/run"
"$BIN/sluice-switchd" --rundir "$T/run" --log-file "$T/sw.log" >/dev/null 2>&1 &
SW=$!
for _ in $(seq 100); do [ -S "$T/run/sluice-switchd.ctl" ] && break; sleep 0.1; done
"$BIN/sluice-appctl" -t "$T/run/sluice-switchd.ctl" ofproto/add-br br0 1 secure
sleep 0.5
r0=$(rss_kb $SW)
s0=$(date +%s.%N)
ovs-ofctl -O OpenFlow13 add-flows "unix:$T/run/br0.mgmt" "$T/flows"
s1=$(date +%s.%N)
r1=$(rss_kb $SW)
n_sl=$(ovs-ofctl -O OpenFlow13 dump-aggregate "unix:$T/run/br0.mgmt" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
s2=$(date +%s.%N)
"$BIN/sluice-ofctl" --rundir "$T/run" del-flows br0
"$BIN/sluice-ofctl" --rundir "$T/run" add-flows br0 "$T/flows"
s3=$(date +%s.%N)

mkdir -p "$T/ovs"
ovsdb-tool create "$T/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server "$T/ovs/conf.db" --remote="punix:$T/ovs/db.sock" --pidfile="$T/ovs/ovsdb-server.pid" \
  --unixctl="$T/ovs/ovsdb-server.ctl" --detach --log-file="$T/ovs/ovsdb-server.log"
ovs-vsctl --db="unix:$T/ovs/db.sock" --no-wait init
OVS_RUNDIR=$T/ovs ovs-vswitchd "unix:$T/ovs/db.sock" --pidfile="$T/ovs/ovs-vswitchd.pid" \
  --unixctl="$T/ovs/ovs-vswitchd.ctl" --detach --log-file="$T/ovs/ovs-vswitchd.log"
ovs-vsctl --db="unix:$T/ovs/db.sock" --timeout=20 add-br scl -- set bridge scl datapath_type=netdev \
  fail_mode=secure
OPID=$(cat "$T/ovs/ovs-vswitchd.pid")
sleep 0.5
o0=$(rss_kb "$OPID")
t0=$(date +%s.%N)
ovs-ofctl -O OpenFlow13 add-flows "unix:$T/ovs/scl.mgmt" "$T/flows"
t1=$(date +%s.%N)
o1=$(rss_kb "$OPID")
n_ovs=$(ovs-ofctl -O OpenFlow13 dump-aggregate "unix:$T/ovs/scl.mgmt" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')

awk -v n="$N" -v a="$s0" -v b="$s1" -v c="$s2" -v d="$s3" -v e="$t0" -v f="$t1" \
    -v r0="$r0" -v r1="$r1" -v o0="$o0" -v o1="$o1" -v nsl="$n_sl" -v novs="$n_ovs" 'BEGIN {
  printf "add-flows of %d flows (ovs-ofctl -O OpenFlow13 add-flows FILE):\n", n
  printf "  sluice (ovs-ofctl):    %6.2f s  %8.0f flows/s  (%s flows in table)  %5.0f bytes/flow RSS\n", b-a, n/(b-a), nsl, (r1-r0)*1024/n
  printf "  sluice (sluice-ofctl): %6.2f s  %8.0f flows/s\n", d-c, n/(d-c)
  printf "  open vswitch 3.1:      %6.2f s  %8.0f flows/s  (%s flows in table)  %5.0f bytes/flow RSS\n", f-e, n/(f-e), novs, (o1-o0)*1024/n
  printf "  ratio sluice/ovs (time): %.2f\n", (b-a)/(f-e)
}'

if [ "$BIG" -gt 0 ]; then
  gen "$BIG" "$T/big"
  "$BIN/sluice-ofctl" --rundir "$T/run" del-flows br0
  sleep 0.5
  r0=$(rss_kb $SW)
  b0=$(date +%s.%N)
  "$BIN/sluice-ofctl" --rundir "$T/run" add-flows br0 "$T/big"
  b1=$(date +%s.%N)
  r1=$(rss_kb $SW)
  nb=$(ovs-ofctl -O OpenFlow13 dump-aggregate "unix:$T/run/br0.mgmt" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p')
  awk -v n="$BIG" -v a="$b0" -v b="$b1" -v r0="$r0" -v r1="$r1" -v nb="$nb" 'BEGIN {
    printf "%d flows in one table (sluice-ofctl add-flows): %.2f s, %.0f flows/s, %s in table, %.0f bytes/flow RSS\n", n, b-a, n/(b-a), nb, (r1-r0)*1024/n }'
fi
