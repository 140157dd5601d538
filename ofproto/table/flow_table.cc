#include "ofproto/table/flow_table.h"

#include <algorithm>
#include <utility>

namespace sluice::ofp {
namespace {

// A copy of `r` for installing at a new version; counters are shared unless reset.
RulePtr CloneRule(const Rule& r, bool reset_counts) {
  auto c = std::make_shared<Rule>();
  c->match = r.match;
  c->priority = r.priority;
  c->cookie = r.cookie;
  c->idle_timeout = r.idle_timeout;
  c->hard_timeout = r.hard_timeout;
  c->flags = r.flags;
  c->instructions = r.instructions;
  c->table_id = r.table_id;
  c->created_ms = r.created_ms;
  if (reset_counts) {
    c->counters->last_used_ms.store(r.last_used_ms(), std::memory_order_relaxed);
  } else {
    c->counters = r.counters;
  }
  return c;
}

bool Passes(const RuleFilter& f, const Rule& r) {
  return r.CookieMatches(f.cookie, f.cookie_mask) && r.PassesOutFilters(f.out_port, f.out_group);
}

}  // namespace

RuleFilter RuleFilter::From(const FlowMod& fm, bool strict) {
  RuleFilter f;
  f.match = NormalizeMatch(fm.match);
  f.key = KeyOf(f.match);
  f.strict = strict;
  f.priority = fm.priority;
  f.cookie = fm.cookie;
  f.cookie_mask = fm.cookie_mask;
  f.out_port = fm.out_port;
  f.out_group = fm.out_group;
  return f;
}

RuleFilter RuleFilter::From(const FlowStatsFilter& s) {
  RuleFilter f;
  f.match = NormalizeMatch(s.match);
  f.key = KeyOf(f.match);
  f.cookie = s.cookie;
  f.cookie_mask = s.cookie_mask;
  f.out_port = s.out_port;
  f.out_group = s.out_group;
  return f;
}

const Rule* FlowTable::Lookup(const FieldValues& pkt, Version version, FieldMask* wc) {
  const Rule* r = cls_.Lookup(pkt, version, wc);
  CountLookups(1, r ? 1 : 0);
  return r;
}

void FlowTable::CountLookups(uint64_t lookups, uint64_t matched) {
  lookups_.fetch_add(lookups, std::memory_order_relaxed);
  matched_.fetch_add(matched, std::memory_order_relaxed);
}

TableStats FlowTable::Stats() const {
  TableStats s;
  s.table_id = id_;
  s.active_count = active_;
  s.lookup_count = lookups_.load(std::memory_order_relaxed);
  s.matched_count = matched_.load(std::memory_order_relaxed);
  return s;
}

void FlowTable::Install(const RulePtr& rule, Version version) {
  rule->table_id = id_;
  rule->version_added = version;
  cls_.Insert(rule);
  if (rule->idle_timeout || rule->hard_timeout) timed_.emplace(rule.get(), rule);
  ++active_;
}

void FlowTable::Retire(const RulePtr& rule, Version version) {
  rule->version_removed.store(version, std::memory_order_release);
  timed_.erase(rule.get());
  retired_.push_back(rule);
  --active_;
}

std::vector<RulePtr> FlowTable::Select(const RuleFilter& f) const {
  std::vector<RulePtr> out;
  if (f.strict) {
    RulePtr r = cls_.FindLive(f.match, f.priority);
    if (r && Passes(f, *r)) out.push_back(std::move(r));
    return out;
  }
  cls_.ForEach([&](const RulePtr& r) {
    if (r->live() && KeyCovers(f.key, KeyOf(r->match)) && Passes(f, *r)) out.push_back(r);
  });
  // The classifier's order depends on hashing; callers (stats replies, FLOW_REMOVED) get a
  // stable one.
  std::sort(out.begin(), out.end(), [](const RulePtr& a, const RulePtr& b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    return a->seq < b->seq;
  });
  return out;
}

OfpResult<void> FlowTable::Add(const FlowMod& fm, Version version, int64_t now_ms) {
  Match match = NormalizeMatch(fm.match);
  if (fm.flags & kFlowCheckOverlap) {
    MatchKey key = KeyOf(match);
    bool overlap = false;
    cls_.ForEach([&](const RulePtr& r) {
      overlap =
          overlap || (r->live() && r->priority == fm.priority && KeysOverlap(key, KeyOf(r->match)));
    });
    if (overlap) return Fail(OfpErr::kFlowModOverlap, "overlaps a rule of equal priority");
  }
  RulePtr old = cls_.FindLive(match, fm.priority);
  if (!old && active_ >= max_rules_) return Fail(OfpErr::kFlowModTableFull);

  auto rule = std::make_shared<Rule>();
  rule->match = std::move(match);
  rule->priority = fm.priority;
  rule->cookie = fm.cookie;
  rule->idle_timeout = fm.idle_timeout;
  rule->hard_timeout = fm.hard_timeout;
  rule->flags = fm.flags;
  rule->instructions = fm.instructions;
  rule->created_ms = now_ms;
  // Replacing keeps the counts (spec 6.4) unless asked not to; sharing the block also keeps
  // stats the datapath still pushes for the old rule.
  if (old && !(fm.flags & kFlowResetCounts)) rule->counters = old->counters;
  rule->counters->last_used_ms.store(now_ms, std::memory_order_relaxed);
  if (old) Retire(old, version);
  Install(rule, version);
  return {};
}

size_t FlowTable::Modify(const FlowMod& fm, bool strict, Version version) {
  RuleFilter f = RuleFilter::From(fm, strict);
  // Modify ignores out_port and out_group (spec 7.3.4.1).
  f.out_port = kPortAny;
  f.out_group = kGroupAny;
  std::vector<RulePtr> selected = Select(f);
  for (const RulePtr& old : selected) {
    RulePtr rule = CloneRule(*old, fm.flags & kFlowResetCounts);
    rule->instructions = fm.instructions;
    Retire(old, version);
    Install(rule, version);
  }
  return selected.size();
}

void FlowTable::Delete(const RuleFilter& filter, Version version,
                       std::vector<RemovedRule>* removed) {
  for (RulePtr& r : Select(filter)) {
    Retire(r, version);
    removed->push_back({std::move(r), FlowRemovedReason::kDelete});
  }
}

void FlowTable::Expire(int64_t now_ms, Version version, std::vector<RemovedRule>* removed) {
  std::vector<RemovedRule> expired;
  for (const auto& [raw, r] : timed_) {
    if (r->hard_timeout && now_ms - r->created_ms >= int64_t{r->hard_timeout} * 1000) {
      expired.push_back({r, FlowRemovedReason::kHardTimeout});
    } else if (r->idle_timeout && now_ms - r->last_used_ms() >= int64_t{r->idle_timeout} * 1000) {
      expired.push_back({r, FlowRemovedReason::kIdleTimeout});
    }
  }
  std::sort(expired.begin(), expired.end(),
            [](const RemovedRule& a, const RemovedRule& b) { return a.rule->seq < b.rule->seq; });
  for (RemovedRule& e : expired) {
    Retire(e.rule, version);
    removed->push_back(std::move(e));
  }
}

void FlowTable::Purge(Version oldest_in_use) {
  std::erase_if(retired_, [&](const RulePtr& r) {
    if (r->version_removed.load(std::memory_order_relaxed) > oldest_in_use) return false;
    cls_.Remove(r.get());
    return true;
  });
}

Pipeline::Pipeline(size_t n_tables) {
  n_tables = std::min(n_tables, kMaxTables);
  tables_.reserve(n_tables);
  for (size_t i = 0; i < n_tables; ++i) {
    tables_.push_back(std::make_unique<FlowTable>(static_cast<uint8_t>(i)));
  }
}

template <class Fn>
OfpResult<void> Pipeline::ForTables(uint8_t table_id, Fn&& fn) const {
  if (table_id == kTableAll) {
    for (const auto& t : tables_) fn(*t);
    return {};
  }
  if (table_id >= tables_.size()) return Fail(OfpErr::kBadRequestBadTableId);
  fn(*tables_[table_id]);
  return {};
}

OfpResult<std::vector<RemovedRule>> Pipeline::ApplyFlowMod(const FlowMod& fm, int64_t now_ms,
                                                           bool modify_adds) {
  std::vector<RemovedRule> removed;
  Version next = version_ + 1;
  switch (fm.command) {
    case FlowModCommand::kAdd:
    case FlowModCommand::kModify:
    case FlowModCommand::kModifyStrict: {
      if (fm.table_id >= tables_.size()) {
        return Fail(OfpErr::kFlowModBadTableId, "table " + std::to_string(fm.table_id));
      }
      for (const Instruction& inst : fm.instructions) {
        const auto* g = std::get_if<InstGotoTable>(&inst);
        if (g && (g->table_id <= fm.table_id || g->table_id >= tables_.size())) {
          return Fail(OfpErr::kBadInstBadTableId, "goto " + std::to_string(g->table_id));
        }
      }
      FlowTable& t = *tables_[fm.table_id];
      if (fm.command == FlowModCommand::kAdd) {
        if (OfpResult<void> ok = t.Add(fm, next, now_ms); !ok) {
          return std::unexpected(std::move(ok.error()));
        }
      } else if (t.Modify(fm, fm.command == FlowModCommand::kModifyStrict, next) == 0 &&
                 modify_adds) {
        if (OfpResult<void> ok = t.Add(fm, next, now_ms); !ok) {
          return std::unexpected(std::move(ok.error()));
        }
      }
      break;
    }
    case FlowModCommand::kDelete:
    case FlowModCommand::kDeleteStrict: {
      if (fm.table_id != kTableAll && fm.table_id >= tables_.size()) {
        return Fail(OfpErr::kFlowModBadTableId, "table " + std::to_string(fm.table_id));
      }
      RuleFilter f = RuleFilter::From(fm, fm.command == FlowModCommand::kDeleteStrict);
      if (fm.table_id == kTableAll) {
        for (auto& t : tables_) t->Delete(f, next, &removed);
      } else {
        tables_[fm.table_id]->Delete(f, next, &removed);
      }
      break;
    }
    default:
      return Fail(OfpErr::kFlowModBadCommand);
  }
  version_ = next;
  return removed;
}

std::vector<RemovedRule> Pipeline::Expire(int64_t now_ms) {
  std::vector<RemovedRule> removed;
  for (auto& t : tables_) t->Expire(now_ms, version_ + 1, &removed);
  if (!removed.empty()) ++version_;
  return removed;
}

void Pipeline::Purge(Version oldest_in_use) {
  for (auto& t : tables_) t->Purge(oldest_in_use);
}

OfpResult<FlowStatsReply> Pipeline::FlowStatsQuery(const FlowStatsFilter& f, int64_t now_ms) const {
  FlowStatsReply reply;
  RuleFilter filter = RuleFilter::From(f);
  OfpResult<void> ok = ForTables(f.table_id, [&](const FlowTable& t) {
    for (const RulePtr& r : t.Select(filter)) reply.entries.push_back(r->ToFlowStats(now_ms));
  });
  if (!ok) return std::unexpected(std::move(ok.error()));
  return reply;
}

OfpResult<AggregateReply> Pipeline::AggregateQuery(const FlowStatsFilter& f) const {
  AggregateReply reply;
  RuleFilter filter = RuleFilter::From(f);
  OfpResult<void> ok = ForTables(f.table_id, [&](const FlowTable& t) {
    for (const RulePtr& r : t.Select(filter)) {
      reply.packet_count += r->packet_count();
      reply.byte_count += r->byte_count();
      ++reply.flow_count;
    }
  });
  if (!ok) return std::unexpected(std::move(ok.error()));
  return reply;
}

TableStatsReply Pipeline::TableStatsQuery() const {
  TableStatsReply reply;
  for (const auto& t : tables_) reply.entries.push_back(t->Stats());
  return reply;
}

}  // namespace sluice::ofp
