#!/usr/bin/env bash
# Scale check with the real client: Debian's ovs-vsctl --no-wait adds VSCTL_PORTS (10000) ports
# with external_ids to one bridge on Debian's ovsdb-server and on sluice-ovsdb-server (fresh
# databases of Open vSwitch's vswitch schema, servers pinned to SERVER_CPU, ovs-vsctl to
# HARNESS_CPU), one port per invocation, then VSCTL_BATCH (100) per invocation. Prints total
# time and the time of the last 100 ports side by side (tools/bench/ovsdb_vsctl_scale.py).
#   tools/bench/ovsdb-vsctl-scale.sh [BUILD_DIR]
# Env: VSCTL_PORTS=10000 VSCTL_BATCH=100 VSCTL_SCHEMA=/usr/share/openvswitch/vswitch.ovsschema
#      SERVER_CPU=0 HARNESS_CPU=1 KEEP=1
set -euo pipefail
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
HARNESS_CPU=${HARNESS_CPU:-1}
PORTS=${VSCTL_PORTS:-10000}
BATCH=${VSCTL_BATCH:-100}
SCHEMA=${VSCTL_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
command -v ovs-vsctl >/dev/null || { echo "ovs-vsctl not installed (scripts/setup)" >&2; exit 1; }
. "$HERE/ovsdb_servers.sh"
ovsdb_servers_init "$BUILD"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

for batch in 1 "$BATCH"; do
  ovsdb_servers_start "v$batch" "$SCHEMA"
  eval "ovs=\$OVS_SOCK_v$batch sluice=\$SLUICE_SOCK_v$batch"
  taskset -c "$HARNESS_CPU" python3 "$HERE/ovsdb_vsctl_scale.py" \
    --server "ovs=$ovs" --server "sluice=$sluice" --ports "$PORTS" --batch "$batch" \
    --note "$(ovsdb_servers_note)" --note "schema $SCHEMA; $(ovs-vsctl --version | head -n 1)"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  ovsdb_servers_stop "v$batch"
done
