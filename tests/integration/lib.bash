# Helpers for integration tests: start the real daemon in a private run directory, talk to it,
# and clean everything up on exit (daemon, namespaces, veths).
# Usage: source lib.bash; BIN=<dir with sluice-switchd>; sl_start [switchd args...]
set -euo pipefail

BIN=${BIN:?BIN must point at the build directory}
SL_TMP=$(mktemp -d /tmp/sluice-it.XXXXXX)
SL_RUNDIR=$SL_TMP/run
SL_PID=""
SL_NETNS=()
SL_LINKS=()

sl_log() { echo "[$(date +%T)] $*" >&2; }
fail() { sl_log "FAIL: $*"; [ -f "$SL_TMP/switchd.log" ] && tail -30 "$SL_TMP/switchd.log" >&2; exit 1; }

# Runs from the EXIT trap; a wrapping trap passes the exit status it saw as $1.
sl_cleanup() {
  local rc=${1:-$?}
  if [ -n "$SL_PID" ] && kill -0 "$SL_PID" 2>/dev/null; then
    kill "$SL_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SL_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SL_PID" 2>/dev/null || true
  fi
  for ns in "${SL_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  for l in "${SL_LINKS[@]}"; do ip link del "$l" 2>/dev/null || true; done
  if [ $rc -ne 0 ] && [ -f "$SL_TMP/switchd.log" ]; then
    echo "---- switchd log (last 40 lines) ----" >&2; tail -40 "$SL_TMP/switchd.log" >&2
  fi
  rm -rf "$SL_TMP"
  exit $rc
}
trap sl_cleanup EXIT

sl_start() {
  mkdir -p "$SL_RUNDIR"
  "$BIN/sluice-switchd" --rundir "$SL_RUNDIR" --log-file "$SL_TMP/switchd.log" "$@" \
    >"$SL_TMP/switchd.out" 2>&1 &
  SL_PID=$!
  for _ in $(seq 300); do  # 30 s: DPDK start-up is slow on a loaded 2-core machine
    [ -S "$SL_RUNDIR/sluice-switchd.ctl" ] && return 0
    if ! kill -0 "$SL_PID" 2>/dev/null; then
      # A --detach launcher exits 0 once the daemon has forked; anything else is a failure.
      local rc=0
      wait "$SL_PID" || rc=$?
      [ $rc -eq 0 ] || { cat "$SL_TMP/switchd.out" >&2; fail "switchd exited ($rc)"; }
    fi
    sleep 0.1
  done
  fail "switchd did not create its control socket"
}

appctl() { "$BIN/sluice-appctl" -t "$SL_RUNDIR/sluice-switchd.ctl" "$@"; }

# A namespace "host" attached by a veth pair: sl_host NS IFACE_ON_SWITCH IP/PREFIX
sl_host() {
  local ns=$1 sw_if=$2 addr=$3
  ip netns add "$ns"; SL_NETNS+=("$ns")
  ip link add "$sw_if" type veth peer name eth0 netns "$ns"; SL_LINKS+=("$sw_if")
  ip link set "$sw_if" up
  ip -n "$ns" addr add "$addr" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  # Packets cross a userspace switch: no segmentation or checksum offload on the path.
  for dev in "$sw_if"; do ethtool -K "$dev" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true; done
  ip netns exec "$ns" ethtool -K eth0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
}

# Field from pmd-stats-show: sl_pmd_stat "misses"
sl_pmd_stat() { appctl dpif-netdev/pmd-stats-show | awk -F': ' -v k="  $1" '$1==k {s+=$2} END {print s+0}'; }
