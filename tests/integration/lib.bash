# What every integration test shares: a private run directory, the checks that skip a test
# (exit 77) when it cannot run here, waiting for a condition instead of sleeping, starting the
# real daemons (sluice-switchd, sluice-ovsdb-server, Debian's ovsdb-server and ovs-vswitchd),
# namespaced hosts, and cleaning all of it up on exit.
# Usage: BIN=<dir with sluice-switchd>; source lib.bash; sl_start [switchd args...]
set -euo pipefail

BIN=${BIN:?BIN must point at the build directory}
SL_TMP=$(mktemp -d /tmp/sluice-it.XXXXXX)
SL_RUNDIR=$SL_TMP/run
SL_PID=""  # sluice-switchd (sl_start) or the sluice-ovsdb-server under test
SL_PIDS=() # other processes started by the test, stopped on exit
SL_NETNS=()
SL_LINKS=()
# How long sl_wait_for waits by default. Generous: a condition that holds returns at once, and
# a loaded machine (CI, other jobs on the cores) must not turn a slow start into a failure.
SL_WAIT_TIMEOUT=${SL_WAIT_TIMEOUT:-60}
# --timeout of the command-line clients (ovs-vsctl waiting for switchd to apply a change,
# ovs-ofctl and ovsdb-client transactions): likewise generous.
SL_CMD_TIMEOUT=${SL_CMD_TIMEOUT:-60}

sl_log() { echo "[$(date +%T)] $*" >&2; }
fail() { sl_log "FAIL: $*"; [ -f "$SL_TMP/switchd.log" ] && tail -30 "$SL_TMP/switchd.log" >&2; exit 1; }
# Not runnable here: says why and exits 77.
sl_skip() { echo "$*"; exit 77; }
sl_require_root() { [ "$(id -u)" -eq 0 ] || sl_skip "needs root"; }
# sl_require COMMAND PACKAGE: skip unless COMMAND (from Debian package PACKAGE) is installed.
sl_require() { command -v "$1" >/dev/null || sl_skip "$2 not installed"; }

# sl_wait_for [-t SECONDS] COMMAND [ARGS...]: runs COMMAND every 0.1 s until it succeeds (0) or
# SECONDS (default $SL_WAIT_TIMEOUT) have passed (1). Compose with the predicates below, e.g.
#   sl_wait_for test -S "$SOCK" || fail "no socket"
#   sl_wait_for -t 60 sl_output_is true $V get Controller "$C" is_connected || fail ...
sl_wait_for() {
  local timeout=$SL_WAIT_TIMEOUT
  if [ "$1" = -t ]; then timeout=$2; shift 2; fi
  local deadline=$((SECONDS + timeout))
  while :; do
    "$@" && return 0
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}
# Predicates for sl_wait_for.
sl_output_is() { local want=$1; shift; [ "$("$@" 2>/dev/null)" = "$want" ]; }
sl_output_has() { local re=$1; shift; "$@" 2>/dev/null | grep -Eq -- "$re"; }
sl_not() { ! "$@"; }
sl_dead() { ! kill -0 "$1" 2>/dev/null; }
sl_log_has() { grep -Eq -- "$1" "${2:-$SL_TMP/switchd.log}" 2>/dev/null; }
# TCP PORT is listening (in namespace NS when given).
sl_listening() {
  local port=$1 ns=${2:-}
  if [ -n "$ns" ]; then
    ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q .
  else
    ss -Hltn "sport = :$port" | grep -q .
  fi
}

# sl_tcp_port: a free TCP port for a test's listener, below the ephemeral range (32768 and up):
# a switch that keeps dialling a port in that range before anything listens there can be given
# that very port as its own source port and connect to itself, and the listener's bind fails.
sl_tcp_port() {
  local port
  for _ in $(seq 100); do
    port=$((20000 + RANDOM % 12000))
    ss -Htan "sport = :$port" | grep -q . || { echo "$port"; return 0; }
  done
  fail "no free TCP port"
}

# sl_ping_ready NS IP: waits until IP answers a ping from namespace NS (ports up, addresses
# resolved, the first megaflows in), so that the checks after it measure forwarding, not start-up.
sl_ping_ready() {
  sl_wait_for ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 ||
    fail "$2 does not answer from $1"
}

# sl_bg COMMAND [ARGS...]: starts COMMAND in the background, stopped on exit; its pid is in
# SL_BG (in the caller's shell: run sl_bg directly, not in $(...)).
SL_BG=""
sl_bg() {
  "$@" &
  SL_BG=$!
  SL_PIDS+=("$SL_BG")
}
# sl_stop PID...: SIGTERM, up to 5 s to exit, then SIGKILL; reaps it.
sl_stop() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    sl_wait_for -t 5 sl_dead "$pid" || kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

# Runs from the EXIT trap; a wrapping trap passes the exit status it saw as $1.
sl_cleanup() {
  local rc=${1:-$?}
  set +e
  local i
  for ((i = ${#SL_PIDS[@]} - 1; i >= 0; i--)); do sl_stop "${SL_PIDS[$i]}"; done
  [ -n "$SL_PID" ] && sl_stop "$SL_PID"
  for ns in "${SL_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
  for l in "${SL_LINKS[@]}"; do ip link del "$l" 2>/dev/null; done
  if [ $rc -ne 0 ] && [ -f "$SL_TMP/switchd.log" ]; then
    echo "---- switchd log (last 40 lines) ----" >&2; tail -40 "$SL_TMP/switchd.log" >&2
  fi
  rm -rf "$SL_TMP"
  exit $rc
}
trap sl_cleanup EXIT

# sl_start [ARGS...]: sluice-switchd in $SL_RUNDIR; returns once its control socket is there.
sl_start() {
  mkdir -p "$SL_RUNDIR"
  "$BIN/sluice-switchd" --rundir "$SL_RUNDIR" --log-file "$SL_TMP/switchd.log" "$@" \
    >"$SL_TMP/switchd.out" 2>&1 &
  SL_PID=$!
  # 120 s: DPDK start-up is slow on a loaded 2-core machine.
  sl_wait_for -t 120 sl_switchd_up || fail "switchd did not create its control socket"
}
sl_switchd_up() {
  [ -S "$SL_RUNDIR/sluice-switchd.ctl" ] && return 0
  if ! kill -0 "$SL_PID" 2>/dev/null; then
    # A --detach launcher exits 0 once the daemon has forked; anything else is a failure.
    local rc=0
    wait "$SL_PID" || rc=$?
    [ $rc -eq 0 ] || { cat "$SL_TMP/switchd.out" >&2; fail "switchd exited ($rc)"; }
  fi
  return 1
}
# sl_exit_switchd: appctl exit, and wait until the daemon is gone.
sl_exit_switchd() {
  appctl exit || true
  sl_wait_for sl_dead "$SL_PID" || fail "switchd did not exit"
  wait "$SL_PID" 2>/dev/null || true
  SL_PID=""
}

appctl() { "$BIN/sluice-appctl" -t "$SL_RUNDIR/sluice-switchd.ctl" "$@"; }

# sl_sluice_ovsdb_server DB SOCK: sluice-ovsdb-server on DB serving punix:SOCK (as SL_PID, its
# log where switchd's would be); returns once SOCK is there.
sl_sluice_ovsdb_server() {
  local db=$1 sock=$2
  rm -f "$sock"
  "$BIN/sluice-ovsdb-server" "$db" --remote "punix:$sock" --rundir "$SL_TMP" \
    --log-file "$SL_TMP/switchd.log" >>"$SL_TMP/db.out" 2>&1 &
  SL_PID=$!
  sl_wait_for sl_server_up "$sock" || fail "sluice-ovsdb-server did not open $sock"
}
sl_server_up() {
  [ -S "$1" ] && return 0
  kill -0 "$SL_PID" 2>/dev/null || { tail -20 "$SL_TMP/db.out" >&2; fail "sluice-ovsdb-server exited"; }
  return 1
}

# sl_ovsdb_server DIR: Debian's ovsdb-server on DIR/conf.db (created with the upstream schema),
# serving punix:DIR/db.sock; returns once the socket is there.
sl_ovsdb_server() {
  local dir=$1
  mkdir -p "$dir"
  ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  sl_bg ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/ovsdb.pid" \
    --unixctl="$dir/ovsdb.ctl" --log-file="$dir/ovsdb.log" -vconsole:off
  sl_wait_for test -S "$dir/db.sock" || fail "Debian's ovsdb-server did not start"
}

# sl_ovs_vswitchd SOCK [ARGS...]: Debian's ovs-vswitchd following the database at unix:SOCK
# (with ARGS, e.g. --enable-dummy=override), its files in $SL_OVS_DIR; `ovs_appctl` talks to it.
SL_OVS_DIR=$SL_TMP/ovs
sl_ovs_vswitchd() {
  local sock=$1
  shift
  mkdir -p "$SL_OVS_DIR"
  export OVS_RUNDIR=$SL_OVS_DIR OVS_LOGDIR=$SL_OVS_DIR OVS_DBDIR=$SL_OVS_DIR
  export OVS_SYSCONFDIR=$SL_OVS_DIR
  sl_bg ovs-vswitchd "unix:$sock" --pidfile="$SL_OVS_DIR/vswitchd.pid" \
    --unixctl="$SL_OVS_DIR/vswitchd.ctl" --log-file="$SL_OVS_DIR/vswitchd.log" -vconsole:off "$@"
  sl_wait_for test -S "$SL_OVS_DIR/vswitchd.ctl" || fail "Debian's ovs-vswitchd did not start"
}
ovs_appctl() { ovs-appctl -t "$SL_OVS_DIR/vswitchd.ctl" "$@"; }

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
  ethtool -K "$sw_if" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$ns" ethtool -K eth0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
}

# sl_tcp_copy FROM_NS TO_NS TO_IP PORT FILE: sends FILE over TCP from one namespace host to the
# other (the receiver listening before the sender starts) and checks it arrived intact.
sl_tcp_copy() {
  local from=$1 to=$2 ip=$3 port=$4 file=$5
  ip netns exec "$to" sh -c "timeout 60 nc -l $port > $file.recv" &
  local rx=$!
  sl_wait_for sl_listening "$port" "$to" || fail "nc did not listen on $port in $to"
  ip netns exec "$from" sh -c "timeout 60 nc -N -w 10 $ip $port < $file" || fail "nc send"
  wait $rx || true
  cmp "$file" "$file.recv" || fail "TCP transfer corrupted ($(stat -c %s "$file.recv") bytes)"
}

# sl_ping_start NS IP: pings IP from namespace NS every 50 ms, in rounds of 20 that each wait
# for their replies (up to 12 s), until sl_ping_stop; then SL_PING_SENT and SL_PING_LOST say how
# it went. Stopping never cuts a round short, so a reply still in flight is not counted as lost,
# and a reply late on a loaded machine is not either.
sl_ping_start() {
  rm -f "$SL_TMP/ping.stop"
  sl_bg bash -c 'while [ ! -e "$3" ]; do ip netns exec "$1" ping -q -c 20 -i 0.05 -w 12 "$2"; done' \
    _ "$1" "$2" "$SL_TMP/ping.stop" >"$SL_TMP/ping.log" 2>&1
  SL_PING_PID=$SL_BG
}
# shellcheck disable=SC2034  # SL_PING_SENT and SL_PING_LOST are for the caller
sl_ping_stop() {
  touch "$SL_TMP/ping.stop"
  wait "$SL_PING_PID" || true
  SL_PING_SENT=$(awk '/packets transmitted/ {n += $1} END {print n + 0}' "$SL_TMP/ping.log")
  SL_PING_LOST=$(awk '/packets transmitted/ {n += $1 - $4} END {print n + 0}' "$SL_TMP/ping.log")
}

# Packets datapath port NAME has sent (dpctl/show -s).
sl_tx_packets() {
  appctl dpctl/show -s | awk -v p=": $1 (" 'index($0, p) {f = 1; next}
    f && /TX packets:/ {sub(/.*TX packets:/, ""); print $1 + 0; exit}'
}

# Field from pmd-stats-show: sl_pmd_stat "misses"
sl_pmd_stat() { appctl dpif-netdev/pmd-stats-show | awk -F': ' -v k="  $1" '$1==k {s+=$2} END {print s+0}'; }
