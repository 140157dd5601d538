#!/usr/bin/env bash
# sluice-switchd's embedded configuration database: created with its root row on first start,
# served on <rundir>/db.sock (and extra --remote), used by Debian's ovs-vsctl and ovsdb-client,
# and kept across restarts.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovs-vsctl openvswitch-switch
sl_start --remote ptcp:0:127.0.0.1
SOCK=$SL_RUNDIR/db.sock
sl_wait_for test -S "$SOCK" || fail "no $SOCK"
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SOCK --no-wait"
ovsdb-client --timeout=$SL_CMD_TIMEOUT list-dbs "unix:$SOCK" | grep -qx Open_vSwitch || fail "list-dbs"
# The root row exists without `ovs-vsctl init`.
$V get Open_vSwitch . next_cfg >/dev/null || fail "no root row"
$V add-br br0 -- set Bridge br0 fail_mode=secure || fail "add-br"
$V add-port br0 vnet0 -- set Interface vnet0 "external-ids:attached-mac=\"52:54:00:aa:bb:cc\"" || fail "add-port"
$V show | tee "$SL_TMP/show"
grep -q 'Port vnet0' "$SL_TMP/show" || fail "show lacks vnet0"
appctl ovsdb-server/list-dbs | grep -qx Open_vSwitch || fail "ovsdb-server/list-dbs"
appctl ovsdb-server/compact || fail "compact"
[ -s "$SL_RUNDIR/conf.db" ] || fail "no conf.db"

# Restart on the same rundir: the configuration is still there.
sl_exit_switchd
sl_start
sl_wait_for test -S "$SOCK" || fail "no $SOCK after the restart"
[ "$($V get Interface vnet0 external_ids:attached-mac)" = '"52:54:00:aa:bb:cc"' ] || fail "lost config across restart"
[ "$($V get Bridge br0 fail_mode)" = secure ] || fail "lost fail_mode"
echo PASS
