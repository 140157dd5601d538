// The DPDK-backed datapath ("netdev" datapath): ports, PMD threads with their megaflow caches,
// the upcall path for misses, and the control-side API (port add/del, flow put/del/dump,
// execute, statistics). All control-side methods are thread-safe (one writer mutex, never taken
// by a PMD).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datapath/actions/action_list.h"
#include "datapath/actions/meter.h"
#include "datapath/cache/megaflow.h"
#include "datapath/dpif_netdev/rcu.h"
#include "datapath/flow/flow_key.h"
#include "datapath/port/port.h"
#include "sluice/result.h"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::dp {

class Pmd;
class DummyPort;

inline constexpr uint32_t kMaxPorts = 1024;  // datapath port numbers 0..kMaxPorts-1
inline constexpr uint32_t kPortLocal = 0;    // reserved for the bridge's own port (later)

struct DatapathConfig {
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

// A miss handed to the upcall handler. The handler owns `packet` during the callback: it must
// either pass it to Datapath::Execute or free it.
struct Upcall {
  rte_mbuf* packet = nullptr;
  FlowKey key;
  unsigned pmd = 0;
  uint32_t userspace_pid = 0;  // for kUserspace action upcalls
  bool is_action = false;      // false: miss; true: userspace() action
  uint64_t cookie = 0;
};

class UpcallHandler {
 public:
  virtual ~UpcallHandler() = default;
  virtual void HandleUpcall(Upcall& upcall) = 0;  // handler thread
};

struct PortInfo {
  uint32_t port_no;
  std::string name;
  std::string type;
  std::string detail;
  PortStats stats;
  bool link_up;
};

struct FlowDumpEntry {
  FlowKey key;
  FlowMask mask;
  ActionBuilder actions;
  uint64_t packets = 0;
  uint64_t bytes = 0;
  int64_t used_ms = 0;  // 0: never
  uint16_t tcp_flags = 0;
  unsigned pmd = 0;
  int core = -1;
  uint64_t id = 0;
};

// Which PMD polls which receive queue (dpif-netdev/pmd-rxq-show).
struct RxqAssignment {
  unsigned pmd = 0;
  int core = -1;
  std::string port;
  uint16_t qid = 0;
  bool slow = false;  // polled every 50 us only (tap)
};

struct PmdStatsSnapshot {
  unsigned index = 0;
  int core = -1;
  uint64_t packets = 0;      // packets received
  uint64_t simple_hits = 0;  // forwarded by an in_port-only megaflow without a lookup
  uint64_t emc_hits = 0;
  uint64_t megaflow_hits = 0;
  uint64_t misses = 0;
  uint64_t lost = 0;     // upcalls dropped (queue full or rate limit)
  uint64_t upcalls = 0;  // misses queued to the handler
  uint64_t dropped = 0;  // packets dropped by actions or bad output ports
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  uint64_t iterations = 0;
  uint64_t megaflows = 0;
  uint64_t subtables = 0;
};

struct DatapathCounters {
  std::atomic<uint64_t> upcalls_handled{0};
  std::atomic<uint64_t> upcalls_unhandled{0};  // no handler registered: dropped
  std::atomic<uint64_t> megaflows_expired{0};
  std::atomic<uint64_t> flow_puts{0};
  std::atomic<uint64_t> flow_dels{0};
  std::atomic<uint64_t> executes{0};
};

enum FlowPutFlags : unsigned {
  kFlowCreate = 1 << 0,  // create if absent
  kFlowModify = 1 << 1,  // modify if present
  kFlowZeroStats = 1 << 2,
  kFlowExpires = 1 << 3,  // subject to idle expiry (upcall-installed)
};

class Datapath {
 public:
  // EAL must be initialised. `pool` is the mbuf pool for rx queues and packet copies.
  static Result<std::unique_ptr<Datapath>> Create(const DatapathConfig& cfg, rte_mempool* pool);
  ~Datapath();

  // ---- ports ----
  // Adds and starts a port; `requested_no` 0 picks the lowest free number >= 1.
  Result<uint32_t> PortAdd(const PortSpec& spec, uint32_t requested_no = 0);
  Result<void> PortDel(uint32_t port_no);
  Result<uint32_t> PortNumber(const std::string& name) const;
  std::vector<PortInfo> Ports() const;
  // The dummy port `name` (for netdev-dummy/* commands), or an error.
  Result<DummyPort*> Dummy(const std::string& name) const;

  // ---- flows (installed on every PMD) ----
  Result<void> FlowPut(const FlowKey& key, const FlowMask& mask, const ActionBuilder& actions,
                       unsigned flags);
  Result<void> FlowDel(const FlowKey& key, const FlowMask& mask);
  void FlowFlush();
  std::vector<FlowDumpEntry> DumpFlows() const;
  // Exact (key, mask) lookup across PMDs: one entry per PMD that has it (stats summed by caller).
  std::vector<FlowDumpEntry> GetFlow(const FlowKey& key, const FlowMask& mask) const;
  size_t FlowCount() const;

  // ---- packets from the control side ----
  // Runs `actions` on `packet` (ownership taken) from a non-PMD thread. A userspace() action
  // hands a copy of the packet, as modified so far, to `on_userspace` (which then owns it);
  // without one such copies are dropped.
  // A recirc() action hands the packet (ownership) to `on_recirc` with its recirculation id;
  // the caller runs it through the pipeline again, after Execute returns (without one it is
  // dropped).
  using UserspaceFn = std::function<void(const ActUserspace&, rte_mbuf*)>;
  using RecircFn = std::function<void(uint32_t recirc_id, rte_mbuf*)>;
  void Execute(rte_mbuf* packet, ActionView actions, const UserspaceFn& on_userspace = {},
               const RecircFn& on_recirc = {});
  // Returns once the handler thread no longer runs the previous handler (it holds handler_mu_
  // while it uses one), so an owner may destroy itself right after SetUpcallHandler(nullptr).
  void SetUpcallHandler(UpcallHandler* h) {
    std::lock_guard lk(handler_mu_);
    handler_.store(h, std::memory_order_release);
  }

  // ---- meters (the meter(N) action; see datapath/actions/meter.h) ----
  // Adds or replaces meter `id` (0..kMaxMeters-1).
  Result<void> MeterSet(uint32_t id, const MeterConfig& cfg) { return meters_.Set(id, cfg); }
  Result<void> MeterDel(uint32_t id) { return meters_.Del(id); }
  Result<MeterStatsSnapshot> MeterStats(uint32_t id) const { return meters_.Stats(id); }
  // PMDs and the control-side executor meter through this, with TSC time.
  MeterTable& meters() noexcept { return meters_; }

  // ---- statistics ----
  std::vector<PmdStatsSnapshot> PmdStats() const;
  std::vector<RxqAssignment> Rxqs() const;
  void ClearPmdStats();
  const DatapathCounters& counters() const { return counters_; }
  const DatapathConfig& config() const { return cfg_; }
  rte_mempool* pool() const { return pool_; }
  void SetMaxIdle(int64_t ms) {
    std::lock_guard lk(mu_);
    cfg_.max_idle_ms = ms;
  }

  // Used by PMDs.
  struct PortTable;
  const PortTable* port_table() const noexcept {
    return ports_pub_.load(std::memory_order_acquire);
  }
  QsbrReclaimer& reclaimer() { return reclaimer_; }

 private:
  Datapath(const DatapathConfig& cfg, rte_mempool* pool);
  void PublishPortsLocked();
  void HandlerLoop();
  void ExpireIdleLocked(int64_t now_ms);

  DatapathConfig cfg_;
  rte_mempool* pool_;
  QsbrReclaimer reclaimer_;
  MeterTable meters_;
  mutable std::mutex mu_;       // the writer lock; PMDs never take it
  std::vector<PortPtr> ports_;  // indexed by port number
  std::atomic<const PortTable*> ports_pub_{nullptr};
  std::vector<std::unique_ptr<Pmd>> pmds_;
  std::atomic<UpcallHandler*> handler_{nullptr};
  std::mutex handler_mu_;  // held by the handler thread while it calls handler_
  uint64_t next_flow_id_ = 1;
  DatapathCounters counters_;
  std::atomic<bool> stop_{false};
  std::thread handler_thread_;
};

// The immutable set of ports the PMDs see; replaced as a whole and reclaimed by QSBR.
struct Datapath::PortTable {
  Port* by_no[kMaxPorts] = {};
  struct RxQ {
    Port* port;
    uint16_t qid;
    bool slow;  // Port::SlowPoll()
  };
  std::vector<std::vector<RxQ>> rxqs_by_pmd;
};

}  // namespace sluice::dp
