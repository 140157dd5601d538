// A datapath port: one class per kind (ethdev-backed "dpdk"/"system"/"internal", and "dummy").
// The control thread creates, configures and destroys ports; PMD threads call RxBurst/TxBurst
// on the queues assigned to them (one thread per queue, except a shared tx queue, see below).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "datapath/dpif.h"  // PortSpec, PortStats
#include "sluice/result.h"

struct rte_mbuf;
struct rte_mempool;

namespace sluice::dp {

inline constexpr uint16_t kMaxQueues = 32;

// What a port needs from the datapath when it starts.
struct PortEnv {
  rte_mempool* pool = nullptr;
  uint16_t n_txq_wanted = 1;  // one per PMD plus one for non-PMD threads
};

// Per-queue counters, written by the single thread that owns the queue.
struct alignas(64) QueueCounters {
  std::atomic<uint64_t> packets{0}, bytes{0}, dropped{0};
  void Add(uint64_t p, uint64_t b) noexcept {
    packets.store(packets.load(std::memory_order_relaxed) + p, std::memory_order_relaxed);
    bytes.store(bytes.load(std::memory_order_relaxed) + b, std::memory_order_relaxed);
  }
  void Drop(uint64_t n) noexcept {
    dropped.store(dropped.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
};

class Port {
 public:
  explicit Port(std::string name) : name_(std::move(name)) {}
  virtual ~Port() = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  virtual std::string_view Type() const = 0;
  virtual Result<void> Start(const PortEnv& env) = 0;  // control thread
  virtual void Stop() = 0;                             // control thread

  // Fast path. RxBurst fills up to n packets. TxBurst takes ownership of all n packets: what the
  // device does not accept is freed and counted as tx_dropped.
  virtual uint16_t RxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept = 0;
  virtual void TxBurst(uint16_t qid, rte_mbuf** pkts, uint16_t n) noexcept = 0;

  virtual uint16_t n_rxq() const { return 1; }
  // Number of tx queues actually available; if fewer than wanted, queue (n_txq()-1) is shared
  // and TxBurst on it takes a spinlock (see TxQueueFor).
  virtual uint16_t n_txq() const { return 1; }
  virtual PortStats Stats() const;
  virtual std::string Describe() const { return {}; }  // extra detail for dpctl/show
  virtual bool LinkUp() const { return true; }
  // A port whose receive costs a system call (a kernel tap): PMDs poll it at most every
  // kSlowPollUs instead of every iteration, so it does not tax the fast ports.
  virtual bool SlowPoll() const { return false; }

  const std::string& name() const { return name_; }
  uint32_t port_no() const { return port_no_; }
  void set_port_no(uint32_t n) { port_no_ = n; }

  QueueCounters& rx_counters(uint16_t q) { return rxc_[q % kMaxQueues]; }
  QueueCounters& tx_counters(uint16_t q) { return txc_[q % kMaxQueues]; }

 protected:
  std::string name_;
  uint32_t port_no_ = 0;
  QueueCounters rxc_[kMaxQueues];
  QueueCounters txc_[kMaxQueues];
};

using PortPtr = std::unique_ptr<Port>;

// Creates a port of spec.type (not started).
Result<PortPtr> CreatePort(const PortSpec& spec);

}  // namespace sluice::dp
