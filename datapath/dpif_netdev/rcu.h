// Deferred reclamation for objects the PMDs may still be reading (QSBR, DPDK rte_rcu_qsbr).
// PMDs report a quiescent state at the top of every poll-loop iteration. A deferred free runs
// after two grace periods: after the first, every PMD has observed the bumped deletion
// generation and swept dead megaflows out of its EMC; after the second, that sweep is over.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "datapath/reclaimer.h"

struct rte_rcu_qsbr;

namespace sluice::dp {

class QsbrReclaimer : public Reclaimer {
 public:
  explicit QsbrReclaimer(unsigned max_threads);
  ~QsbrReclaimer() override;

  void Defer(std::function<void()> free_fn) override;

  // Advances pending batches through their grace periods and runs what is due. Non-blocking.
  // Returns the number of callbacks run.
  size_t Poll();
  // Blocks until everything deferred so far has run (for port removal and shutdown).
  void Synchronize();

  // PMD side.
  void Register(unsigned thread_id);
  void Unregister(unsigned thread_id);
  void Quiescent(unsigned thread_id) noexcept;
  uint64_t deletion_generation() const noexcept { return del_gen_.load(std::memory_order_acquire); }

  size_t pending() const;

 private:
  struct Stage {
    uint64_t token;
    std::vector<std::function<void()>> fns;
  };

  rte_rcu_qsbr* v_ = nullptr;
  mutable std::mutex mu_;
  std::vector<std::function<void()>> batch_;
  std::vector<Stage> stage1_, stage2_;
  std::atomic<uint64_t> del_gen_{0};
};

}  // namespace sluice::dp
