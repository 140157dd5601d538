// A poll-mode driver thread: rx burst -> parse -> EMC -> megaflow classifier -> actions ->
// tx burst, over the rx queues assigned to it. Everything it touches per packet is its own
// (caches, counters, tx buffers) or RCU-published (port table, megaflows). Misses leave through
// a bounded, rate-limited ring to the upcall handler thread. A PMD knows its datapath only
// through its PmdContext: the few shared objects it reads, never the DpifNetdev itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "datapath/actions/meter.h"
#include "datapath/cache/dpcls.h"
#include "datapath/cache/emc.h"
#include "datapath/dpif_netdev/port_table.h"
#include "datapath/dpif_netdev/rcu.h"
#include "datapath/flow/flow_key.h"
#include "sluice/result.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace sluice::dp {

// What a PMD thread sees of its datapath. The pointers outlive the PMD.
struct PmdContext {
  QsbrReclaimer* reclaimer = nullptr;                    // quiescent states, deletion generation
  const std::atomic<const PortTable*>* ports = nullptr;  // the published port table
  MeterTable* meters = nullptr;                          // the meter(N) action
  rte_mempool* pool = nullptr;                           // copies for non-final outputs
  uint32_t upcall_rate = 1000000;  // per in_port, packets/s admitted to the upcall queue
  uint32_t upcall_burst = 8192;
  uint32_t emc_insert_inv_prob = 100;
  // The EMC is consulted only when the classifier has more subtables than this.
  uint32_t emc_min_subtables = 2;
};

// A miss or userspace() action on its way to the handler thread: a preallocated slot of the
// PMD's upcall ring.
struct PmdUpcall {
  rte_mbuf* packet = nullptr;
  FlowKey key;
  unsigned pmd = 0;
  uint32_t userspace_pid = 0;  // for userspace() action upcalls
  bool is_action = false;      // false: miss; true: userspace() action
  uint64_t cookie = 0;
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

struct alignas(64) PmdCounters {
  std::atomic<uint64_t> packets{0}, simple_hits{0}, emc_hits{0}, megaflow_hits{0}, misses{0},
      lost{0}, upcalls{0}, dropped{0}, busy_cycles{0}, idle_cycles{0}, iterations{0};
};

class Pmd {
 public:
  static constexpr unsigned kUpcallSlots = 1024;
  static constexpr unsigned kBatch = 32;
  static constexpr unsigned kMaxRecircDepth = 6;

  Pmd(const PmdContext& ctx, unsigned index, int core);
  ~Pmd();

  Result<void> Start();
  void Stop();

  unsigned index() const { return index_; }
  int core() const { return core_; }
  Dpcls& dpcls() { return dpcls_; }  // writer side: the DpifNetdev lock held
  const Dpcls& dpcls() const { return dpcls_; }

  PmdStatsSnapshot Stats() const;
  void ClearStats();

  // Handler side: take up to n pending upcalls; give each back with ReleaseUpcall.
  unsigned TakeUpcalls(PmdUpcall** out, unsigned n);
  void ReleaseUpcall(PmdUpcall* u);

  // Sink interface for ExecuteActions (PMD thread only).
  void Output(uint32_t port, rte_mbuf* m) noexcept;
  void Userspace(const ActUserspace& u, rte_mbuf* m) noexcept;
  void Recirc(uint32_t recirc_id, rte_mbuf* m) noexcept;
  rte_mempool* ClonePool() noexcept;
  void CountDrop() noexcept;
  bool Meter(uint32_t meter_id, rte_mbuf* m) noexcept;

 private:
  struct TxBuf {
    uint16_t n = 0;
    rte_mbuf* pkts[kBatch];
  };
  struct RecircBuf {
    uint16_t n = 0;
    rte_mbuf* pkts[kBatch];
    uint32_t ids[kBatch];
  };

  void Run();
  void ProcessBatch(rte_mbuf** pkts, const uint32_t* recirc_ids, uint16_t n,
                    unsigned depth) noexcept;
  void ExecuteBatch(const Megaflow* f, rte_mbuf** pkts, uint16_t n) noexcept;
  void FlushTx() noexcept;
  // n packets into port's tx buffer (dropped and counted if the port is gone).
  void TxAppendBurst(uint32_t port, rte_mbuf* const* pkts, uint16_t n) noexcept;
  void FlushPort(uint32_t port_no) noexcept;
  bool AdmitUpcall(uint32_t in_port) noexcept;
  // clock::NowMs() from the TSC: the system clock is read once a second, not per burst.
  int64_t ClockMs(uint64_t tsc) noexcept;
  void QueueUpcall(rte_mbuf* m, const FlowKey* key, bool is_action, uint32_t pid,
                   uint64_t cookie) noexcept;
  void Bump(std::atomic<uint64_t>& c, uint64_t n) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  const PmdContext ctx_;
  unsigned index_;
  int core_;
  Dpcls dpcls_;
  Emc emc_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  PmdCounters ctr_;
  // Stats cleared by the control side are subtracted at read time (the PMD is the only writer).
  PmdStatsSnapshot base_{};

  // Upcalls: slots are recycled through free_ring_ (handler -> PMD) and queued on upcall_ring_.
  std::vector<PmdUpcall> slots_;
  rte_ring* free_ring_ = nullptr;
  rte_ring* upcall_ring_ = nullptr;

  // PMD-private state.
  const PortTable* table_ = nullptr;  // valid for one iteration
  std::vector<TxBuf> tx_;             // by port number
  uint32_t dirty_[kMaxPorts];
  uint32_t n_dirty_ = 0;
  RecircBuf recirc_[kMaxRecircDepth + 1];
  unsigned cur_depth_ = 0;
  std::vector<double> tokens_;  // upcall token buckets by in_port
  std::vector<uint64_t> last_tsc_;
  uint64_t tsc_hz_ = 1;
  int64_t now_ms_ = 0;
  uint64_t clock_tsc_ = 0;     // TSC when clock_real_ms_ was read
  int64_t clock_real_ms_ = 0;  // clock::RealMs() at clock_tsc_
  double ms_per_tsc_ = 0;
  uint64_t seen_del_gen_ = 0;
  size_t emc_min_subtables_ = 0;  // the EMC is consulted only above this many subtables
  static constexpr uint64_t kSlowPollUs = 50;
  uint64_t slow_poll_tsc_ = 0;
  uint64_t last_slow_poll_tsc_ = 0;
  uint64_t rerank_tsc_ = 0;
};

}  // namespace sluice::dp
