// Emc: the exact-match cache in front of the classifier. PMD-private (no atomics, no sharing):
// full packet key -> megaflow, 8192 entries, two candidate slots per hash.
//
// Entries hold raw Megaflow pointers without owning them. The datapath frees a megaflow only after
// the PMD has passed two quiescent states, and the PMD calls SweepDead() in between whenever the
// datapath's deletion generation changed; so an entry's pointer is always safe to dereference, and
// Lookup() treats a dead megaflow as a miss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "datapath/cache/megaflow.h"
#include "datapath/flow/flow_key.h"

namespace sluice::dp {

inline constexpr uint32_t kEmcShift = 13;
inline constexpr uint32_t kEmcEntries = 1u << kEmcShift;  // 8192
inline constexpr uint32_t kEmcMask = kEmcEntries - 1;
inline constexpr uint32_t kEmcDefaultInsertInvProb = 100;  // as OVS's emc-insert-inv-prob

struct EmcEntry {
  Megaflow* flow;  // nullptr: empty
  uint32_t hash;   // HashFlowKey(key)
  uint32_t pad;
  FlowKey key;
};

class Emc {
 public:
  // `seed` feeds the insertion PRNG (any value; 0 is replaced by a fixed non-zero seed).
  explicit Emc(uint32_t seed = 0x9e3779b9u);
  Emc(const Emc&) = delete;
  Emc& operator=(const Emc&) = delete;

  // `hash` must be HashFlowKey(key). Returns nullptr when absent or when the megaflow is dead.
  Megaflow* Lookup(const FlowKey& key, uint32_t hash) noexcept {
    uint32_t h = hash;
    for (int i = 0; i < 2; ++i, h >>= kEmcShift) {
      const EmcEntry& e = entries_[h & kEmcMask];
      if (e.hash == hash && e.flow && e.key == key) {
        // A key lives in at most one slot (Insert refreshes in place), so stop here.
        return e.flow->dead.load(std::memory_order_relaxed) ? nullptr : e.flow;
      }
    }
    return nullptr;
  }

  // Starts loading both candidate entries of `hash` (batch processing: prefetch all, then look).
  void Prefetch(uint32_t hash) const noexcept {
    __builtin_prefetch(&entries_[hash & kEmcMask]);
    __builtin_prefetch(&entries_[(hash >> kEmcShift) & kEmcMask]);
  }

  // Caches key -> f with probability 1/inv_prob (cheap PRNG), so that a flood of short flows does
  // not thrash the cache. An entry already holding `key` is refreshed in place; otherwise an empty
  // or dead candidate is replaced, else the candidate with the lower hash (an arbitrary but stable
  // priority, as in OVS).
  void Insert(const FlowKey& key, uint32_t hash, Megaflow* f) noexcept {
    if (inv_prob_ == 0 || NextRandom() > threshold_) return;
    EmcEntry* victim = nullptr;
    uint32_t h = hash;
    for (int i = 0; i < 2; ++i, h >>= kEmcShift) {
      EmcEntry* e = &entries_[h & kEmcMask];
      if (e->flow && e->hash == hash && e->key == key) {
        e->flow = f;
        return;
      }
      if (!victim) {
        victim = e;
      } else {
        const bool v_alive = Alive(*victim);
        const bool e_alive = Alive(*e);
        if ((v_alive && !e_alive) || (v_alive == e_alive && e->hash < victim->hash)) victim = e;
      }
    }
    victim->flow = f;
    victim->hash = hash;
    victim->key = key;
  }

  // 0 disables insertion (the cache empties through sweeps and misses), 1 inserts always.
  void SetInsertInvProb(uint32_t inv_prob) noexcept {
    inv_prob_ = inv_prob;
    threshold_ = inv_prob ? std::numeric_limits<uint32_t>::max() / inv_prob : 0;
  }
  uint32_t insert_inv_prob() const noexcept { return inv_prob_; }

  // Drops entries whose megaflow is dead. The PMD calls it when the deletion generation changed.
  void SweepDead() noexcept;
  void Clear() noexcept;
  // Entries holding a live megaflow (statistics; walks the whole cache).
  size_t Occupancy() const noexcept;

 private:
  static bool Alive(const EmcEntry& e) noexcept {
    return e.flow && !e.flow->dead.load(std::memory_order_relaxed);
  }
  // xorshift32: never yields 0 from a non-zero state; the comparison against threshold_ makes
  // inv_prob == 1 always insert.
  uint32_t NextRandom() noexcept {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return rng_;
  }

  std::unique_ptr<EmcEntry[]> entries_;
  uint32_t rng_;
  uint32_t inv_prob_ = 0;
  uint32_t threshold_ = 0;
};

}  // namespace sluice::dp
