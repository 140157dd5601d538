#!/usr/bin/env bash
# sluice-vsctl against sluice-ovsdb-server (Sluice's schema): every command, its output and exit
# status; the same command sequence run by Debian's ovs-vsctl against Debian's ovsdb-server
# (upstream schema) must print the same (modulo UUIDs and the order ovs-vsctl gives rows);
# waiting for cur_cfg, --timeout, and sluice-vsctl on switchd's embedded database.
BIN=$1
source "$(dirname "$0")/lib.bash"
[ -x "$BIN/sluice-vsctl" ] || sl_skip "sluice-vsctl not built"
HERE=$(cd "$(dirname "$0")" && pwd)

# ---- servers ------------------------------------------------------------------------------
SOCK=$SL_TMP/db.sock
"$BIN/sluice-ovsdb-tool" create "$SL_TMP/conf.db" "$HERE/../../ovsdb/schemas/vswitch.ovsschema" \
  || fail "ovsdb-tool create"
sl_sluice_ovsdb_server "$SL_TMP/conf.db" "$SOCK"

HAVE_REF=0
if command -v ovs-vsctl >/dev/null && command -v ovsdb-server >/dev/null &&
   [ -f /usr/share/openvswitch/vswitch.ovsschema ]; then
  HAVE_REF=1
  REF=$SL_TMP/ref
  sl_ovsdb_server "$REF"
else
  sl_log "Debian ovs-vsctl/ovsdb-server not installed: comparison skipped"
fi

S() { "$BIN/sluice-vsctl" --db="unix:$SOCK" --timeout="$SL_CMD_TIMEOUT" --no-wait "$@"; }
R() { ovs-vsctl --db="unix:$REF/db.sock" --timeout="$SL_CMD_TIMEOUT" --no-wait "$@"; }

# UUIDs -> <uuid>; ovs-vsctl's program name -> ours; timestamps of log lines dropped.
norm() {
  sed -E 's/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/<uuid>/g;
          s/^ovs-vsctl: /sluice-vsctl: /; s/^[0-9T:-]+Z\|[0-9]+\|/LOG|/'
}
# Canonical `show`: siblings sorted recursively (ovs-vsctl prints rows in UUID order).
canon_show() {
  python3 -c '
import sys
lines=[l.rstrip("\n") for l in sys.stdin if l.strip()]
def parse(i, depth):
    out=[]
    while i < len(lines):
        d=(len(lines[i])-len(lines[i].lstrip(" ")))//4
        if d < depth: break
        node=[lines[i], []]; i+=1
        node[1], i = parse(i, depth+1)
        out.append(node)
    return out, i
def emit(nodes):
    res=[]
    for text, kids in sorted(nodes, key=lambda n: (n[0], emit(n[1]))):
        res.append(text); res.extend(emit(kids))
    return res
tree,_=parse(0,0)
print("\n".join(emit(tree)))'
}
# Canonical list/find output: records sorted.
canon_records() {
  python3 -c '
import sys
recs=sys.stdin.read().split("\n\n")
print("\n\n".join(sorted(r.strip("\n") for r in recs if r.strip())))'
}

N_CHECKS=0
N_COMPARED=0
# expect STATUS EXPECTED_STDOUT -- ARGS...: runs sluice-vsctl and checks status and stdout.
expect() {
  local want_rc=$1 want_out=$2; shift 3
  local out rc=0
  out=$(S "$@" 2>"$SL_TMP/err") || rc=$?
  [ "$rc" = "$want_rc" ] || fail "sluice-vsctl $*: status $rc, wanted $want_rc ($(cat "$SL_TMP/err"))"
  [ "$out" = "$want_out" ] || fail "sluice-vsctl $*: printed [$out], wanted [$want_out]"
  N_CHECKS=$((N_CHECKS + 1))
}
# expect_err MESSAGE ARGS...: fails with status 1 and exactly MESSAGE on stderr.
expect_err() {
  local msg=$1; shift
  local rc=0
  S "$@" >/dev/null 2>"$SL_TMP/err" || rc=$?
  [ "$rc" = 1 ] || fail "sluice-vsctl $*: status $rc, wanted 1"
  [ "$(cat "$SL_TMP/err")" = "sluice-vsctl: $msg" ] ||
    fail "sluice-vsctl $*: stderr [$(cat "$SL_TMP/err")], wanted [sluice-vsctl: $msg]"
  N_CHECKS=$((N_CHECKS + 1))
}
# both [--show|--records] ARGS...: the same command through both tools; same status, same
# normalised stdout and stderr.
both() {
  local mode=plain
  case "$1" in --show) mode=show; shift ;; --records) mode=records; shift ;; esac
  local so se sr=0 ro re rr=0
  so=$(S "$@" 2>"$SL_TMP/s.err") || sr=$?
  se=$(norm <"$SL_TMP/s.err")
  if [ $HAVE_REF = 0 ]; then
    return $sr
  fi
  ro=$(R "$@" 2>"$SL_TMP/r.err") || rr=$?
  re=$(norm <"$SL_TMP/r.err")
  case $mode in
    show) so=$(norm <<<"$so" | canon_show); ro=$(norm <<<"$ro" | canon_show) ;;
    records) so=$(norm <<<"$so" | canon_records); ro=$(norm <<<"$ro" | canon_records) ;;
    *) so=$(norm <<<"$so"); ro=$(norm <<<"$ro") ;;
  esac
  if [ "$sr" != "$rr" ] || [ "$so" != "$ro" ] || [ "$se" != "$re" ]; then
    diff <(echo "status $sr"; echo "$so"; echo "$se") <(echo "status $rr"; echo "$ro"; echo "$re") >&2 || true
    fail "sluice-vsctl and ovs-vsctl differ on: $*"
  fi
  N_COMPARED=$((N_COMPARED + 1))
  return $sr
}

# ---- the command sequence, through both tools -----------------------------------------------
both init
both add-br br0
both add-br br1
both add-port br0 p1 tag=10 -- set Interface p1 type=internal
both add-port br0 p2 trunks=1,2,3 vlan_mode=trunk
both add-br fb br0 20
both add-port fb p3
both add-bond br0 bond0 e1 e2 lacp=active
both --fake-iface add-bond br1 bond1 e3 e4
both set-controller br0 tcp:127.0.0.1:6653
both set-controller br1 tcp:10.0.0.1:6653 ptcp:6634
both set-fail-mode br0 secure
both set-manager ptcp:6640
both set Open_vSwitch . ovs_version=3.1.0 external_ids:system-id=host1
both set Interface e1 error=boom bfd_status:state=up
# libvirt's way of adding a VM port.
both --timeout=5 -- --may-exist add-port br0 vnet0 -- set Interface vnet0 \
  "external-ids:attached-mac=\"52:54:00:aa:bb:cc\"" -- set Interface vnet0 \
  "external-ids:iface-id=\"abc\"" -- set Interface vnet0 "external-ids:vm-id=\"def\"" \
  -- set Interface vnet0 "external-ids:iface-status=active"
both --may-exist add-port br0 vnet0
both --show show
both list-br
both --real list-br
both --fake list-br
both list-ports br0
both list-ports fb
both list-ports br1
both list-ifaces br0
both list-ifaces br1
both br-to-vlan fb
both br-to-vlan br0
both br-to-parent fb
both br-to-parent br1
both port-to-br p3
both port-to-br p1
both iface-to-br e2
both get-controller br0
both get-controller br1
both get-controller fb
both get-fail-mode br0
both get-fail-mode fb
both get-manager
both br-set-external-id br0 owner me
both br-set-external-id fb owner you
both br-get-external-id br0
both br-get-external-id fb
both br-get-external-id fb owner
both get Port fb external_ids
both br-exists br0
both br-exists fb
both br-exists nobr || true
both get Interface vnet0 external_ids:attached-mac external_ids:iface-id
both get Interface vnet0 external_ids name type
both get Port p2 trunks vlan_mode tag
both get Bridge br0 fail_mode
both get Open_vSwitch . ovs_version external_ids:system-id
both --if-exists get Bridge br0 other_config:nokey
both list Interface vnet0
both list Port p2
both list Bridge br0
both --columns=name,tag,trunks list Port p1 p2 p3
both --bare --columns=name,trunks list Port p2 p1
both --format=table --columns=name,tag,trunks,external_ids list Port p1 p2 p3
both --format=table --no-headings --columns=name,tag list Port p1
both --format=csv --columns=name,tag,trunks,other_config list Port p1 p2
both --format=csv --columns=name,options,external_ids list Interface vnet0
both --format=json --columns=name,tag,trunks list Port p1 p2
both --format=json --columns=external_ids,name,ofport list Interface vnet0
both --data=bare --columns=trunks list Port p2
both --oneline list-br -- list-ports br0 -- br-to-vlan fb
both --records --columns=name find Port tag=20
both --records --columns=name find Port 'tag>=10' 'tag<=15'
both --records --columns=name find Port 'trunks{>=}[1,2]'
both --records --columns=name find Port tag!=20
both --records --columns=name find Interface 'external_ids:iface-id="abc"'
both --records --columns=name find Port trunks=[]
both --records --columns=target list Controller
both --records --columns=name list Port
both --records --columns=target,is_connected list Manager
both set Bridge br0 flood_vlans=1-3,7 stp_enable=true other_config:hwaddr=\"00:11:22:33:44:55\"
both get Bridge br0 flood_vlans stp_enable other_config
both set Bridge br0 external_ids=a=b
both add Bridge br0 other_config x=1 y=2
both add Bridge br0 other_config x=3
both get Bridge br0 other_config
both remove Bridge br0 other_config x y=2
both remove Bridge br0 other_config y=9
both get Bridge br0 other_config
both add Port p2 trunks 4 4 5
both remove Port p2 trunks 1 5
both get Port p2 trunks
both clear Bridge br0 flood_vlans external_ids
both get Bridge br0 flood_vlans external_ids
both -- --id=@q create QoS type=linux-htb other_config:max-rate=1000000 -- set Port p1 qos=@q
both get QoS p1 type other_config
both -- --id=@m create Mirror name=m1 select_all=true -- add Bridge br0 mirrors @m
both get Mirror m1 name select_all
both list Controller br0
both get Controller br0 target
both -- --id=@b get Bridge br0 -- --id=@f create Flow_Sample_Collector_Set id=5 bridge=@b
both get Flow_Sample_Collector_Set 5 id
both --all destroy Queue
both list Queue
both del-fail-mode br0
both get-fail-mode br0
both del-controller br0
both get-controller br0
both --dry-run add-br zz
both list-br
both del-port br0 p2
both --with-iface del-port br0 e1
both --if-exists del-port br0 nope
both list-ports br0
both del-br fb
both list-br
both --records --columns=name list Port
both --if-exists del-br nobr
both del-manager
both get-manager
both --show show
both emer-reset
both --show show
both get Bridge br0 other_config
both del-br br1
both --show show

# Errors: the same message and status from both.
for cmd in "get Bridge br9 name" "del-br br9" "add-br br0" "add-port br0 p1" "add-port br0 vnet0"\
    "add-br p1" "get Bridge br0 other_config:foo" "set Bridge br0 fail_mode=foo" \
    "set Bridge br0 name=x" "set Port p1 tag=abc" "set Bridge br0 stp_enable=maybe" "foo" \
    "add-br" "add-br a b" "add-br a b c d" "set Bridge br0 nocol=1" "set Bridge br0 n=1" \
    "list Nope" "clear Port p1 interfaces" "set Port p1 trunks=[1,1]" \
    "set Bridge br0 other_config:a" "set Bridge br0 external_ids:{a}=b" \
    "get Open_vSwitch . bridges:x" "set-fail-mode br0 bad" "add-bond br0 b2 e9" \
    "add-bond br0 bb a tag=3" "br-to-vlan br9" "list-ports br9" "port-to-br nope" \
    "iface-to-br nope" "del-port br0 nope" "add-br x br0 5000" "add-br x nobr 5" \
    "set Interface p1 mtu_request=-5" "set Interface p1 ofport_request=0" "destroy Bridge br9" \
    "set Bridge br0 other_config:a=\"b" "list-br extra" "--may-exist list-br" \
    "--foo list-br" "--id=foo create Queue" "create Queue dscp=abc"; do
  # shellcheck disable=SC2086
  both $cmd || true
done
both add-br fb2 br0 7
for cmd in "set-controller fb2 tcp:1.1.1.1:1" "set-fail-mode fb2 secure" "del-controller fb2" \
    "--may-exist add-br fb2" "--may-exist add-br fb2 br0 21" "--may-exist add-br br0 fb2 3" \
    "add-br x fb2 5" "--may-exist add-port fb2 p1" "del-port fb2 p1"; do
  # shellcheck disable=SC2086
  both $cmd || true
done
both add-port fb2 p7
both del-port br0 p7 || true
both -- add-port br0 q1 -- --may-exist add-bond br0 q1 a b || true
sl_log "compared $N_COMPARED commands with ovs-vsctl"

# ---- sluice-vsctl on its own: outputs and statuses ----------------------------------------------
expect 0 "br0
fb2" -- list-br
expect 2 "" -- br-exists nobr
expect 0 "" -- br-exists fb2
expect 0 "7" -- br-to-vlan fb2
expect 0 "br0" -- br-to-parent fb2
expect 0 "p7" -- list-ports fb2
expect_err "no bridge named br9" del-br br9
expect_err "cannot create a bridge named br0 because a bridge named br0 already exists" add-br br0
expect 0 "" -- --may-exist add-br br0
expect_err "'list-br' command takes at most 0 arguments (note that options must precede command names and follow a \"--\" argument)" list-br --real
expect_err "unknown command 'frob'; use --help for help" frob
expect_err "missing command name (use --help for help)"
expect 0 "\"52:54:00:aa:bb:cc\"" -- get Interface vnet0 external_ids:attached-mac
expect 0 "{attached-mac=\"52:54:00:aa:bb:cc\", iface-id=abc, iface-status=active, vm-id=def}" \
  -- get Interface vnet0 external_ids
# A UUID prefix names a record.
u=$(S get Bridge br0 _uuid)
expect 0 "br0" -- get Bridge "${u:0:8}" name
expect 0 "$u" -- --bare --columns=_uuid find Bridge name=br0
# create prints the new row's UUID; --id names it for later commands.
q=$(S create Queue dscp=3 other_config:min-rate=1000) || fail "create"
[[ $q =~ ^[0-9a-f-]{36}$ ]] || fail "create printed [$q]"
expect 0 "3" -- get Queue "$q" dscp
expect 0 "" -- destroy Queue "$q"
expect_err "no row \"$q\" in table Queue" get Queue "$q" dscp
expect_err "row id \"@nope\" is referenced but never created (e.g. with \"-- --id=@nope create ...\")" \
  set Port p1 qos=@nope
# --dry-run commits nothing.
expect 0 "" -- --dry-run add-br dry
expect 2 "" -- br-exists dry
# SLUICE_DB picks the database when --db is absent.
[ "$(SLUICE_DB="unix:$SOCK" "$BIN/sluice-vsctl" --no-wait br-to-parent fb2)" = br0 ] || fail "SLUICE_DB"
# Connection failures.
out=$("$BIN/sluice-vsctl" --db=unix:$SL_TMP/nonexistent.sock list-br 2>&1) && fail "no database"
[ "$out" = "sluice-vsctl: unix:$SL_TMP/nonexistent.sock: database connection failed (No such file or directory)" ] ||
  fail "connection failure message: $out"

# ---- waiting for the switch to apply the configuration ----------------------------------------
W() { "$BIN/sluice-vsctl" --db="unix:$SOCK" "$@"; }
cfg=$(S get Open_vSwitch . next_cfg)
S set Open_vSwitch . cur_cfg="$cfg"
W --timeout=60 add-br wbr >"$SL_TMP/wait.out" 2>&1 &
WPID=$!
sl_wait_for sl_output_is $((cfg + 1)) S get Open_vSwitch . next_cfg || fail "next_cfg was not incremented"
# It goes on waiting while cur_cfg lags (how long to watch a wait is a choice, not a race).
sleep 0.5
kill -0 $WPID 2>/dev/null || fail "sluice-vsctl did not wait for cur_cfg"
expect 0 "" -- br-exists wbr
S set Open_vSwitch . cur_cfg=$((cfg + 1))
sl_wait_for sl_dead $WPID || fail "sluice-vsctl still waiting after cur_cfg caught up"
wait $WPID || fail "waiting sluice-vsctl failed: $(cat "$SL_TMP/wait.out")"
# Read-only commands do not wait; a write that is never applied hits --timeout (SIGALRM, as
# ovs-vsctl).
W --timeout="$SL_CMD_TIMEOUT" list-br >/dev/null || fail "read-only command waited"
rc=0
W --timeout=1 add-br tbr 2>"$SL_TMP/err" || rc=$?
[ $rc = 142 ] || fail "--timeout: status $rc, wanted 142"
grep -q "terminating with signal 14 (Alarm clock)" "$SL_TMP/err" || fail "--timeout message"
# wait-until blocks until the condition holds.
W --timeout=60 wait-until Bridge br0 fail_mode=secure >/dev/null 2>&1 &
WPID=$!
sleep 0.5
kill -0 $WPID 2>/dev/null || fail "wait-until did not wait"
S set-fail-mode br0 secure
sl_wait_for sl_dead $WPID || fail "wait-until still waiting"
wait $WPID || fail "wait-until failed"
sl_stop "$SL_PID"
SL_PID=""

# ---- switchd's embedded database ------------------------------------------------------------
if [ -x "$BIN/sluice-switchd" ] && [ "$(id -u)" = 0 ]; then
  sl_start
  export SLUICE_DB="unix:$SL_RUNDIR/db.sock"
  sl_wait_for test -S "$SL_RUNDIR/db.sock" || fail "switchd's database socket"
  "$BIN/sluice-vsctl" --no-wait --timeout="$SL_CMD_TIMEOUT" add-br sbr0 -- add-port sbr0 sp1 ||
    fail "add-br on switchd"
  [ "$("$BIN/sluice-vsctl" --timeout="$SL_CMD_TIMEOUT" list-ports sbr0)" = sp1 ] || fail "list-ports on switchd"
  "$BIN/sluice-vsctl" --timeout="$SL_CMD_TIMEOUT" show | grep -q "Bridge sbr0" || fail "show on switchd"
  unset SLUICE_DB
fi
sl_log "$N_CHECKS own checks, $N_COMPARED comparisons"
echo PASS
