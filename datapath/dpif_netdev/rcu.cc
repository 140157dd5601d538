#include "datapath/dpif_netdev/rcu.h"

#include <thread>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

namespace sluice::dp {

QsbrReclaimer::QsbrReclaimer(unsigned max_threads) {
  size_t sz = rte_rcu_qsbr_get_memsize(max_threads);
  v_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sluice_qsbr", sz, RTE_CACHE_LINE_SIZE));
  if (v_) rte_rcu_qsbr_init(v_, max_threads);
}

QsbrReclaimer::~QsbrReclaimer() {
  // No reader is left: run everything.
  std::vector<std::function<void()>> all;
  {
    std::lock_guard lk(mu_);
    for (auto& s : stage2_)
      for (auto& f : s.fns) all.push_back(std::move(f));
    for (auto& s : stage1_)
      for (auto& f : s.fns) all.push_back(std::move(f));
    for (auto& f : batch_) all.push_back(std::move(f));
    stage1_.clear();
    stage2_.clear();
    batch_.clear();
  }
  for (auto& f : all) f();
  rte_free(v_);
}

void QsbrReclaimer::Defer(std::function<void()> free_fn) {
  std::lock_guard lk(mu_);
  batch_.push_back(std::move(free_fn));
}

size_t QsbrReclaimer::Poll() {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lk(mu_);
    if (!batch_.empty()) {
      del_gen_.fetch_add(1, std::memory_order_release);
      stage1_.push_back(Stage{rte_rcu_qsbr_start(v_), std::move(batch_)});
      batch_.clear();
    }
    for (size_t i = 0; i < stage1_.size();) {
      if (rte_rcu_qsbr_check(v_, stage1_[i].token, false) == 1) {
        stage2_.push_back(Stage{rte_rcu_qsbr_start(v_), std::move(stage1_[i].fns)});
        stage1_.erase(stage1_.begin() + i);
      } else {
        ++i;
      }
    }
    for (size_t i = 0; i < stage2_.size();) {
      if (rte_rcu_qsbr_check(v_, stage2_[i].token, false) == 1) {
        for (auto& f : stage2_[i].fns) due.push_back(std::move(f));
        stage2_.erase(stage2_.begin() + i);
      } else {
        ++i;
      }
    }
  }
  for (auto& f : due) f();
  return due.size();
}

void QsbrReclaimer::Synchronize() {
  while (pending() > 0) {
    Poll();
    if (pending() > 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

size_t QsbrReclaimer::pending() const {
  std::lock_guard lk(mu_);
  size_t n = batch_.size();
  for (auto& s : stage1_) n += s.fns.size();
  for (auto& s : stage2_) n += s.fns.size();
  return n;
}

void QsbrReclaimer::Register(unsigned thread_id) {
  rte_rcu_qsbr_thread_register(v_, thread_id);
  rte_rcu_qsbr_thread_online(v_, thread_id);
}

void QsbrReclaimer::Unregister(unsigned thread_id) {
  rte_rcu_qsbr_thread_offline(v_, thread_id);
  rte_rcu_qsbr_thread_unregister(v_, thread_id);
}

void QsbrReclaimer::Quiescent(unsigned thread_id) noexcept {
  rte_rcu_qsbr_quiescent(v_, thread_id);
}

}  // namespace sluice::dp
