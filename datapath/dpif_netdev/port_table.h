// The immutable set of ports the PMDs see: replaced as a whole by the writer (DpifNetdev, under
// its lock) and reclaimed by QSBR once no PMD can still be reading it.
#pragma once

#include <cstdint>
#include <vector>

#include "datapath/port/port.h"

namespace sluice::dp {

inline constexpr uint32_t kMaxPorts = 1024;  // datapath port numbers 0..kMaxPorts-1

struct PortTable {
  Port* by_no[kMaxPorts] = {};
  struct RxQ {
    Port* port;
    uint16_t qid;
    bool slow;  // Port::SlowPoll()
  };
  std::vector<std::vector<RxQ>> rxqs_by_pmd;
};

}  // namespace sluice::dp
