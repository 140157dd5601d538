#!/usr/bin/env bash
# Megaflow tuning from the database (sluice-vsctl on switchd's embedded database):
# Open_vSwitch other_config:max-megaflows=2 caps the installed megaflows while pings, which need
# more (ARP both ways, ICMP both ways), are still forwarded (executed without installing);
# other_config:max-idle=1000 expires idle megaflows after about a second.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root
[ -x "$BIN/sluice-vsctl" ] || sl_skip "sluice-vsctl not built"
S=$(($$ % 100000))
BR=ml$S V1=mv1$S V2=mv2$S H1=mh1$S H2=mh2$S
sl_start
V="$BIN/sluice-vsctl --timeout=$SL_CMD_TIMEOUT --db=unix:$SL_RUNDIR/db.sock"
sl_host "$H1" "$V1" 10.81.0.1/24
sl_host "$H2" "$V2" 10.81.0.2/24
megaflows() { appctl dpctl/dump-flows | grep -c "in_port(" || true; }

$V set Open_vSwitch . other_config:max-megaflows=2 || fail "set max-megaflows"
$V add-br "$BR" -- add-port "$BR" "$V1" -- add-port "$BR" "$V2" || fail "add-br"
sl_wait_for sl_log_has "megaflows: idle expiry 10000 ms, at most 2 installed" ||
  fail "max-megaflows not applied"
sl_ping_ready "$H1" 10.81.0.2
ip netns exec "$H1" ping -c 5 -i 0.2 -W 2 10.81.0.2 >/dev/null || fail "ping with 2 megaflows"
ip netns exec "$H2" ping -c 5 -i 0.2 -W 2 10.81.0.1 >/dev/null || fail "ping back with 2 megaflows"
n=$(megaflows)
[ "$n" -le 2 ] || fail "$n megaflows installed, cap is 2: $(appctl dpctl/dump-flows)"
[ "$n" -ge 1 ] || fail "no megaflow installed at all"
hits=$(appctl coverage/show | awk '$1 == "megaflow_cap_hit" {print $2}')
[ "${hits:-0}" -gt 0 ] || fail "no megaflow_cap_hit counted"
sl_log "$n megaflows installed, $hits packets executed past the cap"

# Raising the cap: the next pings install their megaflows (flow-limit is Open vSwitch's key).
$V remove Open_vSwitch . other_config max-megaflows -- set Open_vSwitch . other_config:flow-limit=100 ||
  fail "set flow-limit"
ip netns exec "$H1" ping -c 3 -i 0.2 -W 2 10.81.0.2 >/dev/null || fail "ping after raising the cap"
n=$(megaflows)
[ "$n" -gt 2 ] || fail "only $n megaflows with flow-limit=100"

# max-idle: megaflows unused for a second are gone within about two.
$V set Open_vSwitch . other_config:max-idle=1000 || fail "set max-idle"
sl_wait_for sl_log_has "megaflows: idle expiry 1000 ms, at most 100 installed" ||
  fail "max-idle not applied"
MAC1=$(ip netns exec "$H1" cat /sys/class/net/eth0/address)
ip netns exec "$H1" ping -c 1 -W 2 10.81.0.2 >/dev/null || fail "ping"
appctl dpctl/dump-flows | grep -q "$MAC1" || fail "no megaflow for the ping"
# (The LOCAL port's own IPv6 chatter keeps installing young megaflows: look at the ping's.)
t0=$SECONDS
sl_wait_for sl_not sl_output_has "$MAC1" appctl dpctl/dump-flows ||
  fail "megaflows of the ping left after ${SL_WAIT_TIMEOUT} s idle with max-idle=1000: $(appctl dpctl/dump-flows)"
sl_log "the ping's megaflows expired after about $((SECONDS - t0)) s"
# A bad value is refused with a warning; the last good one stays.
$V set Open_vSwitch . other_config:max-idle=10 || fail "set max-idle=10"
sl_wait_for sl_log_has "ignoring other_config:max-idle 10 " || fail "bad max-idle not reported"
$V del-br "$BR" || fail "del-br"
echo PASS
