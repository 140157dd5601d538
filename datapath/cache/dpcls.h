// Dpcls: the per-PMD megaflow classifier, a tuple-space search. Megaflows that share a mask live
// in one subtable (a hash table keyed by the masked key); a lookup probes the subtables one after
// another, hottest first, and stops at the first match. Datapath megaflows never overlap, so the
// first match is the only one.
//
// Concurrency: exactly one writer thread at a time (the caller serialises writers with a mutex the
// PMD never takes) and exactly one lock-free reader, the owning PMD. The writer never modifies
// anything the reader might be following in place except single atomic slots; replaced objects
// (removed megaflows and their actions, emptied subtables, outgrown bucket arrays, old subtable
// vectors) go to the Reclaimer, which must free them only after an RCU grace period (the PMD
// reports a quiescent state between loop iterations).
//
// Reader rule: pointers returned by Lookup/LookupBatch stay valid until the PMD's next quiescent
// state. After a quiescent state the first call into the classifier (any reader method) re-reads
// the subtable set, so the reader never follows a stale subtable across a grace period.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "datapath/cache/megaflow.h"
#include "datapath/flow/flow_key.h"
#include "datapath/reclaimer.h"

namespace sluice::dp {

inline constexpr size_t kDpclsMaxSubtables = 1024;
// In-port numbers below this have a "simple match" slot (see Dpcls::Simple).
inline constexpr size_t kDpclsSimplePorts = 1024;

// True for a megaflow that matches on the input port alone (mask: in_port and recirc_id exact,
// nothing else; recirc_id 0): every packet arriving on that port belongs to it.
bool IsSimpleMatch(const FlowKey& masked_key, const FlowMask& mask) noexcept;
inline constexpr size_t kDpclsMaxBatch = 32;

class Dpcls {
 public:
  // `reclaimer` must outlive the classifier. nullptr frees immediately, which is only correct
  // when no reader runs concurrently (single-threaded tools and tests).
  explicit Dpcls(Reclaimer* reclaimer);
  // Frees everything directly: the reader must have stopped for good.
  ~Dpcls();
  Dpcls(const Dpcls&) = delete;
  Dpcls& operator=(const Dpcls&) = delete;

  // ---- writer side (one thread at a time) ----

  // Masks f->key with f->mask (it should already be masked), computes f->hash (the hash of the
  // masked key over the mask's non-zero words, i.e. the subtable hash), and publishes it.
  // Returns the stored pointer, or nullptr if an identical (key, mask) is already present or the
  // subtable cap is reached; then `f` and its actions are freed at once (never visible to the
  // reader).
  Megaflow* Insert(std::unique_ptr<Megaflow> f);
  // Unlinks `f` (which must be in this classifier), sets f->dead, and defers freeing `f` and its
  // actions object. Removes the subtable once it is empty.
  void Remove(Megaflow* f);
  // Exact (key, mask) match; `masked_key` is masked again, so an unmasked key also works.
  Megaflow* Find(const FlowKey& masked_key, const FlowMask& mask) const;
  // Writer-side classification (no hit counting, subtables in insertion order): the megaflow
  // matching the unmasked packet key, e.g. for an upcall handler checking for an existing flow.
  Megaflow* FindMatch(const FlowKey& key) const;
  // Calls fn(Megaflow*) for every stored megaflow. fn may Remove() the megaflow it is given (for
  // flushes) but must not insert or remove any other.
  template <class F>
  void ForEach(F fn) const {
    std::vector<Megaflow*> all;
    Collect(&all);
    for (Megaflow* f : all) fn(f);
  }
  size_t size() const { return n_flows_; }
  size_t n_subtables() const { return subtables_.size(); }

  // ---- reader side (the owning PMD only; noexcept, no allocation, no locks) ----

  // Picks up subtable additions/removals made by the writer. Cheap when nothing changed (one
  // atomic load). Lookup/LookupBatch/Rerank call it themselves; the PMD may also call it once per
  // iteration.
  void Sync() noexcept;
  // The megaflow whose masked key equals key & mask, or nullptr.
  Megaflow* Lookup(const FlowKey& key) noexcept;
  // out[i] = Lookup(*keys[i]) for i < n (n <= kDpclsMaxBatch); walks the subtables once for the
  // whole batch in rank order and stops as soon as every key matched. With sync = false the
  // subtable set of the last Sync() is used, so that it is the set WordsUsed() described (a
  // caller that filled only those words of the keys must not let a new subtable in between).
  void LookupBatch(const FlowKey* const keys[], size_t n, Megaflow* out[],
                   bool sync = true) noexcept;
  // Bit i set: some subtable of the reader's current set (as of the last Sync) compares key word
  // i. A lookup reads no other word of a key, so the PMD may leave the others unparsed.
  uint32_t WordsUsed() const noexcept { return words_used_; }
  // The live "simple match" megaflow of `in_port` (IsSimpleMatch), or nullptr. Such a megaflow
  // matches every packet from that port that is not recirculated, so the PMD can skip parsing
  // and the caches for the whole batch (as OVS's simple match does). Megaflows never overlap,
  // so while it exists no other megaflow can match those packets.
  Megaflow* Simple(uint32_t in_port) const noexcept {
    if (in_port >= kDpclsSimplePorts) return nullptr;
    Megaflow* f = simple_[in_port].load(std::memory_order_acquire);
    return f && !f->dead.load(std::memory_order_relaxed) ? f : nullptr;
  }
  // Re-sorts the reader's subtable order by hits since the previous Rerank (hottest first) and
  // restarts the count. Call periodically (e.g. every 1M packets or 1 s).
  void Rerank() noexcept;
  // The reader's current order (valid until the next quiescent state): for statistics and tests.
  size_t n_ranked() const noexcept { return n_order_; }
  const FlowMask& RankedMask(size_t i) const noexcept;
  // Hits counted for the i-th ranked subtable since the last Rerank.
  uint64_t RankedHits(size_t i) const noexcept;

 private:
  struct Table;
  struct Subtable;
  struct SubtableVec;

  template <uint32_t N>
  static uint64_t LookupSubtable(const Subtable* st, const FlowKey* const keys[], uint64_t pending,
                                 Megaflow* out[]) noexcept;
  Subtable* FindSubtable(const FlowMask& mask, uint32_t mask_hash) const;
  Subtable* CreateSubtable(const FlowMask& mask, uint32_t mask_hash);
  void DestroySubtable(Subtable* st);
  void PublishSubtables();
  void Resize(Subtable* st, uint32_t n_buckets);
  void Collect(std::vector<Megaflow*>* out) const;
  void Reclaim(std::function<void()> fn);

  Reclaimer* reclaimer_;

  // Writer-owned state.
  std::vector<Subtable*> subtables_;  // owning; insertion order
  size_t n_flows_ = 0;

  // Shared: the published subtable set and its version.
  std::atomic<SubtableVec*> vec_{nullptr};
  std::atomic<uint64_t> version_{0};
  std::atomic<Megaflow*> simple_[kDpclsSimplePorts] = {};

  // Reader-private state, on its own cache lines.
  alignas(64) uint64_t seen_version_ = 0;
  size_t n_order_ = 0;
  uint32_t words_used_ = 0;
  Subtable* order_[kDpclsMaxSubtables];
};

}  // namespace sluice::dp
