#!/usr/bin/env bash
# sluice-ovsdb-server driven by Debian's real Open vSwitch clients (ovsdb-client, ovs-vsctl)
# with the upstream vswitch schema; data survives a restart.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovs-vsctl openvswitch-common
run_suite() {
  SCHEMA=$1
  rm -f "$SL_TMP/conf.db" "$SL_TMP/conf.db.lock"
  DB=$SL_TMP/conf.db
  SOCK=$SL_TMP/db.sock
  "$BIN/sluice-ovsdb-tool" create "$DB" "$SCHEMA" || fail "ovsdb-tool create"
  [ "$("$BIN/sluice-ovsdb-tool" db-name "$DB")" = Open_vSwitch ] || fail "db-name"

  sl_sluice_ovsdb_server "$DB" "$SOCK"
  C="ovsdb-client --timeout=$SL_CMD_TIMEOUT"
  V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SOCK --no-wait"

  $C list-dbs "unix:$SOCK" > "$SL_TMP/dbs" || fail "list-dbs"
  grep -qx Open_vSwitch "$SL_TMP/dbs" || fail "list-dbs lacks Open_vSwitch: $(cat $SL_TMP/dbs)"
  grep -qx _Server "$SL_TMP/dbs" || fail "list-dbs lacks _Server"
  $C get-schema "unix:$SOCK" Open_vSwitch | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["name"]=="Open_vSwitch" and "Bridge" in s["tables"]' || fail "get-schema"
  $C list-tables "unix:$SOCK" Open_vSwitch | grep -q "^Bridge" || fail "list-tables"
  $C list-columns "unix:$SOCK" Open_vSwitch Bridge | grep -q "fail_mode" || fail "list-columns"

  # A monitor sees what ovs-vsctl does (or, if it starts late, the result in its first dump).
  sl_bg stdbuf -oL ovsdb-client monitor "unix:$SOCK" Open_vSwitch Bridge name,fail_mode > "$SL_TMP/monitor" 2>&1
  MON=$SL_BG

  $V init || fail "vsctl init"
  $V add-br br0 || fail "add-br"
  $V add-port br0 p1 -- set Interface p1 type=internal || fail "add-port"
  $V add-port br0 p2 tag=10 || fail "add-port tag"
  $V set Bridge br0 fail_mode=secure other_config:datapath-id=0000000000000001 || fail "set"
  [ "$($V get Bridge br0 fail_mode)" = secure ] || fail "get"
  $V list-br | grep -qx br0 || fail "list-br"
  [ "$($V list-ports br0 | tr '\n' ' ')" = "p1 p2 " ] || fail "list-ports: $($V list-ports br0)"
  $V find Port tag=10 | grep -q 'name *: p2$' || fail "find"
  $V --columns=name,type list Interface p1 | grep -q internal || fail "list columns"
  $V show | grep -q 'Bridge br0' || fail "show"
  $V remove Bridge br0 other_config datapath-id || fail "remove"
  $V clear Port p2 tag || fail "clear"
  if $V add-br br0 2>"$SL_TMP/err"; then fail "duplicate add-br succeeded"; fi
  grep -q "already exists" "$SL_TMP/err" || fail "duplicate add-br message: $(cat $SL_TMP/err)"
  q=$($V create Queue other_config:min-rate=1000) || fail "create"
  $V list Queue "$q" | grep -q "min-rate" || fail "created row"
  $V destroy Queue "$q" || fail "destroy"
  if $V list Queue "$q" 2>/dev/null; then fail "destroy left the row"; fi
  $V add-br br1 || fail "add-br br1"
  $V del-br br1 || fail "del-br"
  $V list Port | grep -c '^_uuid' | grep -qx 3 || fail "del-br did not remove br1's port (GC)"

  sl_wait_for grep -q "secure" "$SL_TMP/monitor" || fail "monitor missed the fail_mode change: $(cat $SL_TMP/monitor)"
  grep -q "br0" "$SL_TMP/monitor" || fail "monitor saw nothing: $(cat $SL_TMP/monitor)"
  sl_stop $MON

  # Errors come back as errors, and the server goes on.
  if $C transact "unix:$SOCK" '["Open_vSwitch",{"op":"insert","table":"Nope","row":{}}]' > "$SL_TMP/txn" 2>&1; then :; fi
  grep -qi "error" "$SL_TMP/txn" || fail "bad transaction not reported: $(cat $SL_TMP/txn)"
  $C dump "unix:$SOCK" Open_vSwitch > "$SL_TMP/dump" || fail "dump"
  grep -q "br0" "$SL_TMP/dump" || fail "dump lacks br0"

  # Restart: everything committed is still there.
  sl_stop "$SL_PID"
  sl_sluice_ovsdb_server "$DB" "$SOCK"
  [ "$($V list-ports br0 | tr '\n' ' ')" = "p1 p2 " ] || fail "ports lost across restart"
  "$BIN/sluice-ovsdb-tool" show-log "$DB" | head -3
  sl_stop "$SL_PID"
  SL_PID=""
  sl_log "suite passed with $SCHEMA"
}

run_suite /usr/share/openvswitch/vswitch.ovsschema
run_suite "$(dirname "$0")/../../ovsdb/schemas/vswitch.ovsschema"
echo PASS
