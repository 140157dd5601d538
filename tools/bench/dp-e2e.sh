#!/usr/bin/env bash
# End-to-end datapath throughput on one PMD: net_pcap (rx_pcap, infinite_rx=1) -> switch ->
# net_null, 64-byte frames. Prints Mpps at the sink and the PMD's cycles per packet.
#   tools/bench/dp-e2e.sh [BUILD_DIR]         (root)
# Env: FLOWS=1 (distinct 5-tuples in the pcap), RULES=in_port|prefix16, DUR=5, WARM=2,
#      EAL="..." (default: no hugepages), PMD_CORE=1
set -euo pipefail
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
FLOWS=${FLOWS:-1} RULES=${RULES:-in_port} DUR=${DUR:-5} WARM=${WARM:-2} PMD_CORE=${PMD_CORE:-1}
EAL=${EAL:---no-huge --no-shconf -m 2048 --no-pci}
TMP=$(mktemp -d /tmp/sluice-bench.XXXXXX)
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf $TMP' EXIT
python3 "$HERE/gen_pcap.py" "$TMP/in.pcap" "$FLOWS"
"$BUILD/sluice-switchd" --rundir "$TMP" --pmd-cores "$PMD_CORE" --dpdk "$EAL" \
  --n-mbufs $((FLOWS + 65536)) \
  --log-file "$TMP/log" >/dev/null 2>&1 &
PID=$!
for _ in $(seq 100); do [ -S "$TMP/sluice-switchd.ctl" ] && break; sleep 0.1; done
A() { "$BUILD/sluice-appctl" -t "$TMP/sluice-switchd.ctl" "$@"; }
# Sink first, flows next, source last: traffic starts when the source port is polled.
A dpctl/add-if "p2,type=dpdk,port_no=2,dpdk-devargs=net_null1,no-rx=1"
case $RULES in
  in_port) A dpctl/add-flow "in_port(1)" 2 ;;
  prefix16)
    for p in $(seq 0 15); do
      A dpctl/add-flow "in_port(1),eth(),eth_type(0x0800),ipv4(dst=198.19.$p.0/255.255.255.0,frag=no)" 2
    done ;;
esac
A dpctl/add-if "p1,type=dpdk,port_no=1,dpdk-devargs=net_pcap0,rx_pcap=$TMP/in.pcap,infinite_rx=1"
tx() { A dpctl/show -s | awk '/port 2:/ {f=1} f && /TX packets/ {sub("packets:","",$2); print $2; exit}'; }
sleep "$WARM"
A dpif-netdev/pmd-stats-clear
t0=$(date +%s.%N); n0=$(tx)
sleep "$DUR"
t1=$(date +%s.%N); n1=$(tx)
stats=$(A dpif-netdev/pmd-stats-show)
cpp=$(echo "$stats" | awk -F': ' '/avg processing cycles per packet/ {print $2}')
emc=$(echo "$stats" | awk -F': ' '/emc hits/ {print $2}')
mf=$(echo "$stats" | awk -F': ' '/megaflow hits/ {print $2}')
mpps=$(echo "$n0 $n1 $t0 $t1" | awk '{printf "%.2f", ($2-$1)/($4-$3)/1e6}')
simple=$(echo "$stats" | awk -F": " "/simple match hits/ {print \$2}")
echo "flows=$FLOWS rules=$RULES: $mpps Mpps, $cpp cycles/packet (simple match hits $simple, emc hits $emc, megaflow hits $mf)"
