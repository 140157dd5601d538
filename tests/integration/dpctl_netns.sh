#!/usr/bin/env bash
# Two namespaced hosts on veth pairs attached as `system` ports; flows installed with dpctl in
# both directions; ping and a multi-megabyte TCP transfer with content verified; after
# dpctl/del-flows traffic stops and the miss counter rises. Also checks that Debian's
# ovs-appctl reads the flows.
BIN=$1
source "$(dirname "$0")/lib.bash"
sl_require_root

S=$$
H1=sh1-$S H2=sh2-$S
sl_host "sl-ns1-$S" "$H1" 10.0.0.1/24
sl_host "sl-ns2-$S" "$H2" 10.0.0.2/24
sl_start

appctl dpctl/add-if "$H1" || fail "add-if $H1"
appctl dpctl/add-if "$H2,type=system" || fail "add-if $H2"
appctl dpctl/show | tee "$SL_TMP/show"
grep -q "port 1: $H1 (system" "$SL_TMP/show" || fail "dpctl/show lacks port 1"
grep -q "port 2: $H2 (system" "$SL_TMP/show" || fail "dpctl/show lacks port 2"

# ARP both ways, IPv4 by destination address.
appctl dpctl/add-flow "in_port(1),eth(),eth_type(0x0806)" 2
appctl dpctl/add-flow "in_port(2),eth(),eth_type(0x0806)" 1
appctl dpctl/add-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=10.0.0.2,frag=no)" 2
appctl dpctl/add-flow "in_port(2),eth(),eth_type(0x0800),ipv4(dst=10.0.0.1,frag=no)" 1

sl_ping_ready "sl-ns1-$S" 10.0.0.2
ip netns exec "sl-ns1-$S" ping -c 3 -i 0.2 -W 2 10.0.0.2 || fail "ping through the datapath"

# Multi-megabyte TCP transfer, content verified.
head -c 8388608 /dev/urandom > "$SL_TMP/blob"
sl_tcp_copy "sl-ns1-$S" "sl-ns2-$S" 10.0.0.2 5001 "$SL_TMP/blob"
sl_log "8 MiB TCP transfer verified"

appctl dpctl/dump-flows | tee "$SL_TMP/flows"
[ "$(grep -c 'actions:' "$SL_TMP/flows")" -eq 4 ] || fail "expected 4 flows"
grep -q "ipv4(dst=10.0.0.2,frag=no), packets:[1-9]" "$SL_TMP/flows" || fail "flow counters did not move"

# Debian's ovs-appctl speaks the same unixctl protocol.
if command -v ovs-appctl >/dev/null; then
  ovs-appctl -t "$SL_RUNDIR/sluice-switchd.ctl" dpctl/dump-flows > "$SL_TMP/ovsflows" || fail "ovs-appctl"
  cmp <(sed 's/used:[^,]*,//' "$SL_TMP/flows") <(sed 's/used:[^,]*,//' "$SL_TMP/ovsflows") || fail "ovs-appctl output differs"
  ovs-appctl -t "$SL_RUNDIR/sluice-switchd.ctl" version | grep -q sluice-switchd || fail "ovs-appctl version"
fi

# Without flows, traffic stops and misses are counted.
appctl dpctl/del-flows
before=$(sl_pmd_stat misses)
if ip netns exec "sl-ns1-$S" ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null 2>&1; then fail "ping works without flows"; fi
after=$(sl_pmd_stat misses)
[ "$after" -gt "$before" ] || fail "miss counter did not rise ($before -> $after)"
sl_log "misses $before -> $after after del-flows"
appctl dpif-netdev/pmd-stats-show
echo "PASS"
