// A port with no device: packets are injected by the control thread (unixctl
// netdev-dummy/receive) through a ring the PMD polls, and what the datapath transmits is
// recorded (and optionally appended to a pcap file). The real PMD, caches and actions run
// unchanged, so tests need no NIC, hugepages or root.
#pragma once

#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "datapath/port/port.h"

struct rte_ring;

namespace sluice::dp {

class DummyPort : public Port {
 public:
  explicit DummyPort(std::string name, std::string pcap_path = {});
  ~DummyPort() override;

  std::string_view Type() const override { return "dummy"; }
  Result<void> Start(const PortEnv& env) override;
  void Stop() override;
  uint16_t RxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept override;
  void TxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept override;
  uint16_t n_txq() const override { return kMaxQueues; }
  std::string Describe() const override;

  // Control thread: queue a frame for reception.
  Result<void> Inject(const uint8_t* data, size_t len);
  // Control thread: frames transmitted since the last call (oldest first; at most the last
  // kMaxRecorded are kept).
  std::vector<std::vector<uint8_t>> TakeTx();

  static constexpr size_t kMaxRecorded = 4096;

 private:
  void DrainLocked();

  rte_mempool* pool_ = nullptr;
  rte_ring* rx_ring_ = nullptr;
  rte_ring* tx_ring_ = nullptr;
  std::string pcap_path_;
  std::FILE* pcap_ = nullptr;
  std::mutex mu_;  // control side only
  std::deque<std::vector<uint8_t>> recorded_;
};

}  // namespace sluice::dp
