// Tests that need mbufs (binaries linking sluice_test_eal) call sluice::test::Eal() once; it
// starts DPDK's EAL without hugepages, PCI or shared files and returns a mempool for test
// packets.
#pragma once

struct rte_mempool;

namespace sluice::test {
rte_mempool* Eal();
}
