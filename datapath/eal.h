// DPDK EAL start-up and the packet buffer pool.
#pragma once

#include <string>
#include <vector>

#include "sluice/result.h"

struct rte_mempool;

namespace sluice::dp {

// Default EAL arguments: no hugepages, no shared runtime files, 1 GiB of memory, no PCI scan
// (NICs are hot-plugged by devargs), so the switch runs anywhere. Operators who configure
// hugepages pass their own with --dpdk.
inline constexpr const char* kDefaultEalArgs = "--no-huge --no-shconf -m 1024 --no-pci";

// Splits `args` like a shell would (whitespace, single and double quotes).
std::vector<std::string> SplitArgs(const std::string& args);

// Initialises the EAL once per process. `lcores` is the list of CPUs the process may use.
Result<void> InitEal(const std::string& args, const std::string& file_prefix);

// At exit, after every port and thread is gone: releases the EAL. Its runtime directory is
// removed when the process exits.
void ShutdownEal();

// The shared mbuf pool (created on first call).
Result<rte_mempool*> PacketPool(unsigned n_mbufs = 32767);

}  // namespace sluice::dp
