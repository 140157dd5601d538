#!/usr/bin/env bash
# Manager rows on switchd's embedded OVSDB server: a passive manager (ptcp:) listens and reports
# its bound port; an active one (tcp:) makes the server connect out and serve OVSDB on that
# connection (Debian's ovsdb-client in passive mode lists and monitors the databases over it),
# with is_connected/status written back as Open vSwitch does, reconnection with back-off when
# the peer goes away and comes back, and removal; ssl: without an SSL configuration keeps failing
# with the reason in the row (ssl_*.sh test TLS itself).
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require ovsdb-client openvswitch-common
sl_start
V="$BIN/sluice-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
P1=$(sl_tcp_port)
P2=$(sl_tcp_port)
while [ "$P2" = "$P1" ]; do P2=$(sl_tcp_port); done
mgr() { $V --bare --columns="$2" find Manager target="\"$1\""; }
# wait_mgr TARGET COLUMN EXPECTED: until the Manager row's COLUMN reads EXPECTED.
wait_mgr() {
  sl_wait_for sl_output_is "$3" mgr "$1" "$2" || fail "$1: $2 is '$(mgr "$1" "$2")', expected '$3'"
}
# wait_status TARGET REGEX: until the Manager row's status matches.
wait_status() {
  sl_wait_for sl_output_has "$2" mgr "$1" status || fail "$1: status $(mgr "$1" status) does not match $2"
}

$V set-manager "ptcp:$P2:127.0.0.1" "tcp:127.0.0.1:$P1" || fail "set-manager"
wait_mgr "ptcp:$P2:127.0.0.1" status "bound_port=$P2"
ovsdb-client --timeout=$SL_CMD_TIMEOUT list-dbs "tcp:127.0.0.1:$P2" | grep -qx Open_vSwitch || fail "passive manager"
# Nobody listens on P1 yet: the server keeps trying.
wait_status "tcp:127.0.0.1:$P1" "state=BACKOFF"
mgr "tcp:127.0.0.1:$P1" status | grep -q "last_error=.*Connection refused" ||
  fail "last_error: $(mgr "tcp:127.0.0.1:$P1" status)"
[ "$(mgr "tcp:127.0.0.1:$P1" is_connected)" = false ] || fail "is_connected while refused"

# ovsdb-client listening (passive): the server dials in and answers list-dbs.
timeout 60 ovsdb-client --timeout=45 list-dbs "ptcp:$P1:127.0.0.1" >"$SL_TMP/dbs" 2>"$SL_TMP/dbs.err" ||
  fail "list-dbs over the active manager: $(cat "$SL_TMP/dbs.err")"
grep -qx Open_vSwitch "$SL_TMP/dbs" || fail "list-dbs: $(cat "$SL_TMP/dbs")"
# A monitor holds the connection: is_connected, state ACTIVE; it sees a change made meanwhile.
sl_bg ovsdb-client monitor "ptcp:$P1:127.0.0.1" Open_vSwitch Bridge name >"$SL_TMP/mon" 2>&1
MON=$SL_BG
wait_mgr "tcp:127.0.0.1:$P1" is_connected true
wait_status "tcp:127.0.0.1:$P1" "state=ACTIVE"
$V add-br brm || fail "add-br"
sl_wait_for grep -q brm "$SL_TMP/mon" || fail "monitor over the active manager: $(cat "$SL_TMP/mon")"
sl_stop $MON
wait_mgr "tcp:127.0.0.1:$P1" is_connected false
# It comes back when a listener does (back-off at most 8 s).
timeout 60 ovsdb-client --timeout=45 list-dbs "ptcp:$P1:127.0.0.1" | grep -qx Open_vSwitch ||
  fail "no reconnection"

# ssl: without key and certificates: it fails, with the reason in the row and the log; removal
# stops the dialling.
$V set-manager "ssl:127.0.0.1:$P1" || fail "set-manager ssl"
wait_status "ssl:127.0.0.1:$P1" "last_error=.*Private key must be configured to use SSL"
sl_wait_for sl_log_has "ssl:127.0.0.1:$P1: Private key must be configured" ||
  fail "ssl failure not logged"
[ "$(mgr "ssl:127.0.0.1:$P1" is_connected)" = false ] || fail "ssl is_connected"
if timeout 3 ovsdb-client list-dbs "ptcp:$P1:127.0.0.1" >/dev/null 2>&1; then
  fail "removed tcp: manager still connects"
fi
$V del-manager
$V del-br brm
echo PASS
