#include "datapath/cache/emc.h"

#include <cstring>

namespace sluice::dp {

Emc::Emc(uint32_t seed) : entries_(new EmcEntry[kEmcEntries]), rng_(seed ? seed : 0x9e3779b9u) {
  Clear();
  SetInsertInvProb(kEmcDefaultInsertInvProb);
}

void Emc::SweepDead() noexcept {
  for (uint32_t i = 0; i < kEmcEntries; ++i) {
    EmcEntry& e = entries_[i];
    if (e.flow && e.flow->dead.load(std::memory_order_relaxed)) {
      e.flow = nullptr;
      e.hash = 0;
    }
  }
}

void Emc::Clear() noexcept {
  std::memset(static_cast<void*>(entries_.get()), 0, sizeof(EmcEntry) * kEmcEntries);
}

size_t Emc::Occupancy() const noexcept {
  size_t n = 0;
  for (uint32_t i = 0; i < kEmcEntries; ++i) n += Alive(entries_[i]);
  return n;
}

}  // namespace sluice::dp
