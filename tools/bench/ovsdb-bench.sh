#!/usr/bin/env bash
# Side-by-side OVSDB server benchmark: Debian's ovsdb-server vs sluice-ovsdb-server, same
# schema (tools/bench/bench.ovsschema), same workloads (tools/bench/ovsdb_bench.py), one run.
#   tools/bench/ovsdb-bench.sh [BUILD_DIR] [ovsdb_bench.py options...]
# 1. Workloads 1a, 1b, 2, 3 (see ovsdb_bench.py) on one pair of fresh servers.
# 2. Memory per row: a second pair of fresh servers loaded with MEM_ROWS Child rows
#    (default 100000,1000000; MEM_ROWS= skips it).
# 3. With VSCTL_PORTS=N (default 0: skipped, it takes a while): ovs-vsctl adding N ports with
#    external_ids to one bridge, one per invocation and VSCTL_BATCH (100) per invocation, on
#    fresh servers of Open vSwitch's vswitch schema (tools/bench/ovsdb-vsctl-scale.sh).
# Both servers are pinned to SERVER_CPU (default 0) with taskset (they are idle while the other
# is measured); the harness runs on HARNESS_CPU (default 1).
# Env: OVSDB_SERVER=/usr/sbin/ovsdb-server OVSDB_TOOL=/usr/bin/ovsdb-tool SERVER_CPU=0
#      HARNESS_CPU=1 MEM_ROWS=100000,1000000 VSCTL_PORTS=0 KEEP=1 (keep the temp dir)
set -euo pipefail
BUILD=build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then BUILD=$1; shift; fi
HERE=$(cd "$(dirname "$0")" && pwd)
HARNESS_CPU=${HARNESS_CPU:-1}
MEM_ROWS=${MEM_ROWS-100000,1000000}
VSCTL_PORTS=${VSCTL_PORTS:-0}
. "$HERE/ovsdb_servers.sh"
ovsdb_servers_init "$BUILD"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

ovsdb_servers_start w "$HERE/bench.ovsschema"
# The whole phase is bounded: every workload has its own limit (--limit, default 40 s per
# server), and this timeout stops a wedged harness.
timeout -k 5 170 taskset -c "$HARNESS_CPU" python3 "$HERE/ovsdb_bench.py" \
  --server "ovs=$OVS_SOCK_w" --server "sluice=$SLUICE_SOCK_w" \
  --note "$(ovsdb_servers_note)" \
  --note "databases in $TMP (fresh, schema bench.ovsschema); no fsync per commit on either (no durable commit op)" \
  "$@"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ovsdb_servers_stop w

if [ -n "$MEM_ROWS" ]; then
  ovsdb_servers_start m "$HERE/bench.ovsschema"
  timeout -k 5 600 taskset -c "$HARNESS_CPU" python3 "$HERE/ovsdb_bench.py" \
    --server "ovs=$OVS_SOCK_m" --server "sluice=$SLUICE_SOCK_m" \
    --pid "ovs=$OVS_PID_m" --pid "sluice=$SLUICE_PID_m" --mem-rows "$MEM_ROWS" --limit 300 \
    --note "memory: VmRSS of each server process (fresh databases; RSS includes what malloc keeps)"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  ovsdb_servers_stop m
fi

if [ "$VSCTL_PORTS" -gt 0 ]; then
  "$HERE/ovsdb-vsctl-scale.sh" "$BUILD"
fi
