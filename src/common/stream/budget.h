// A memory budget shared by the connections of one server (the OVSDB server, a bridge's
// OpenFlow connections): each connection keeps its account at the bytes it holds (unsent output,
// a partial input message). When the total passes the limit, the connection holding the most is
// evicted (its callback closes it, with a log line), so a few greedy or stalled peers cannot make
// the process grow without bound while the others keep being served.
//
// One thread only: the one its connections run on.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>

namespace sluice {

class MemoryBudget;

class BudgetAccount {
 public:
  ~BudgetAccount();
  BudgetAccount(const BudgetAccount&) = delete;
  BudgetAccount& operator=(const BudgetAccount&) = delete;
  // The bytes this connection holds now. May evict a connection (this one or another).
  void Set(size_t bytes);
  size_t held() const { return held_; }

 private:
  friend class MemoryBudget;
  BudgetAccount(std::shared_ptr<MemoryBudget> b, std::function<void(const std::string&)> evict)
      : budget_(std::move(b)), evict_(std::move(evict)) {}
  std::shared_ptr<MemoryBudget> budget_;
  std::function<void(const std::string&)> evict_;
  size_t held_ = 0;
  bool evicting_ = false;
};

class MemoryBudget : public std::enable_shared_from_this<MemoryBudget> {
 public:
  static std::shared_ptr<MemoryBudget> Create(size_t limit) {
    return std::shared_ptr<MemoryBudget>(new MemoryBudget(limit));
  }
  // `evict(reason)` must close the connection (it may run inside any account's Set()).
  std::unique_ptr<BudgetAccount> Join(std::function<void(const std::string& reason)> evict);
  size_t total() const { return total_; }
  size_t limit() const { return limit_; }
  size_t members() const { return members_.size(); }
  uint64_t evictions() const { return evictions_; }

 private:
  friend class BudgetAccount;
  explicit MemoryBudget(size_t limit) : limit_(limit) {}
  void Enforce();

  size_t limit_;
  size_t total_ = 0;
  uint64_t evictions_ = 0;
  std::set<BudgetAccount*> members_;
};

}  // namespace sluice
