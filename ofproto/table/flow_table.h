// FlowTable and Pipeline: OpenFlow 1.3 flow tables with the flow-mod semantics of spec
// sections 6.4 and 7.3.4.1, timeouts, and the flow / aggregate / table statistics.
//
// Every change is made at a new pipeline version: rules added get version_added = v, rules
// deleted or replaced get version_removed = v, and the pipeline's version becomes v once the
// change is complete. Lookups name the version they run at, so a reader holding version v - 1
// keeps seeing the table as it was until it moves on; replaced rules stay in memory until
// Purge() says no reader can still use their versions.
//
// Not thread-safe, except Rule::AddStats and FlowTable::CountLookups, which any thread may call.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "ofproto/codec/messages.h"
#include "ofproto/codec/multipart.h"
#include "ofproto/codec/ofp_error.h"
#include "ofproto/table/classifier.h"
#include "ofproto/table/rule.h"

namespace sluice::ofp {

inline constexpr size_t kMaxTables = 255;  // table ids 0..254; 255 is OFPTT_ALL

// Which rules a delete or a stats request selects.
struct RuleFilter {
  Match match;  // normalized
  MatchKey key;
  bool strict = false;
  uint16_t priority = 0;  // strict only
  uint64_t cookie = 0;
  uint64_t cookie_mask = 0;
  uint32_t out_port = kPortAny;
  uint32_t out_group = kGroupAny;

  static RuleFilter From(const FlowMod& fm, bool strict);
  static RuleFilter From(const FlowStatsFilter& f);
};

class FlowTable {
 public:
  explicit FlowTable(uint8_t id) : id_(id) {}

  uint8_t id() const { return id_; }

  // The table's answer for a packet at `version`, counted in the table stats. Null: no rule
  // matched, and the packet is dropped (a table-miss rule, priority 0 with an empty match, is
  // an ordinary rule here). The pointer stays valid until the rule is purged; use
  // shared_from_this() to keep it longer.
  const Rule* Lookup(const FieldValues& pkt, Version version, FieldMask* wc = nullptr);
  // Lookups answered elsewhere (datapath caches) on this table's behalf. Any thread.
  void CountLookups(uint64_t lookups, uint64_t matched);

  // Rules currently live (not removed) in the table.
  uint32_t active_count() const { return active_; }
  TableStats Stats() const;
  const Classifier& classifier() const { return cls_; }

  // Adds beyond this many live rules fail with OFPFMFC_TABLE_FULL.
  void set_max_rules(size_t n) { max_rules_ = n; }

  // Flow-mod steps, applied at `version`; Pipeline validates the table id and commits.
  OfpResult<void> Add(const FlowMod& fm, Version version, int64_t now_ms);
  // Returns how many rules it changed.
  size_t Modify(const FlowMod& fm, bool strict, Version version);
  void Delete(const RuleFilter& filter, Version version, std::vector<RemovedRule>* removed);
  // Removes the rules whose idle or hard timeout has passed at now_ms.
  void Expire(int64_t now_ms, Version version, std::vector<RemovedRule>* removed);
  // Physically drops rules removed at or before `oldest_in_use`.
  void Purge(Version oldest_in_use);

  // Live rules selected by the filter.
  std::vector<RulePtr> Select(const RuleFilter& filter) const;

 private:
  void Install(const RulePtr& rule, Version version);
  void Retire(const RulePtr& rule, Version version);

  uint8_t id_;
  Classifier cls_;
  uint32_t active_ = 0;
  size_t max_rules_ = SIZE_MAX;
  std::atomic<uint64_t> lookups_{0};
  std::atomic<uint64_t> matched_{0};
  std::unordered_map<const Rule*, RulePtr> timed_;  // live rules with a timeout
  std::vector<RulePtr> retired_;                    // removed, not yet purged
};

class Pipeline {
 public:
  explicit Pipeline(size_t n_tables = kMaxTables);

  size_t n_tables() const { return tables_.size(); }
  // Null when id >= n_tables().
  FlowTable* table(uint8_t id) { return id < tables_.size() ? tables_[id].get() : nullptr; }
  const FlowTable* table(uint8_t id) const {
    return id < tables_.size() ? tables_[id].get() : nullptr;
  }

  // The latest committed version: lookups at it see every completed change.
  Version version() const { return version_; }

  // Applies one flow mod (already decoded and validated by the codec). On success returns the
  // rules deleted (reason DELETE); replaced rules produce no FLOW_REMOVED and are not listed.
  // Errors: OFPFMFC_BAD_COMMAND, OFPFMFC_BAD_TABLE_ID, OFPFMFC_OVERLAP, OFPFMFC_TABLE_FULL,
  // OFPBIC_BAD_TABLE_ID (goto-table beyond the last table). A failed flow mod changes nothing.
  // `modify_adds`: a MODIFY or MODIFY_STRICT that matches no rule adds the flow, as in OpenFlow
  // 1.0 (§4.6 of its spec; OpenFlow 1.3 changes nothing then).
  OfpResult<std::vector<RemovedRule>> ApplyFlowMod(const FlowMod& fm, int64_t now_ms,
                                                   bool modify_adds = false);

  // Removes every rule whose idle or hard timeout has elapsed at now_ms.
  std::vector<RemovedRule> Expire(int64_t now_ms);

  // Frees rules removed at versions no reader uses any more (all readers at >= oldest_in_use).
  void Purge(Version oldest_in_use);

  // OFPMP_FLOW / OFPMP_AGGREGATE: OFPBRC_BAD_TABLE_ID for a table that does not exist.
  OfpResult<FlowStatsReply> FlowStatsQuery(const FlowStatsFilter& f, int64_t now_ms) const;
  OfpResult<AggregateReply> AggregateQuery(const FlowStatsFilter& f) const;
  // OFPMP_TABLE: one entry per table.
  TableStatsReply TableStatsQuery() const;

 private:
  template <class Fn>
  OfpResult<void> ForTables(uint8_t table_id, Fn&& fn) const;

  std::vector<std::unique_ptr<FlowTable>> tables_;
  Version version_ = 0;
};

}  // namespace sluice::ofp
