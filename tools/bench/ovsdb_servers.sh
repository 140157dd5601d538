# Sourced by the OVSDB benchmarks: starts Debian's ovsdb-server and sluice-ovsdb-server side by
# side on fresh databases of one schema, pinned to SERVER_CPU, and stops them on exit.
#   ovsdb_servers_init BUILD_DIR         checks the binaries, makes $TMP, installs the traps
#   ovsdb_servers_start TAG SCHEMA       starts a pair; sets OVS_SOCK_<TAG>, SLUICE_SOCK_<TAG>,
#                                        OVS_PID_<TAG>, SLUICE_PID_<TAG>
#   ovsdb_servers_stop TAG               stops a pair (checking both are still alive)
# Env: OVSDB_SERVER=/usr/sbin/ovsdb-server OVSDB_TOOL=/usr/bin/ovsdb-tool SERVER_CPU=0
#      KEEP=1 (keep the temp dir, for the logs)

ovsdb_servers_init() {
  BUILD=$(cd "$1" && pwd)
  OVSDB_SERVER=${OVSDB_SERVER:-/usr/sbin/ovsdb-server}
  OVSDB_TOOL=${OVSDB_TOOL:-/usr/bin/ovsdb-tool}
  SERVER_CPU=${SERVER_CPU:-0}
  for f in "$OVSDB_SERVER" "$OVSDB_TOOL" "$BUILD/sluice-ovsdb-server" "$BUILD/sluice-ovsdb-tool"; do
    [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
  done
  TMP=$(mktemp -d /tmp/sluice-ovsdb-bench.XXXXXX)
  SERVER_PIDS=
  trap ovsdb_servers_cleanup EXIT
  trap 'exit 130' INT TERM
}

ovsdb_servers_cleanup() {
  local rc=$?
  for p in $SERVER_PIDS; do kill "$p" 2>/dev/null || true; done
  for p in $SERVER_PIDS; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for l in "$TMP"/*.log "$TMP"/*.out; do
      [ -s "$l" ] && { echo "--- tail $l" >&2; tail -n 20 "$l" >&2; }
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}

ovsdb_wait_sock() {  # SOCK PID NAME
  for _ in $(seq 200); do
    [ -S "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited during startup" >&2; return 1; }
    sleep 0.05
  done
  echo "$3: no socket $1 after 10 s" >&2
  return 1
}

ovsdb_servers_start() {  # TAG SCHEMA
  local tag=$1 schema=$2 ovs sluice
  "$OVSDB_TOOL" create "$TMP/ovs-$tag.db" "$schema"
  "$BUILD/sluice-ovsdb-tool" create "$TMP/sluice-$tag.db" "$schema"
  taskset -c "$SERVER_CPU" "$OVSDB_SERVER" --remote="punix:$TMP/ovs-$tag.sock" --no-chdir \
    --pidfile="$TMP/ovs-$tag.pid" --unixctl="$TMP/ovs-$tag.ctl" --log-file="$TMP/ovs-$tag.log" \
    "$TMP/ovs-$tag.db" >"$TMP/ovs-$tag.out" 2>&1 &
  ovs=$!
  mkdir -p "$TMP/run-$tag"
  taskset -c "$SERVER_CPU" "$BUILD/sluice-ovsdb-server" "$TMP/sluice-$tag.db" \
    --remote "punix:$TMP/sluice-$tag.sock" --rundir "$TMP/run-$tag" \
    --log-file "$TMP/sluice-$tag.log" >"$TMP/sluice-$tag.out" 2>&1 &
  sluice=$!
  SERVER_PIDS="$SERVER_PIDS $ovs $sluice"
  ovsdb_wait_sock "$TMP/ovs-$tag.sock" $ovs ovsdb-server
  ovsdb_wait_sock "$TMP/sluice-$tag.sock" $sluice sluice-ovsdb-server
  eval "OVS_SOCK_$tag=$TMP/ovs-$tag.sock SLUICE_SOCK_$tag=$TMP/sluice-$tag.sock"
  eval "OVS_PID_$tag=$ovs SLUICE_PID_$tag=$sluice"
}

ovsdb_servers_stop() {  # TAG
  local ovs sluice
  eval "ovs=\$OVS_PID_$1 sluice=\$SLUICE_PID_$1"
  # Both must have survived their workloads (a crash also shows up as a failed workload).
  kill -0 "$ovs" && kill -0 "$sluice"
  kill "$ovs" "$sluice"
  wait "$ovs" "$sluice" 2>/dev/null || true
}

ovsdb_servers_note() {
  echo "servers: taskset -c $SERVER_CPU (both on the same CPU); harness: taskset -c" \
    "${HARNESS_CPU:-1}; $(nproc) CPUs; load average before: $LOAD_BEFORE"
  echo "ovs: $("$OVSDB_SERVER" --version | head -n 1) ($OVSDB_SERVER);" \
    "sluice: $BUILD/sluice-ovsdb-server ($(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo '?'))"
}
