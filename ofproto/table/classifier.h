// Classifier: the rules of one flow table, searched by packet field values for the
// highest-priority visible rule, reporting which bits of the packet decided the answer.
//
// Tuple-space search: rules are grouped by mask ("tuple"), each tuple a hash table keyed by the
// masked value. Tuples are visited in decreasing order of the highest priority they hold and
// the search stops once no later tuple can beat the rule found. Within a tuple the lookup is
// staged: the hash over the pipeline-metadata words is checked first, then metadata+L2, then
// +L3, then +L4, so a packet that already fails on, say, eth_type only un-wildcards the stages
// examined so far. Each probed stage un-wildcards exactly the tuple's mask bits in it, which
// keeps masks as wide as the rules allow (a /8 prefix rule un-wildcards 8 bits).
//
// Not thread-safe: one writer, and readers must not run concurrently with writes. Versions give
// a reader a consistent table across the several flow mods applied between its lookups; rules
// are only physically removed (Remove) once no reader can still use their versions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ofproto/table/field_values.h"
#include "ofproto/table/rule.h"

namespace sluice::ofp {

class Classifier {
 public:
  Classifier();
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // rule->match must be normalized (NormalizeMatch). Sets rule->seq.
  void Insert(const RulePtr& rule);
  // Physically removes this rule object; false if it is not here.
  bool Remove(const Rule* rule);

  // The highest-priority rule visible at `version` that matches `pkt`, or null (table miss).
  // Among rules of equal priority the result is deterministic but unspecified. When `wc` is
  // given, the bits examined are OR-ed into it: every packet equal to `pkt` on the bits of
  // *wc gets the same answer.
  const Rule* Lookup(const FieldValues& pkt, Version version, FieldMask* wc = nullptr) const;

  // A live (not removed) rule whose normalized match and priority are exactly these.
  RulePtr FindLive(const Match& normalized, uint16_t priority) const;

  // Every stored rule, removed-but-not-purged ones included.
  void ForEach(const std::function<void(const RulePtr&)>& fn) const;

  size_t size() const { return n_rules_; }
  size_t tuple_count() const { return order_.size(); }

 private:
  struct Tuple;

  Tuple* FindTuple(const FieldMask& mask, uint64_t mask_hash) const;
  void Resort();

  std::unordered_multimap<uint64_t, std::unique_ptr<Tuple>> tuples_;  // by hash of mask
  std::vector<Tuple*> order_;  // by (max priority desc, creation order)
  uint64_t next_seq_ = 0;
  uint64_t next_tuple_seq_ = 0;
  size_t n_rules_ = 0;
};

}  // namespace sluice::ofp
