// DpifNetdev: the DPDK-backed datapath (Open vSwitch's dpif-netdev), the Dpif implementation
// of sluice-switchd. Ports, PMD threads with their megaflow caches, the upcall path for misses
// (per-PMD rings drained by one handler thread into the registered UpcallSink), and the
// control-side Dpif methods.
//
// Locks (common/ordered_mutex.h; the order is stated in datapath/dpif.h): `sink_mu_` (level
// kLockLevelUpcallSink) is held by the handler thread while the sink runs; `mu_` (level
// kLockLevelDpif) is the writer lock of ports, flows and the meter ids, held only for bounded
// work and never by a PMD. PMDs read everything they need lock-free (RCU, QSBR reclamation).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/ordered_mutex.h"
#include "datapath/actions/meter.h"
#include "datapath/dpif.h"
#include "datapath/dpif_netdev/pmd.h"
#include "datapath/dpif_netdev/port_table.h"
#include "datapath/dpif_netdev/rcu.h"
#include "datapath/port/port.h"

struct rte_mempool;

namespace sluice::dp {

class DummyPort;
struct Megaflow;

struct DpifNetdevConfig {
  std::vector<unsigned> pmd_cores = {1};  // one PMD thread per listed CPU
  uint32_t upcall_rate = 1000000;         // per in_port, packets/s admitted to the upcall queue
  uint32_t upcall_burst = 8192;
  size_t max_megaflows = 200000;  // per PMD
  uint32_t emc_insert_inv_prob = 100;
  // The EMC is consulted only when a PMD's classifier has more subtables than this: with fewer, a
  // classifier probe costs less than the EMC's whole-key hash and compare.
  uint32_t emc_min_subtables = 2;
  int64_t max_idle_ms = 10000;  // idle expiry of upcall-installed megaflows
};

// Which PMD polls which receive queue (dpif-netdev/pmd-rxq-show).
struct RxqAssignment {
  unsigned pmd = 0;
  int core = -1;
  std::string port;
  uint16_t qid = 0;
  bool slow = false;  // polled every 50 us only (tap)
};

struct DpifNetdevCounters {
  std::atomic<uint64_t> upcalls_handled{0};
  std::atomic<uint64_t> upcalls_unhandled{0};  // no sink registered: dropped
  std::atomic<uint64_t> megaflows_expired{0};
  std::atomic<uint64_t> flow_puts{0};
  std::atomic<uint64_t> flow_dels{0};
  std::atomic<uint64_t> executes{0};
};

class DpifNetdev final : public Dpif {
 public:
  // EAL must be initialised. `pool` is the mbuf pool for rx queues and packet copies.
  static Result<std::unique_ptr<DpifNetdev>> Create(const DpifNetdevConfig& cfg, rte_mempool* pool);
  ~DpifNetdev() override;

  // ---- Dpif ----
  DpifInfo Info() const override;
  DpifLimits Limits() const override;
  Result<OdpPort> PortAdd(const PortSpec& spec, OdpPort requested = 0) override;
  Result<void> PortDel(OdpPort port) override;
  Result<DpifPort> PortQuery(OdpPort port) const override;
  Result<DpifPort> PortQueryByName(std::string_view name) const override;
  std::vector<DpifPort> PortDump() const override;
  Result<void> FlowPut(const FlowKey& key, const FlowMask& mask, ActionView actions,
                       unsigned flags) override;
  Result<void> FlowDel(const FlowKey& key, const FlowMask& mask) override;
  std::vector<DpifFlow> FlowGet(const FlowKey& key, const FlowMask& mask) const override;
  Result<DpifFlowStats> FlowStats(const FlowKey& key, const FlowMask& mask) const override;
  void FlowFlush() override;
  size_t FlowCount() const override;
  std::unique_ptr<DpifFlowDump> FlowDumpStart(const FlowDumpOptions& options = {}) override;
  void SetMaxIdle(int64_t ms) override;
  Result<DpPacket> PacketFromBytes(std::span<const uint8_t> bytes, OdpPort in_port) override;
  void Execute(DpPacket packet, ActionView actions, ExecuteSink* sink,
               ExecuteMode mode = ExecuteMode::kForward) override;
  void SetUpcallSink(UpcallSink* sink) override;
  Result<void> MeterSet(uint32_t id, const MeterConfig& cfg) override {
    return meters_.Set(id, cfg);
  }
  Result<void> MeterDel(uint32_t id) override { return meters_.Del(id); }
  Result<MeterStatsSnapshot> MeterStats(uint32_t id) const override { return meters_.Stats(id); }
  void Synchronize() override { reclaimer_.Synchronize(); }

  // ---- dpif-netdev only (dpif-netdev/*, netdev-dummy/* commands) ----
  // The dummy port `name`, or an error.
  Result<DummyPort*> Dummy(const std::string& name) const;
  std::vector<PmdStatsSnapshot> PmdStats() const;
  std::vector<RxqAssignment> Rxqs() const;
  void ClearPmdStats();
  const DpifNetdevCounters& counters() const { return counters_; }

 private:
  class FlowDump;
  friend class FlowDump;

  DpifNetdev(const DpifNetdevConfig& cfg, rte_mempool* pool);
  void PublishPortsLocked();
  void HandlerLoop();
  void ExpireIdleLocked(int64_t now_ms);
  // Classifier changes that keep the per-PMD id index in step.
  bool InsertLocked(size_t pmd, std::unique_ptr<Megaflow> f);
  void RemoveLocked(size_t pmd, Megaflow* f);
  DpifPort PortInfoLocked(OdpPort no) const;

  DpifNetdevConfig cfg_;
  rte_mempool* pool_;
  QsbrReclaimer reclaimer_;
  MeterTable meters_;
  mutable OrderedMutex mu_{kLockLevelDpif, "dpif-netdev"};  // the writer lock; never a PMD's
  std::vector<PortPtr> ports_;                              // indexed by port number
  std::atomic<const PortTable*> ports_pub_{nullptr};
  std::vector<std::unique_ptr<Pmd>> pmds_;
  // Per PMD: its megaflows by id, the cursor order of flow dumps.
  std::vector<std::map<uint64_t, Megaflow*>> flows_by_id_;
  std::atomic<UpcallSink*> sink_{nullptr};
  OrderedMutex sink_mu_{kLockLevelUpcallSink, "dpif-netdev upcall sink"};
  uint64_t next_flow_id_ = 1;
  DpifNetdevCounters counters_;
  std::atomic<bool> stop_{false};
  std::thread handler_thread_;
};

}  // namespace sluice::dp
