#!/usr/bin/env bash
# OVSDB over TLS with real clients: sluice-ovsdb-server on pssl: with certificates from Debian's
# ovs-pki serves Debian's ovs-vsctl (-p -c -C), ovsdb-client (list-dbs, get-schema-cksum,
# monitor), sluice-vsctl and Debian's ovs-vswitchd (ssl: database); refuses a certificate from
# another CA, an expired certificate and plain TCP, logging why, and keeps serving; picks up a
# rotated certificate without a restart; TLS 1.2/1.3 only by default; protocols and ciphers as
# configured; bootstraps the CA certificate for ovs-vsctl (--peer-ca-cert); and sluice-pki's
# certificates work with Open vSwitch's tools (ovs-pki verify, ovs-vsctl).
BIN=$1
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pki.bash"
command -v ovs-pki >/dev/null || { echo "openvswitch-common not installed"; exit 77; }
command -v openssl >/dev/null || { echo "openssl not installed"; exit 77; }
S=$$
PORT=$((20000 + S % 20000))
export OVS_RUNDIR=$SL_TMP OVS_LOGDIR=$SL_TMP OVS_DBDIR=$SL_TMP OVS_SYSCONFDIR=$SL_TMP
P=$SL_TMP/pki
pki_init ovs "$P"
pki_id ovs "$P" srv switch      # the server's identity (switch CA)
pki_id ovs "$P" cli controller  # clients' (controller CA)
pki_id ovs "$P" srv2 switch     # the server's next certificate (rotation)
pki_init ovs "$SL_TMP/rogue-pki"
pki_id ovs "$SL_TMP/rogue-pki" rogue controller
pki_expired "$P" old controller
SRV_CA=$P/switchca/cacert.pem CLI_CA=$P/controllerca/cacert.pem
C=$PKI_CERTS

SCHEMA="$(dirname "$0")/../../ovsdb/schemas/vswitch.ovsschema"
DB=$SL_TMP/conf.db
"$BIN/sluice-ovsdb-tool" create "$DB" "$SCHEMA" || fail "create db"
# The server's key and certificate are copies, so that the test can rotate them on disk.
cp "$C/srv-privkey.pem" "$SL_TMP/key.pem"
cp "$C/srv-cert.pem" "$SL_TMP/cert.pem"
start_server() {
  "$BIN/sluice-ovsdb-server" "$DB" --remote "pssl:$PORT:127.0.0.1" --rundir "$SL_TMP" \
    --log-file "$SL_TMP/switchd.log" -p "$SL_TMP/key.pem" -c "$SL_TMP/cert.pem" "$@" \
    >>"$SL_TMP/server.out" 2>&1 &
  SL_PID=$!
  for _ in $(seq 100); do
    grep -q "sluice-ovsdb-server ready" "$SL_TMP/switchd.log" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "server did not start: $(cat "$SL_TMP/server.out")"
}
stop_server() {
  kill "$SL_PID"; wait "$SL_PID" 2>/dev/null || true
  : >"$SL_TMP/switchd.log"
}
logged() {
  for _ in $(seq 50); do grep -q -- "$1" "$SL_TMP/switchd.log" && return 0; sleep 0.1; done
  fail "not logged: $1"
}
start_server -C "$CLI_CA"
R="ssl:127.0.0.1:$PORT"
V="ovs-vsctl --timeout=10 --db=$R $(pki_opts cli "$SRV_CA")"

# ---- Debian's clients over TLS ----
$V --no-wait init || fail "ovs-vsctl init over ssl"
$V --no-wait add-br br-$S -- set Bridge br-$S other_config:k=v || fail "ovs-vsctl add-br over ssl"
[ "$($V --no-wait get Bridge br-$S other_config:k)" = v ] || fail "ovs-vsctl get over ssl"
OC="ovsdb-client --timeout=10 $(pki_opts cli "$SRV_CA")"
$OC list-dbs "$R" | grep -qx Open_vSwitch || fail "ovsdb-client list-dbs over ssl"
# The schema is served with its cksum.
[ "$($OC get-schema-cksum "$R" Open_vSwitch)" = "$("$BIN/sluice-ovsdb-tool" schema-cksum "$SCHEMA")" ] ||
  fail "get-schema-cksum: $($OC get-schema-cksum "$R" Open_vSwitch)"
$OC monitor "$R" Open_vSwitch Bridge name >"$SL_TMP/mon" 2>&1 &
MON=$!
trap 'rc=$?; kill $MON $VSPID 2>/dev/null || true; sl_cleanup $rc' EXIT
sleep 1
$V --no-wait add-br brm-$S || fail "add-br while monitored"
for _ in $(seq 50); do grep -q "brm-$S" "$SL_TMP/mon" && break; sleep 0.1; done
grep -q "brm-$S" "$SL_TMP/mon" || fail "ovsdb-client monitor over ssl saw nothing: $(cat "$SL_TMP/mon")"
kill $MON
# Sluice's own client with ovs-pki's certificates.
"$BIN/sluice-vsctl" --no-wait --db="$R" $(pki_opts cli "$SRV_CA") list-br | grep -q "br-$S" ||
  fail "sluice-vsctl over ssl"
sl_log "ovs-vsctl, ovsdb-client and sluice-vsctl over TLS"
# Remotes added and removed at run time, as ovsdb-server/add-remote does.
CTL="$BIN/sluice-appctl -t $SL_TMP/sluice-ovsdb-server.ctl"
$CTL ovsdb-server/add-remote "pssl:$((PORT + 1)):127.0.0.1" || fail "add-remote"
$CTL ovsdb-server/list-remotes | grep -qx "pssl:$((PORT + 1)):127.0.0.1" || fail "list-remotes"
$OC list-dbs "ssl:127.0.0.1:$((PORT + 1))" | grep -qx Open_vSwitch || fail "added pssl: remote"
$CTL ovsdb-server/remove-remote "pssl:$((PORT + 1)):127.0.0.1" || fail "remove-remote"
! $CTL ovsdb-server/list-remotes | grep -q "$((PORT + 1))" || fail "removed remote still listed"

# ---- peers that must be refused, while the server keeps serving ----
if ovsdb-client --timeout=5 $(pki_opts rogue "$SRV_CA") list-dbs "$R" >/dev/null 2>&1; then
  fail "a certificate from another CA was accepted"
fi
logged "refused ssl:127.0.0.1:[0-9]*: certificate verify failed: unable to get local issuer certificate"
sleep 1.1  # refusals are logged at most once a second
if ovsdb-client --timeout=5 $(pki_opts old "$SRV_CA") list-dbs "$R" >/dev/null 2>&1; then
  fail "an expired certificate was accepted"
fi
logged "certificate verify failed: certificate has expired"
sleep 1.1
if ovsdb-client --timeout=5 list-dbs "tcp:127.0.0.1:$PORT" >/dev/null 2>&1; then
  fail "plain TCP to the TLS port was served"
fi
logged "peer is not using TLS"
# The client side refuses a server from a CA it does not trust.
if ovsdb-client --timeout=5 $(pki_opts cli "$SL_TMP/rogue-pki/switchca/cacert.pem") list-dbs "$R" >/dev/null 2>&1; then
  fail "client accepted a server certificate from another CA"
fi
$V --no-wait list-br | grep -q "br-$S" || fail "server stopped serving after refusals"
kill -0 "$SL_PID" || fail "server died"
sl_log "other CA, expired certificate, plain TCP: refused and logged; still serving"

# ---- TLS 1.2 and 1.3 only by default ----
S_CLIENT=(openssl s_client -connect "127.0.0.1:$PORT" -cert "$C/cli-cert.pem" -key "$C/cli-privkey.pem" -CAfile "$SRV_CA")
"${S_CLIENT[@]}" -tls1_3 </dev/null 2>/dev/null | grep -q "^New, TLSv1.3" || fail "TLS 1.3 refused"
"${S_CLIENT[@]}" -tls1_2 </dev/null 2>/dev/null | grep -q "^New, TLSv1.2" || fail "TLS 1.2 refused"
if "${S_CLIENT[@]}" -tls1_1 -cipher 'DEFAULT@SECLEVEL=0' </dev/null 2>/dev/null | grep -q "^New, TLSv1.1"; then
  fail "TLS 1.1 accepted by default"
fi

# ---- a rotated certificate is used by new connections, without a restart ----
echo "$(pki_server_subject "127.0.0.1:$PORT" cli "$SRV_CA")" | grep -q "CN = srv id:" ||
  fail "server subject before rotation: $(pki_server_subject "127.0.0.1:$PORT" cli "$SRV_CA")"
cp "$C/srv2-privkey.pem" "$SL_TMP/key.pem"
cp "$C/srv2-cert.pem" "$SL_TMP/cert.pem"
echo "$(pki_server_subject "127.0.0.1:$PORT" cli "$SRV_CA")" | grep -q "CN = srv2 id:" ||
  fail "server subject after rotation: $(pki_server_subject "127.0.0.1:$PORT" cli "$SRV_CA")"
logged "SSL configuration reloaded"
$V --no-wait list-br | grep -q "br-$S" || fail "ovs-vsctl after rotation"
sl_log "rotated certificate picked up"

# ---- Debian's ovs-vswitchd with its database over ssl: ----
if command -v ovs-vswitchd >/dev/null; then
  ovs-vswitchd "$R" $(pki_opts cli "$SRV_CA") --pidfile="$SL_TMP/vswitchd.pid" \
    --unixctl="$SL_TMP/vswitchd.ctl" --log-file="$SL_TMP/vswitchd.log" -vconsole:off >/dev/null 2>&1 &
  VSPID=$!
  # Without --no-wait, ovs-vsctl returns once ovs-vswitchd has applied the change over TLS.
  $V add-br brv-$S -- set Bridge brv-$S datapath_type=netdev || fail "add-br applied by ovs-vswitchd over ssl"
  [ "$($V get Interface brv-$S ofport)" = 65534 ] || fail "ovs-vswitchd wrote no ofport"
  $V del-br brv-$S || fail "del-br"
  kill $VSPID; wait $VSPID 2>/dev/null || true
  sl_log "ovs-vswitchd used the database over TLS"
fi
# ---- sluice-switchd following the database over ssl: ----
mkdir -p "$SL_TMP/run"
"$BIN/sluice-switchd" --rundir "$SL_TMP/run" --log-file "$SL_TMP/sw.log" --db "$R" \
  $(pki_opts cli "$SRV_CA") >"$SL_TMP/sw.out" 2>&1 &
VSPID=$!
$V add-br brs-$S || fail "add-br applied by sluice-switchd over ssl: $(tail -5 "$SL_TMP/sw.log")"
[ "$($V get Interface brs-$S ofport)" = 65534 ] || fail "sluice-switchd wrote no ofport"
$V del-br brs-$S || fail "del-br"
kill $VSPID; wait $VSPID 2>/dev/null || true
sl_log "sluice-switchd used the database over TLS"

# ---- protocols and ciphers as configured ----
stop_server
start_server -C "$CLI_CA" --ssl-protocols=TLSv1.2 --ssl-ciphers=ECDHE-RSA-AES256-GCM-SHA384
"${S_CLIENT[@]}" -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384 </dev/null 2>/dev/null |
  grep -q "Cipher is ECDHE-RSA-AES256-GCM-SHA384" || fail "configured cipher refused"
if "${S_CLIENT[@]}" -tls1_2 -cipher AES128-SHA </dev/null 2>/dev/null | grep -q "Cipher is AES128-SHA"; then
  fail "a cipher outside --ssl-ciphers was accepted"
fi
if "${S_CLIENT[@]}" -tls1_3 </dev/null 2>/dev/null | grep -q "^New, TLSv1.3"; then
  fail "TLS 1.3 accepted with --ssl-protocols=TLSv1.2"
fi
$V --no-wait list-br | grep -q "br-$S" || fail "ovs-vsctl with TLSv1.2 only"

# ---- CA bootstrap: the server sends its CA (--peer-ca-cert), ovs-vsctl saves it ----
stop_server
start_server -C "$CLI_CA" --peer-ca-cert="$SRV_CA"
BOOT=$SL_TMP/bootstrapped-ca.pem
VB="ovs-vsctl --timeout=10 --db=$R -p $C/cli-privkey.pem -c $C/cli-cert.pem --bootstrap-ca-cert=$BOOT"
$VB --no-wait list-br >/dev/null 2>&1 || true  # the first connection only fetches the CA
[ -s "$BOOT" ] || fail "ovs-vsctl did not bootstrap the CA certificate"
cmp -s <(openssl x509 -in "$BOOT" -noout -fingerprint) <(openssl x509 -in "$SRV_CA" -noout -fingerprint) ||
  fail "bootstrapped the wrong CA certificate"
$VB --no-wait list-br | grep -q "br-$S" || fail "ovs-vsctl after bootstrap"
# sluice-vsctl bootstraps the same way (and retries by itself).
rm -f "$BOOT"
"$BIN/sluice-vsctl" --no-wait --db="$R" -p "$C/cli-privkey.pem" -c "$C/cli-cert.pem" \
  --bootstrap-ca-cert="$BOOT" list-br | grep -q "br-$S" || fail "sluice-vsctl with --bootstrap-ca-cert"
[ -s "$BOOT" ] || fail "sluice-vsctl did not bootstrap"
sl_log "CA bootstrapped by ovs-vsctl and sluice-vsctl"

# ---- sluice-pki's certificates with Open vSwitch's tools ----
stop_server
SP=$SL_TMP/spki
pki_init sluice "$SP"
pki_id sluice "$SP" ssrv switch
pki_id sluice "$SP" scli controller
(cd "$C" && ovs-pki -d "$SP" verify scli controller) | grep -q "scli-cert.pem: OK" ||
  fail "ovs-pki verify of a sluice-pki certificate"
(cd "$C" && "$BIN/sluice-pki" -d "$P" verify cli controller) | grep -q "cli-cert.pem: OK" ||
  fail "sluice-pki verify of an ovs-pki certificate"
cp "$C/ssrv-privkey.pem" "$SL_TMP/key.pem"
cp "$C/ssrv-cert.pem" "$SL_TMP/cert.pem"
start_server -C "$SP/controllerca/cacert.pem"
ovs-vsctl --timeout=10 --db="$R" $(pki_opts scli "$SP/switchca/cacert.pem") --no-wait list-br |
  grep -q "br-$S" || fail "ovs-vsctl with sluice-pki certificates"
# ovs-pki signs a request with sluice-pki's CA (its ca.cnf works with openssl ca).
(cd "$C" && ovs-pki -d "$SP" -l "$SL_TMP/pki.log" -b --force req+sign omix controller) >/dev/null 2>&1 ||
  fail "ovs-pki req+sign with a sluice-pki CA"
ovsdb-client --timeout=10 $(pki_opts omix "$SP/switchca/cacert.pem") list-dbs "$R" | grep -qx Open_vSwitch ||
  fail "ovs-pki certificate from a sluice-pki CA"
sl_log "sluice-pki certificates work with ovs-pki, ovs-vsctl and ovsdb-client"
echo PASS
