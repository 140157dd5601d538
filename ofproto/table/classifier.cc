#include "ofproto/table/classifier.h"

#include <algorithm>
#include <bit>

namespace sluice::ofp {
namespace {

constexpr uint64_t kSeed = 0x243f6a8885a308d3;

inline uint64_t Mix(uint64_t h, uint64_t w) {
  h ^= w * 0x9e3779b97f4a7c15;
  return std::rotl(h, 29) * 0xbf58476d1ce4e5b9;
}

inline uint64_t Finish(uint64_t h) {
  h ^= h >> 31;
  h *= 0x94d049bb133111eb;
  return h ^ (h >> 29);
}

uint64_t HashMask(const FieldMask& m) {
  uint64_t h = kSeed;
  for (uint64_t w : m.words()) h = Mix(h, w);
  return Finish(h);
}

}  // namespace

struct Classifier::Tuple {
  FieldMask mask;
  uint64_t seq = 0;
  // Indices of the mask's non-zero words, stage by stage; stage s ends at stage_end[s].
  std::array<uint8_t, FieldValues::kWords> words{};
  std::array<uint8_t, kNumStages> stage_end{};
  int last_stage = -1;  // last stage with a non-zero word; -1 for the empty (match-all) mask
  // Hashes of the value prefix through stage s, with reference counts, for s < last_stage.
  std::array<std::unordered_map<uint64_t, uint32_t>, kNumStages - 1> stage_hashes;
  // Rules by hash of their whole masked value, each chain by (priority desc, seq asc).
  std::unordered_map<uint64_t, std::vector<RulePtr>> chains;
  std::map<uint16_t, uint32_t> priorities;  // rules per priority
  size_t n_rules = 0;

  explicit Tuple(const FieldMask& m) : mask(m) {
    const auto& bounds = StageWordBounds();
    uint8_t n = 0;
    for (size_t s = 0; s < kNumStages; ++s) {
      for (uint8_t w = bounds[s]; w < bounds[s + 1]; ++w) {
        if (m.words()[w]) {
          words[n++] = w;
          last_stage = static_cast<int>(s);
        }
      }
      stage_end[s] = n;
    }
  }

  uint16_t max_priority() const { return priorities.rbegin()->first; }

  // Walks the stages of `value` (already masked), calling stage_fn(s, hash) after each
  // non-empty stage before the last; returns the hash of the whole masked value.
  template <class StageFn>
  uint64_t HashStages(const FieldValues& value, StageFn&& stage_fn) const {
    uint64_t h = kSeed;
    size_t wi = 0;
    for (int s = 0; s <= last_stage; ++s) {
      if (wi == stage_end[s]) continue;
      for (; wi < stage_end[s]; ++wi) h = Mix(h, value.words()[words[wi]]);
      if (s < last_stage) stage_fn(s, Finish(h));
    }
    return Finish(h);
  }
};

Classifier::Classifier() = default;
Classifier::~Classifier() = default;

Classifier::Tuple* Classifier::FindTuple(const FieldMask& mask, uint64_t mask_hash) const {
  auto [lo, hi] = tuples_.equal_range(mask_hash);
  for (auto it = lo; it != hi; ++it) {
    if (it->second->mask == mask) return it->second.get();
  }
  return nullptr;
}

void Classifier::Resort() {
  std::sort(order_.begin(), order_.end(), [](const Tuple* a, const Tuple* b) {
    if (a->max_priority() != b->max_priority()) return a->max_priority() > b->max_priority();
    return a->seq < b->seq;
  });
}

void Classifier::Insert(const RulePtr& rule) {
  MatchKey k = KeyOf(rule->match);
  uint64_t mh = HashMask(k.mask);
  Tuple* t = FindTuple(k.mask, mh);
  if (!t) {
    auto owned = std::make_unique<Tuple>(k.mask);
    owned->seq = next_tuple_seq_++;
    t = owned.get();
    tuples_.emplace(mh, std::move(owned));
    order_.push_back(t);
  }
  rule->seq = next_seq_++;
  uint64_t h = t->HashStages(k.value, [t](int s, uint64_t sh) { ++t->stage_hashes[s][sh]; });
  std::vector<RulePtr>& chain = t->chains[h];
  auto pos = std::find_if(chain.begin(), chain.end(),
                          [&](const RulePtr& r) { return r->priority < rule->priority; });
  chain.insert(pos, rule);
  bool new_max = t->priorities.empty() || rule->priority > t->max_priority();
  ++t->priorities[rule->priority];
  ++t->n_rules;
  ++n_rules_;
  if (new_max) Resort();
}

bool Classifier::Remove(const Rule* rule) {
  MatchKey k = KeyOf(rule->match);
  uint64_t mh = HashMask(k.mask);
  Tuple* t = FindTuple(k.mask, mh);
  if (!t) return false;
  uint64_t h = t->HashStages(k.value, [](int, uint64_t) {});
  auto cit = t->chains.find(h);
  if (cit == t->chains.end()) return false;
  std::vector<RulePtr>& chain = cit->second;
  auto rit = std::find_if(chain.begin(), chain.end(),
                          [rule](const RulePtr& r) { return r.get() == rule; });
  if (rit == chain.end()) return false;
  uint16_t prio = rule->priority;
  uint16_t old_max = t->max_priority();
  chain.erase(rit);
  if (chain.empty()) t->chains.erase(cit);
  t->HashStages(k.value, [t](int s, uint64_t sh) {
    auto it = t->stage_hashes[s].find(sh);
    if (--it->second == 0) t->stage_hashes[s].erase(it);
  });
  if (--t->priorities[prio] == 0) t->priorities.erase(prio);
  --t->n_rules;
  --n_rules_;
  if (t->n_rules == 0) {
    std::erase(order_, t);
    auto [lo, hi] = tuples_.equal_range(mh);
    for (auto it = lo; it != hi; ++it) {
      if (it->second.get() == t) {
        tuples_.erase(it);
        break;
      }
    }
  } else if (t->max_priority() != old_max) {
    Resort();
  }
  return true;
}

const Rule* Classifier::Lookup(const FieldValues& pkt, Version version, FieldMask* wc) const {
  const Rule* best = nullptr;
  for (const Tuple* t : order_) {
    if (best && t->max_priority() <= best->priority) break;
    uint64_t h = kSeed;
    size_t wi = 0;
    bool miss = false;
    for (int s = 0; s <= t->last_stage; ++s) {
      size_t end = t->stage_end[s];
      if (wi == end) continue;
      for (; wi < end; ++wi) {
        uint8_t w = t->words[wi];
        h = Mix(h, pkt.words()[w] & t->mask.words()[w]);
      }
      if (s < t->last_stage && !t->stage_hashes[s].contains(Finish(h))) {
        miss = true;
        break;
      }
    }
    if (wc) {
      for (size_t i = 0; i < wi; ++i) wc->words()[t->words[i]] |= t->mask.words()[t->words[i]];
    }
    if (miss) continue;
    auto it = t->chains.find(Finish(h));
    if (it == t->chains.end()) continue;
    for (const RulePtr& r : it->second) {
      if (best && r->priority <= best->priority) break;
      if (r->VisibleAt(version) && MatchesPacket(r->match, pkt)) {
        best = r.get();
        break;
      }
    }
  }
  return best;
}

void Classifier::ForEach(const std::function<void(const RulePtr&)>& fn) const {
  for (const Tuple* t : order_) {
    for (const auto& [hash, chain] : t->chains) {
      for (const RulePtr& r : chain) fn(r);
    }
  }
}

RulePtr Classifier::FindLive(const Match& normalized, uint16_t priority) const {
  MatchKey k = KeyOf(normalized);
  Tuple* t = FindTuple(k.mask, HashMask(k.mask));
  if (!t) return nullptr;
  auto it = t->chains.find(t->HashStages(k.value, [](int, uint64_t) {}));
  if (it == t->chains.end()) return nullptr;
  for (const RulePtr& r : it->second) {
    if (r->priority == priority && r->live() && r->match == normalized) return r;
  }
  return nullptr;
}

}  // namespace sluice::ofp
