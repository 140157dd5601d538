// Must not compile: no DPDK header is reachable from ofproto.
#include <rte_mbuf.h>
