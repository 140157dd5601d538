#!/usr/bin/env bash
# switchd's connections as Debian's ovs-vsctl configures them in its database, with no TLS option
# on switchd's command line: `set-ssl` keys serve a pssl: controller target (Debian's ovs-ofctl)
# and a pssl: manager (Debian's ovs-vsctl over TLS); a controller certificate from another CA is
# refused with the reason in Controller.status, and a manager client from it in Manager.status;
# other_config:ssl-protocols limits new connections' protocols; a new SSL row is used by the next connection and
# del-ssl leaves TLS unconfigured; Controller inactivity_probe, controller_rate_limit/
# controller_burst_limit (packet-in statistics in Controller.status) and enable_async_messages
# (changed while connected) reach a controller's connection; Manager inactivity_probe reaches
# an active manager's; a punix: controller outside the run directory is refused.
BIN=$1
source "$(dirname "$0")/lib.bash"
source "$(dirname "$0")/pki.bash"
sl_require_root
sl_require ovs-vsctl openvswitch-switch
sl_require ovs-pki openvswitch-common
S=$(($$ % 100000))
BR=sc$S V1=scv$S H1=sch$S
PORTS=()
while [ ${#PORTS[@]} -lt 4 ]; do
  p=$(sl_tcp_port)
  [[ " ${PORTS[*]} " == *" $p "* ]] || PORTS+=("$p")
done
P_CTL=${PORTS[0]} P_MGR=${PORTS[1]} P_EV=${PORTS[2]} P_JR=${PORTS[3]}
export OVS_RUNDIR=$SL_TMP OVS_LOGDIR=$SL_TMP
P=$SL_TMP/pki
pki_init ovs "$P"
pki_id ovs "$P" sw switch
pki_id ovs "$P" sw2 switch
pki_id ovs "$P" ctl controller
pki_init ovs "$SL_TMP/rogue-pki"
pki_id ovs "$SL_TMP/rogue-pki" rogue controller
SW_CA=$P/switchca/cacert.pem CTL_CA=$P/controllerca/cacert.pem
C=$PKI_CERTS

sl_start
V="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
O="ovs-ofctl -O OpenFlow13 -t $SL_CMD_TIMEOUT $(pki_opts ctl "$SW_CA")"
logged() { sl_wait_for sl_log_has "$1" || fail "not logged: $1"; }
# ctl_status TARGET KEY: a key of that Controller row's status ("" if absent).
ctl_status() { $V --if-exists get Controller "$(ctl_uuid "$1")" "status:$2" 2>/dev/null | tr -d '"' || true; }
ctl_uuid() { $V --bare --columns=_uuid find Controller "target=\"$1\""; }

# ---- TLS from the SSL table ----
$V set-ssl "$C/sw-privkey.pem" "$C/sw-cert.pem" "$CTL_CA" || fail "set-ssl"
$V add-br "$BR" -- set-fail-mode "$BR" secure -- set-controller "$BR" "pssl:$P_CTL:127.0.0.1" ||
  fail "add-br with a pssl: controller"
T="ssl:127.0.0.1:$P_CTL"
ofctl_ok() { $O show "$T" >/dev/null 2>&1; }
subject_is() { echo "$(pki_server_subject "127.0.0.1:$P_CTL" ctl "$SW_CA")" | grep -q "CN = $1 id:"; }
ctl_status_has() { echo "$(ctl_status "$1" "$2")" | grep -q -- "$3"; }
sl_wait_for ofctl_ok || fail "ovs-ofctl over TLS with the SSL table's keys"
$O add-flow "$T" "priority=9,ip,nw_dst=10.9.9.9,actions=drop" || fail "add-flow over ssl"
$O dump-flows "$T" | grep -q "nw_dst=10.9.9.9" || fail "dump-flows over ssl"
subject_is sw ||
  fail "served certificate: $(pki_server_subject "127.0.0.1:$P_CTL" ctl "$SW_CA")"
if ovs-ofctl -O OpenFlow13 -t 5 $(pki_opts rogue "$SW_CA") show "$T" >/dev/null 2>&1; then
  fail "a controller certificate from another CA was accepted"
fi
logged "certificate verify failed: unable to get local issuer certificate"
sl_wait_for ctl_status_has "pssl:$P_CTL:127.0.0.1" last_error "certificate verify failed" ||
  fail "refusal not in Controller.status: $($V list Controller)"
$O show "$T" >/dev/null || fail "pssl: target stopped serving after a refusal"
sl_log "SSL table: ovs-ofctl served over TLS, another CA refused (Controller.status says why)"

$V set-manager "pssl:$P_MGR:127.0.0.1" || fail "set-manager pssl:"
VT="ovs-vsctl --timeout=$SL_CMD_TIMEOUT --db=ssl:127.0.0.1:$P_MGR $(pki_opts ctl "$SW_CA")"
vt_ok() { echo "$($VT --no-wait list-br 2>/dev/null)" | grep -q "$BR"; }
mgr_bound() { echo "$($V get Manager . status:bound_port 2>/dev/null)" | grep -q "$P_MGR"; }
sl_wait_for vt_ok || fail "ovs-vsctl over a pssl: manager"
sl_wait_for mgr_bound ||
  fail "Manager.status: $($V list Manager)"
if ovs-vsctl --timeout=5 --db="ssl:127.0.0.1:$P_MGR" $(pki_opts rogue "$SW_CA") --no-wait list-br \
  >/dev/null 2>&1; then
  fail "a manager client certificate from another CA was accepted"
fi
mgr_refused() { echo "$($V get Manager . status:last_error 2>/dev/null)" | grep -q "certificate verify failed"; }
sl_wait_for mgr_refused || fail "refusal not in Manager.status: $($V list Manager)"
vt_ok || fail "pssl: manager stopped serving after a refusal"
sl_log "pssl: manager serves ovs-vsctl over TLS, refuses another CA (Manager.status says why)"

# Protocols from Open_vSwitch other_config, for new connections.
S_CLIENT=(openssl s_client -connect "127.0.0.1:$P_CTL" -cert "$C/ctl-cert.pem" -key "$C/ctl-privkey.pem" -CAfile "$SW_CA")
negotiates() { "${S_CLIENT[@]}" "-$1" </dev/null 2>/dev/null | grep -q "^New, $2"; }
negotiates tls1_3 TLSv1.3 || fail "TLS 1.3 refused by default"
$V set Open_vSwitch . other_config:ssl-protocols=TLSv1.2 || fail "set ssl-protocols"
not_13() { ! negotiates tls1_3 TLSv1.3; }
sl_wait_for not_13 || fail "TLS 1.3 accepted with other_config:ssl-protocols=TLSv1.2"
negotiates tls1_2 TLSv1.2 || fail "TLS 1.2 refused with other_config:ssl-protocols=TLSv1.2"
$V remove Open_vSwitch . other_config ssl-protocols || fail "remove ssl-protocols"
sl_wait_for negotiates tls1_3 TLSv1.3 || fail "TLS 1.3 not back"
sl_log "other_config:ssl-protocols applies to new connections"

# A new SSL row applies to the next connection; without one TLS is not configured.
$V set-ssl "$C/sw2-privkey.pem" "$C/sw2-cert.pem" "$CTL_CA" || fail "set-ssl sw2"
sl_wait_for subject_is sw2 ||
  fail "the new SSL row's certificate is not served: $(pki_server_subject "127.0.0.1:$P_CTL" ctl "$SW_CA")"
vt_ok || fail "manager after the SSL row changed"
$V del-ssl || fail "del-ssl"
logged "TLS for new ssl:/pssl: connections \(command line\): private key \(none\)"
if ofctl_ok; then fail "served TLS with no SSL row and no options"; fi
$V set-ssl "$C/sw-privkey.pem" "$C/sw-cert.pem" "$CTL_CA" || fail "set-ssl again"
sl_wait_for ofctl_ok || fail "TLS back with the SSL row"
sl_log "SSL row changes picked up without a restart; del-ssl leaves TLS unconfigured"

# ---- controller options on an active target ----
sl_host "$H1" "$V1" 10.77.0.1/24
$V add-port "$BR" "$V1" -- set Interface "$V1" ofport_request=1 || fail "add-port"
$O add-flow "$T" "priority=0,actions=CONTROLLER:128" || fail "table-miss flow"
: >"$SL_TMP/ev.log"
sl_bg python3 "$(dirname "$0")/event_controller.py" "$P_EV" 120 "$SL_TMP/ev.log"
sl_wait_for sl_listening "$P_EV" || fail "event controller not listening"
T0=$SECONDS
$V -- --id=@c create Controller "target=\"tcp:127.0.0.1:$P_EV\"" inactivity_probe=1000 \
  controller_rate_limit=100 controller_burst_limit=25 enable_async_messages=false \
  -- add Bridge "$BR" controller @c >/dev/null || fail "create Controller with options"
E="tcp:127.0.0.1:$P_EV"
connected() { [ "$($V get "$1" "$2" is_connected 2>/dev/null)" = true ]; }
sl_wait_for connected Controller "$(ctl_uuid "$E")" ||
  fail "controller not connected: $($V list Controller)"
[ "$($V get Controller "$(ctl_uuid "$E")" role)" = other ] || fail "role: $($V list Controller)"
# inactivity_probe=1000: an idle connection is probed after a second of silence (the answer
# counts as traffic, so every other second): two probes within 9 s of the controller's creation
# (with the default of 5 s, the second would come after 10 s at least).
ev_echoes() { [ "$(grep -c '^echo' "$SL_TMP/ev.log")" -ge 2 ]; }
sl_wait_for -t 20 ev_echoes || fail "inactivity_probe=1000: no two echo requests"
probe_s=$((SECONDS - T0))
[ "$probe_s" -lt 9 ] || fail "inactivity_probe=1000: two echo requests took $probe_s s"
# enable_async_messages=false: a flood of misses sends no packet-in.
flood() {  # flood FRAMES [SECONDS]: that many misses, at once or spread over SECONDS
  ip netns exec "$H1" python3 - "$(dirname "$0")" "$1" "${2:-0}" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
from pkt import udp
n, secs = int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("eth0", 0))
start = time.time()
for i in range(n):
    s.send(udp("02:00:00:00:00:01", "02:00:00:00:00:02", "10.77.0.1", "10.77.0.2",
               1000 + i % 50000, 9, 18))
    if secs:
        time.sleep(max(0, start + secs * (i + 1) / n - time.time()))
PY
}
pktins() { grep -c '^packet_in' "$SL_TMP/ev.log" || true; }
flood 500
sleep 1
n=$(grep -c '^packet_in' "$SL_TMP/ev.log" || true)
[ "$n" -eq 0 ] || fail "enable_async_messages=false: $n packet-ins"
# Enabled while connected: packet-ins flow, at no more than the rate and burst limits.
$V set Controller "$(ctl_uuid "$E")" enable_async_messages=true || fail "enable async"
sleep 0.5
T0=$(date +%s.%N)
flood 3000
sleep 2
T1=$(date +%s.%N)
n=$(grep -c '^packet_in' "$SL_TMP/ev.log" || true)
max=$(python3 -c "print(int(25 + 100 * ($T1 - $T0) + 100))")  # burst, rate, queue drained
[ "$n" -ge 25 ] || fail "rate-limited controller got $n packet-ins"
[ "$n" -le "$max" ] || fail "controller_rate_limit=100: $n packet-ins in $(python3 -c "print($T1 - $T0)") s (at most $max)"
dropped() { local d; d=$(ctl_status "$E" packet-in-miss-dropped); [ "${d:-0}" -gt 0 ]; }
sl_wait_for dropped ||
  fail "packet-in statistics in Controller.status: $($V get Controller "$(ctl_uuid "$E")" status)"
# A steady flood (500 misses a second for 3 s): packet-ins at the configured rate.
n0=$(pktins)
flood 1500 3
sleep 1
r=$(($(pktins) - n0))
[ "$r" -ge 100 ] && [ "$r" -le 500 ] ||
  fail "controller_rate_limit=100: $r packet-ins for 500 misses a second over 3 s"
grep -q '^connect' "$SL_TMP/ev.log" && [ "$(grep -c '^connect' "$SL_TMP/ev.log")" -eq 1 ] ||
  fail "the controller was reconnected by an option change: $(cat "$SL_TMP/ev.log" | sort | uniq -c)"
sl_log "controller options: two probes within $probe_s s, no packet-ins until enabled, then $n for 3000 misses at once and $r for 500/s over 3 s; status: dropped $(ctl_status "$E" packet-in-miss-dropped)"

# ---- Manager inactivity_probe on an active manager ----
cat >"$SL_TMP/jr.py" <<'PY'
import json, socket, sys, time
port, log = int(sys.argv[1]), open(sys.argv[2], "a", buffering=1)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
start = time.time()
dec, buf = json.JSONDecoder(), ""
c.settimeout(0.5)
while time.time() - start < 20:
    try:
        data = c.recv(65536)
    except socket.timeout:
        continue
    if not data:
        break
    buf += data.decode()
    while buf.strip():
        try:
            msg, end = dec.raw_decode(buf.lstrip())
        except ValueError:
            break
        buf = buf.lstrip()[end:]
        if msg.get("method") == "echo":
            log.write("echo %.3f\n" % (time.time() - start))
            c.sendall(json.dumps({"id": msg["id"], "result": msg["params"], "error": None}).encode())
PY
sl_bg python3 "$SL_TMP/jr.py" "$P_JR" "$SL_TMP/jr.log"
sl_wait_for sl_listening "$P_JR" || fail "JSON-RPC peer not listening"
T0=$SECONDS
$V -- --id=@m create Manager "target=\"tcp:127.0.0.1:$P_JR\"" inactivity_probe=1000 \
  -- add Open_vSwitch . manager_options @m >/dev/null || fail "create Manager"
sl_wait_for connected Manager "$($V --bare --columns=_uuid find Manager "target=\"tcp:127.0.0.1:$P_JR\"")" ||
  fail "active manager not connected: $($V list Manager)"
# Two probes within 9 s (with the default of 5 s, the second would come after 10 s at least).
two_echoes() { [ "$(grep -c '^echo' "$SL_TMP/jr.log" 2>/dev/null)" -ge 2 ]; }
sl_wait_for -t 20 two_echoes || fail "Manager inactivity_probe=1000: no two echo requests"
n=$((SECONDS - T0))
[ "$n" -lt 9 ] || fail "Manager inactivity_probe=1000: two echo requests took $n s"
sl_log "manager inactivity_probe=1000: two echo requests within $n s of its creation"

# ---- unix sockets stay in the run directory ----
$V set-controller "$BR" "punix:$SL_TMP/evil.sock" || fail "set-controller punix:"
sl_wait_for ctl_status_has "punix:$SL_TMP/evil.sock" last_error "could overwrite files" ||
  fail "punix: outside the run directory: $($V list Controller)"
[ ! -e "$SL_TMP/evil.sock" ] || fail "socket created outside the run directory"
sl_log "punix: controller outside the run directory refused"
echo PASS
