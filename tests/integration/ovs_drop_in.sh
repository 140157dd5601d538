#!/usr/bin/env bash
# Drop-in mode (sluice-switchd --ovs-drop-in): Debian's ovs-vsctl, ovs-ofctl and ovs-appctl
# work against Sluice without any --db or -t option, on Open vSwitch's default paths; libvirt's
# add-port transaction works; a running Open vSwitch daemon (Debian's ovsdb-server) or a second
# switch makes it refuse with a clear message; stale pidfiles and sockets are taken over; and
# nothing is left in the directory afterwards. Runs in a private mount namespace with a tmpfs
# over /var/run/openvswitch, so an Open vSwitch installed on the host is never touched.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
sl_require ovs-vsctl openvswitch-switch
OVS_DIR=/run/openvswitch  # /var/run is /run on Debian
if [ -z "${SL_DROP_IN_NS:-}" ]; then
  # The mount point must exist on the host; create it only if missing, and remove it after.
  created=0
  [ -d $OVS_DIR ] || { mkdir -p $OVS_DIR && created=1; }
  rc=0
  SL_DROP_IN_NS=1 unshare --mount --propagation private bash "$0" "$@" || rc=$?
  [ $created -eq 1 ] && rmdir $OVS_DIR 2>/dev/null
  exit $rc
fi

mount -t tmpfs -o mode=0755 sluice-test $OVS_DIR
unset OVS_RUNDIR OVS_DBDIR
[ "$(readlink -f /var/run/openvswitch)" = $OVS_DIR ] || fail "/var/run/openvswitch is not $OVS_DIR"

# ---- Open vSwitch running there: refused, naming it ------------------------------------------
ovsdb-tool create "$SL_TMP/ovs.db" /usr/share/openvswitch/vswitch.ovsschema ||
  fail "create a database for Open vSwitch's ovsdb-server"
ovsdb-server "$SL_TMP/ovs.db" --remote=punix:$OVS_DIR/db.sock --pidfile \
  --log-file="$SL_TMP/ovsdb-server.log" --detach ||
  fail "Debian's ovsdb-server did not start"
OVS_PID=$(cat $OVS_DIR/ovsdb-server.pid)
out=$("$BIN/sluice-switchd" --rundir "$SL_TMP/refused" --ovs-drop-in 2>&1) &&
  fail "drop-in started while Open vSwitch's ovsdb-server runs"
grep -q "ovsdb-server is running in /var/run/openvswitch (pid $OVS_PID" <<<"$out" ||
  fail "refusal does not name ovsdb-server: $out"
grep -q "systemctl stop openvswitch-switch" <<<"$out" || fail "refusal gives no remedy: $out"
[ -e "$SL_TMP/refused/conf.db" ] && fail "a refused switch created its database"

# Killed without cleaning up: its pidfile (now unlocked) and db.sock (nobody listening) are stale.
kill -9 "$OVS_PID"
sl_wait_for sl_dead "$OVS_PID" || fail "ovsdb-server survived SIGKILL"
[ -e $OVS_DIR/ovsdb-server.pid ] && [ -S $OVS_DIR/db.sock ] || fail "no stale files to take over"

# A socket of Open vSwitch's that answers, with no pidfile (a daemon started without --pidfile).
sl_bg python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1); time.sleep(300)' \
  $OVS_DIR/br-live.mgmt
LISTENER=$SL_BG
sl_wait_for test -S $OVS_DIR/br-live.mgmt || fail "no listener on br-live.mgmt"
out=$("$BIN/sluice-switchd" --rundir "$SL_TMP/refused" --ovs-drop-in 2>&1) &&
  fail "drop-in started while $OVS_DIR/br-live.mgmt answers"
grep -q "br-live.mgmt is served by a running process" <<<"$out" || fail "refusal: $out"
sl_stop $LISTENER
rm -f $OVS_DIR/br-live.mgmt

# ---- Sluice in drop-in mode --------------------------------------------------------------------
sl_start --ovs-drop-in
sl_wait_for test -S $OVS_DIR/db.sock || fail "no $OVS_DIR/db.sock"
[ "$(cat $OVS_DIR/ovs-vswitchd.pid)" = "$SL_PID" ] || fail "ovs-vswitchd.pid is not Sluice's"
[ -S $OVS_DIR/ovs-vswitchd.$SL_PID.ctl ] || fail "no ovs-vswitchd.$SL_PID.ctl"
[ "$(cat $OVS_DIR/ovsdb-server.pid)" = "$SL_PID" ] || fail "stale ovsdb-server.pid not replaced"

BR=brdi$$
ovs-vsctl --timeout=$SL_CMD_TIMEOUT add-br $BR || fail "ovs-vsctl add-br without --db"
ovs-vsctl show | grep -q "Bridge $BR" || fail "ovs-vsctl show: $(ovs-vsctl show)"
# libvirt's transaction for a VM's interface (virNetDevOpenvswitchAddPort), on a veth standing
# in for the VM's tap.
VNET=vnet$$
ip link add $VNET type veth peer name ${VNET}p; SL_LINKS+=($VNET)
ip link set $VNET up
ovs-vsctl --timeout=$SL_CMD_TIMEOUT -- --if-exists del-port $VNET -- add-port $BR $VNET \
  -- set Interface $VNET "external-ids:attached-mac=\"52:54:00:12:34:56\"" \
  -- set Interface $VNET "external-ids:iface-id=\"0d4a6c9e-4b4c-4b6e-9d2e-1b1f0a0c1a11\"" \
  -- set Interface $VNET "external-ids:vm-id=\"7b7c3a5e-1f2d-4e4a-8b9c-2d3e4f5a6b7c\"" \
  -- set Interface $VNET external-ids:iface-status=active || fail "libvirt's add-port"
ofport=$(ovs-vsctl get Interface $VNET ofport)
[ "$ofport" -ge 1 ] 2>/dev/null || fail "ofport of $VNET: $ofport"
[ "$(ovs-vsctl get Interface $VNET external-ids:vm-id)" = '"7b7c3a5e-1f2d-4e4a-8b9c-2d3e4f5a6b7c"' ] ||
  fail "external-ids:vm-id"

# ovs-ofctl on <rundir>/<bridge>.mgmt, in its default version (OpenFlow 1.0) and 1.3.
ovs-ofctl add-flow $BR "priority=50,in_port=$ofport,actions=drop" || fail "ovs-ofctl add-flow"
ovs-ofctl dump-flows $BR | grep -q "priority=50,in_port=$ofport actions=drop" ||
  fail "ovs-ofctl dump-flows: $(ovs-ofctl dump-flows $BR)"
ovs-ofctl -O OpenFlow13 dump-ports-desc $BR | grep -q "($VNET)" || fail "ovs-ofctl dump-ports-desc"
[ -S $OVS_DIR/$BR.snoop ] || fail "no $BR.snoop"

# ovs-appctl's default target (ovs-vswitchd) and -t ovsdb-server, through the pidfiles.
ovs-appctl version | grep -q "sluice-switchd (Sluice)" || fail "ovs-appctl version: $(ovs-appctl version)"
ovs-appctl dpctl/show | grep -q "$VNET" || fail "ovs-appctl dpctl/show"
ovs-appctl -t ovsdb-server ovsdb-server/list-dbs | grep -qx Open_vSwitch ||
  fail "ovs-appctl -t ovsdb-server ovsdb-server/list-dbs"
# Sluice's own paths keep working.
"$BIN/sluice-vsctl" --db=unix:$SL_RUNDIR/db.sock br-exists $BR || fail "Sluice's db.sock"

# A second switch in drop-in mode is refused, naming the first.
out=$("$BIN/sluice-switchd" --rundir "$SL_TMP/second" --ovs-drop-in 2>&1) &&
  fail "a second drop-in switch started"
grep -q "ovs-vswitchd is running in /var/run/openvswitch (pid $SL_PID, sluice-switchd" <<<"$out" ||
  fail "second switch's refusal: $out"

# A bridge that goes takes its sockets along.
ovs-vsctl --timeout=$SL_CMD_TIMEOUT del-br $BR || fail "ovs-vsctl del-br"
[ -e $OVS_DIR/$BR.mgmt ] && fail "$BR.mgmt left after del-br"

# ovs-appctl exit stops Sluice; nothing of it is left in the directory (only the unixctl socket
# the killed ovsdb-server left, which is not Sluice's to remove).
ovs-appctl exit || fail "ovs-appctl exit"
sl_wait_for sl_dead "$SL_PID" || fail "switchd still running after ovs-appctl exit"
left=$(ls -A $OVS_DIR)
[ "$left" = "ovsdb-server.$OVS_PID.ctl" ] || fail "left in $OVS_DIR: $left"
echo "ovs_drop_in: PASS"
