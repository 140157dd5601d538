#!/usr/bin/env bash
# Side-by-side OVSDB server benchmark: Debian's ovsdb-server vs sluice-ovsdb-server, same
# schema (tools/bench/bench.ovsschema), same workloads (tools/bench/ovsdb_bench.py), one run.
#   tools/bench/ovsdb-bench.sh [BUILD_DIR] [ovsdb_bench.py options...]
# Both servers are pinned to SERVER_CPU (default 0) with taskset, one after the other (they
# are idle while the other is measured); the harness runs on HARNESS_CPU (default 1).
# Env: OVSDB_SERVER=/usr/sbin/ovsdb-server OVSDB_TOOL=/usr/bin/ovsdb-tool SERVER_CPU=0
#      HARNESS_CPU=1 KEEP=1 (keep the temp dir, for the logs)
set -euo pipefail
BUILD=build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then BUILD=$1; shift; fi
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
OVSDB_SERVER=${OVSDB_SERVER:-/usr/sbin/ovsdb-server}
OVSDB_TOOL=${OVSDB_TOOL:-/usr/bin/ovsdb-tool}
SERVER_CPU=${SERVER_CPU:-0} HARNESS_CPU=${HARNESS_CPU:-1}
SCHEMA=$HERE/bench.ovsschema
for f in "$OVSDB_SERVER" "$OVSDB_TOOL" "$BUILD/sluice-ovsdb-server" "$BUILD/sluice-ovsdb-tool"; do
  [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/sluice-ovsdb-bench.XXXXXX)
OVS_PID= SLUICE_PID=
cleanup() {
  local rc=$?
  for p in $OVS_PID $SLUICE_PID; do kill "$p" 2>/dev/null || true; done
  for p in $OVS_PID $SLUICE_PID; do wait "$p" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for l in "$TMP"/*.log "$TMP"/*.out; do
      [ -s "$l" ] && { echo "--- tail $l" >&2; tail -n 20 "$l" >&2; }
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$OVSDB_TOOL" create "$TMP/ovs.db" "$SCHEMA"
"$BUILD/sluice-ovsdb-tool" create "$TMP/sluice.db" "$SCHEMA"

taskset -c "$SERVER_CPU" "$OVSDB_SERVER" --remote="punix:$TMP/ovs.sock" --no-chdir \
  --pidfile="$TMP/ovs.pid" --unixctl="$TMP/ovs.ctl" --log-file="$TMP/ovs.log" \
  "$TMP/ovs.db" >"$TMP/ovs.out" 2>&1 &
OVS_PID=$!
taskset -c "$SERVER_CPU" "$BUILD/sluice-ovsdb-server" "$TMP/sluice.db" \
  --remote "punix:$TMP/sluice.sock" --rundir "$TMP" --log-file "$TMP/sluice.log" \
  >"$TMP/sluice.out" 2>&1 &
SLUICE_PID=$!

wait_sock() {  # SOCK PID NAME
  for _ in $(seq 100); do
    [ -S "$1" ] && return 0
    kill -0 "$2" 2>/dev/null || { echo "$3 exited during startup" >&2; return 1; }
    sleep 0.05
  done
  echo "$3: no socket $1 after 5 s" >&2
  return 1
}
wait_sock "$TMP/ovs.sock" "$OVS_PID" ovsdb-server
wait_sock "$TMP/sluice.sock" "$SLUICE_PID" sluice-ovsdb-server

OVS_VER=$("$OVSDB_SERVER" --version | head -n 1)
# The whole run is bounded: every workload has its own limit (--limit, default 40 s per
# server), and this timeout stops a wedged harness.
timeout -k 5 170 taskset -c "$HARNESS_CPU" python3 "$HERE/ovsdb_bench.py" \
  --server "ovs=$TMP/ovs.sock" --server "sluice=$TMP/sluice.sock" \
  --note "servers: taskset -c $SERVER_CPU (both on the same CPU, run one at a time); harness: taskset -c $HARNESS_CPU; $(nproc) CPUs" \
  --note "ovs: $OVS_VER ($OVSDB_SERVER); sluice: $BUILD/sluice-ovsdb-server" \
  --note "databases in $TMP (fresh, schema $(basename "$SCHEMA")); no fsync per commit on either (no durable commit op)" \
  "$@"
# Servers still alive after the run (a crash would show up as a failed workload too).
kill -0 "$OVS_PID" && kill -0 "$SLUICE_PID"
