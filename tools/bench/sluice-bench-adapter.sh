#!/bin/bash
# Sluice as the third system ("newsw") of ../shared/bench (contract: its README, "Adding a third
# system"). Usage:
#   BN_SYSTEMS="testpmd ovs newsw" BN_NEWSW_CMD=$PWD/tools/bench/sluice-bench-adapter.sh \
#     ../shared/bench/run-baselines.sh
# Starts sluice-switchd with the harness's EAL arguments (PMD on CPU 1, control on CPU 0) and
# configures it as an operator would: sluice-vsctl for the bridge and dpdk ports (dpdk-devargs,
# ofport_request), sluice-ofctl add-flows for flows.txt, sluice-appctl fdb/add for fdb.txt. The
# source port is added last, so everything is in place before its first rx burst. On SIGTERM it
# writes BN_METRIC lines (megaflows, EMC/megaflow hit %, upcalls) to SPECDIR/diag.txt.
set -u
SPEC=${1:?usage: sluice-bench-adapter.sh SPECDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${SLUICE_BIN:-$HERE/../../build}
W=$(mktemp -d /tmp/sluice-bench.XXXXXX)
log() { echo "[sluice-adapter] $*" >&2; }
scen=$(cat "$SPEC/scenario")
case $scen in s4|s5) log "scenario $scen needs tunnel ports, which Sluice does not have yet"; exit 1 ;; esac
mapfile -t EAL < "$SPEC/eal.args"
npkts=$(cat "$SPEC/pcap.npkts" 2>/dev/null || echo 0)
nmbufs=$((npkts + 65536))

"$BIN/sluice-switchd" --rundir "$W" --log-file "$W/switchd.log" --dpdk "${EAL[*]}" \
  --pmd-cores 1 --n-mbufs "$nmbufs" &
SWPID=$!
APPCTL=("$BIN/sluice-appctl" -t "$W/sluice-switchd.ctl")
diag() {
  local stats flows
  stats=$("${APPCTL[@]}" dpif-netdev/pmd-stats-show 2>/dev/null)
  flows=$("${APPCTL[@]}" dpctl/dump-flows 2>/dev/null | grep -c actions)
  echo "$stats" | awk -v f="$flows" -F': ' '
    /packets received/ {p+=$2} /simple match hits/ {s+=$2} /emc hits/ {e+=$2}
    /megaflow hits/ {m+=$2}
    /misses queued/ {u+=$2}
    END { if (p == 0) p = 1;
          printf "BN_METRIC megaflows=%d simple_pct=%.1f emc_pct=%.1f megaflow_pct=%.1f upcalls=%d\n",
                 f, 100*s/p, 100*e/p, 100*m/p, u }' > "$SPEC/diag.txt"
  "${APPCTL[@]}" coverage/show >> "$W/coverage.txt" 2>/dev/null
}
stop() {
  trap - TERM INT
  diag
  kill -TERM "$SWPID" 2>/dev/null
  wait "$SWPID" 2>/dev/null
  rm -rf "$W"
  exit 0
}
trap stop TERM INT
for _ in $(seq 200); do [ -S "$W/db.sock" ] && [ -S "$W/sluice-switchd.ctl" ] && break; sleep 0.1; done
[ -S "$W/db.sock" ] || { log "switchd did not start: $(tail -5 "$W/switchd.log")"; exit 1; }
VSCTL=("$BIN/sluice-vsctl" --db="unix:$W/db.sock" --timeout=30)
OFCTL=("$BIN/sluice-ofctl" --rundir "$W")

"${VSCTL[@]}" add-br br0 -- set Bridge br0 fail_mode=secure \
  other-config:datapath-id=0000000000000b01 || { log "add-br failed"; exit 1; }
# The bridge's internal port has no role here: keep the host stack off it, or its IPv6 router
# solicitations reach the sink (NORMAL floods them) before the source starts, and the harness
# would begin measuring too early.
ip link set br0 down 2>/dev/null
add_port() {  # OFPORT DEVNAME DEVARGS
  "${VSCTL[@]}" add-port br0 "p$1" -- set Interface "p$1" type=dpdk \
    "options:dpdk-devargs=$3" "ofport_request=$1" || { log "add-port p$1 failed"; exit 1; }
}
# Sinks first; flows and FDB; the source last.
while read -r ofport dev args role; do
  [ -n "$ofport" ] && [ "$role" != source ] && add_port "$ofport" "$dev" "$args"
done < "$SPEC/ports.conf"
"${OFCTL[@]}" add-flows br0 "$SPEC/flows.txt" || { log "add-flows failed"; exit 1; }
if [ -f "$SPEC/fdb.txt" ]; then
  while read -r ofport mac; do
    [ -n "$ofport" ] && "${APPCTL[@]}" fdb/add br0 "p$ofport" 0 "$mac" >/dev/null
  done < "$SPEC/fdb.txt"
fi
while read -r ofport dev args role; do
  [ -n "$ofport" ] && [ "$role" = source ] && add_port "$ofport" "$dev" "$args"
done < "$SPEC/ports.conf"
log "ready: scenario $scen, $(wc -l < "$SPEC/flows.txt") flows"
wait "$SWPID"
log "sluice-switchd exited"
exit 1
