#include "common/stream/budget.h"

#include <fmt/format.h>

namespace sluice {

std::unique_ptr<BudgetAccount> MemoryBudget::Join(std::function<void(const std::string&)> evict) {
  std::unique_ptr<BudgetAccount> a(new BudgetAccount(shared_from_this(), std::move(evict)));
  members_.insert(a.get());
  return a;
}

BudgetAccount::~BudgetAccount() {
  budget_->total_ -= held_;
  budget_->members_.erase(this);
}

void BudgetAccount::Set(size_t bytes) {
  budget_->total_ = budget_->total_ - held_ + bytes;
  held_ = bytes;
  if (budget_->total_ > budget_->limit_) budget_->Enforce();
}

void MemoryBudget::Enforce() {
  // Evict the largest holder not already on its way out; one at a time, until under the limit.
  while (total_ > limit_) {
    BudgetAccount* victim = nullptr;
    size_t pending = 0;  // held by accounts already being evicted
    for (BudgetAccount* a : members_) {
      if (a->evicting_) {
        pending += a->held_;
      } else if (!victim || a->held_ > victim->held_) {
        victim = a;
      }
    }
    if (!victim || victim->held_ == 0 || total_ - pending <= limit_) return;
    victim->evicting_ = true;
    ++evictions_;
    std::string reason = fmt::format(
        "memory budget exceeded: this connection holds {} bytes, all {} connections {} of {}",
        victim->held_, members_.size(), total_, limit_);
    auto evict = victim->evict_;
    if (evict) evict(reason);
  }
}

}  // namespace sluice
