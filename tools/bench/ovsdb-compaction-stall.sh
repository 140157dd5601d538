#!/usr/bin/env bash
# How long compacting a ~1 GB log holds up transactions (tools/bench/ovsdb_compaction_stall.py):
# a fresh sluice-ovsdb-server (and, with OVS=1, Debian's ovsdb-server after it) is loaded with
# ROWS (300000) ~1 KB rows and churned until its log reaches LOG_MB (1024) MiB; then a probe
# client commits small transactions back to back while ovsdb-server/compact runs, and the
# probe's worst round trip is the stall. Servers on SERVER_CPU, clients on HARNESS_CPU.
#   tools/bench/ovsdb-compaction-stall.sh [BUILD_DIR]
# Env: ROWS=300000 LOG_MB=1024 OVS=0 SERVER_CPU=0 HARNESS_CPU=1 KEEP=1
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
HARNESS_CPU=${HARNESS_CPU:-1}
. "$HERE/ovsdb_servers.sh"
ovsdb_servers_init "$BUILD"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
ovsdb_servers_start c "$HERE/bench.ovsschema"
run() {  # NAME SOCK CTL DBFILE
  echo "== $1"
  timeout -k 5 3600 taskset -c "$HARNESS_CPU" python3 "$HERE/ovsdb_compaction_stall.py" \
    --sock "$2" --ctl "$3" --db-file "$4" --rows "${ROWS:-300000}" --log-mb "${LOG_MB:-1024}"
}
run sluice "$SLUICE_SOCK_c" "$TMP/run-c/sluice-ovsdb-server.ctl" "$TMP/sluice-c.db"
grep -h "compacted" "$TMP/sluice-c.log" | tail -n 3 || true
if [ "${OVS:-0}" = 1 ]; then
  run ovs "$OVS_SOCK_c" "$TMP/ovs-c.ctl" "$TMP/ovs-c.db"
fi
ovsdb_servers_note
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ovsdb_servers_stop c
