#!/usr/bin/env bash
# OpenFlow over TLS with real peers, certificates from Debian's ovs-pki: switchd's key and
# certificates from its command line (-p -c -C); a pssl: controller target serves Debian's
# ovs-ofctl and sluice-ofctl (several at once) and refuses a certificate from another CA, an
# expired one and plain TCP, logging why, while serving the others; an os-ken controller started
# with its TLS options receives switchd's ssl: connection and runs a MAC-learning switch between
# two namespaced hosts.
BIN=$1
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pki.bash"
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v ovs-pki >/dev/null || { echo "openvswitch-common not installed"; exit 77; }
S=$$
export OVS_RUNDIR=$SL_TMP OVS_LOGDIR=$SL_TMP
PORT=$((20000 + S % 20000)); OSKEN_PORT=$((PORT + 1)); OSKEN_TCP=$((PORT + 2))
P=$SL_TMP/pki
pki_init ovs "$P"
pki_id ovs "$P" sw switch
pki_id ovs "$P" ctl controller
pki_init ovs "$SL_TMP/rogue-pki"
pki_id ovs "$SL_TMP/rogue-pki" rogue controller
pki_expired "$P" old controller
SW_CA=$P/switchca/cacert.pem CTL_CA=$P/controllerca/cacert.pem
C=$PKI_CERTS

sl_host "sl-t1-$S" "t1-$S" 10.0.0.1/24
sl_host "sl-t2-$S" "t2-$S" 10.0.0.2/24
sl_start -p "$C/sw-privkey.pem" -c "$C/sw-cert.pem" -C "$CTL_CA"
appctl dpctl/add-if "t1-$S" || fail "add-if"
appctl dpctl/add-if "t2-$S" || fail "add-if"
appctl ofproto/add-br br0 000000000000000d secure || fail "add-br"
appctl ofproto/set-controller br0 "pssl:$PORT:127.0.0.1" || fail "set-controller pssl"
T="ssl:127.0.0.1:$PORT"
O="ovs-ofctl -O OpenFlow13 -t 10 $(pki_opts ctl "$SW_CA")"
logged() {
  for _ in $(seq 50); do grep -q -- "$1" "$SL_TMP/switchd.log" && return 0; sleep 0.1; done
  fail "not logged: $1"
}

# ---- Debian's ovs-ofctl and sluice-ofctl against pssl: ----
for _ in $(seq 50); do $O show "$T" >/dev/null 2>&1 && break; sleep 0.1; done
$O add-flow "$T" "priority=7,ip,nw_dst=10.9.9.9,actions=drop" || fail "ovs-ofctl add-flow over ssl"
$O dump-flows "$T" | grep -q "nw_dst=10.9.9.9" || fail "ovs-ofctl dump-flows over ssl"
"$BIN/sluice-ofctl" -t 10 $(pki_opts ctl "$SW_CA") dump-flows "$T" | grep -q "nw_dst=10.9.9.9" ||
  fail "sluice-ofctl dump-flows over ssl"
# Several controllers on the one passive target at once.
$O monitor "$T" >"$SL_TMP/mon" 2>"$SL_TMP/mon.err" &
MON=$!
OSKEN=""
trap 'rc=$?; kill $MON $OSKEN 2>/dev/null || true; sl_cleanup $rc' EXIT
sleep 0.5
$O del-flows "$T" "ip,nw_dst=10.9.9.9" || fail "del-flows while another controller is connected"
kill -0 $MON || fail "the monitoring controller was dropped: $(cat "$SL_TMP/mon.err")"
appctl ofproto/show-controllers br0 | grep -q "pssl:$PORT:127.0.0.1 connected" ||
  fail "passive target status: $(appctl ofproto/show-controllers br0)"
sl_log "ovs-ofctl and sluice-ofctl over TLS to a pssl: controller target"

# ---- refused peers; the target keeps serving ----
if ovs-ofctl -O OpenFlow13 -t 5 $(pki_opts rogue "$SW_CA") show "$T" >/dev/null 2>&1; then
  fail "a controller certificate from another CA was accepted"
fi
logged "refused ssl:127.0.0.1:[0-9]*: certificate verify failed: unable to get local issuer certificate"
sleep 1.1
if ovs-ofctl -O OpenFlow13 -t 5 $(pki_opts old "$SW_CA") show "$T" >/dev/null 2>&1; then
  fail "an expired controller certificate was accepted"
fi
logged "certificate verify failed: certificate has expired"
sleep 1.1
if ovs-ofctl -O OpenFlow13 -t 5 show "tcp:127.0.0.1:$PORT" >/dev/null 2>&1; then
  fail "plain TCP to the TLS port was served"
fi
logged "peer is not using TLS"
appctl ofproto/show-controllers br0 | grep -q "not using TLS" ||
  fail "refusal not in the controller status: $(appctl ofproto/show-controllers br0)"
$O show "$T" >/dev/null || fail "pssl: target stopped serving after refusals"
kill $MON
sl_log "other CA, expired certificate, plain TCP refused and logged; still serving"

# ---- os-ken with its TLS options receives switchd's ssl: connection ----
if [ -x /usr/bin/osken-manager ]; then
  export OSKEN_PKTIN_LOG=$SL_TMP/pktin.log
  : >"$OSKEN_PKTIN_LOG"
  /usr/bin/osken-manager --ofp-ssl-listen-port "$OSKEN_PORT" --ofp-tcp-listen-port "$OSKEN_TCP" \
    --ctl-privkey "$C/ctl-privkey.pem" --ctl-cert "$C/ctl-cert.pem" --ca-certs "$SW_CA" \
    "$(dirname "$0")/osken_l2_switch.py" >"$SL_TMP/osken.log" 2>&1 &
  OSKEN=$!
  for _ in $(seq 100); do grep -q "$OSKEN_PORT" <(ss -ltn 2>/dev/null) && break; sleep 0.1; done
  appctl ofproto/set-controller br0 "ssl:127.0.0.1:$OSKEN_PORT" || fail "set-controller ssl"
  for _ in $(seq 100); do
    appctl ofproto/show-controllers br0 | grep -q "ssl:127.0.0.1:$OSKEN_PORT connected" && break
    sleep 0.2
  done
  appctl ofproto/show-controllers br0 | grep -q "ssl:127.0.0.1:$OSKEN_PORT connected" ||
    fail "os-ken did not accept the TLS connection: $(appctl ofproto/show-controllers br0) $(tail -5 "$SL_TMP/osken.log")"
  sleep 1  # the app installs its table-miss flow on the features reply
  ip netns exec "sl-t1-$S" ping -c 3 -i 0.2 -W 2 10.0.0.2 >/dev/null ||
    fail "ping through the os-ken controlled bridge"
  [ "$(wc -l <"$OSKEN_PKTIN_LOG")" -gt 0 ] || fail "os-ken saw no packet-in over TLS"
  sl_log "os-ken over TLS: $(wc -l <"$OSKEN_PKTIN_LOG") packet-ins, hosts reach each other"
fi
echo PASS
