// Rule: one OpenFlow flow entry. Everything but its counters and version_removed is fixed once
// the rule is in a table: a flow mod that changes a rule installs a new Rule at a new version,
// so a lookup at an older version still sees the old one whole. The counters live in a shared
// block so that a replacement which keeps the counts (ADD without RESET_COUNTS, MODIFY) also
// receives stats pushed late, by another thread, to the rule it replaced.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>

#include "ofproto/codec/actions.h"
#include "ofproto/codec/messages.h"
#include "ofproto/codec/multipart.h"
#include "ofproto/codec/oxm.h"

namespace sluice::ofp {

// Pipeline versions: a rule is visible to lookups at version v when
// version_added <= v < version_removed.
using Version = uint64_t;
inline constexpr Version kVersionNever = std::numeric_limits<Version>::max();

struct RuleCounters {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<int64_t> last_used_ms{0};
};

struct Rule : std::enable_shared_from_this<Rule> {
  Match match;  // normalized (NormalizeMatch)
  uint16_t priority = 0;
  uint64_t cookie = 0;
  uint16_t idle_timeout = 0;  // seconds, 0 = none
  uint16_t hard_timeout = 0;
  uint16_t flags = 0;  // OFPFF_*
  InstructionList instructions;
  uint8_t table_id = 0;
  int64_t created_ms = 0;
  // Insertion order inside a classifier; breaks priority ties deterministically.
  uint64_t seq = 0;
  Version version_added = 0;
  std::atomic<Version> version_removed{kVersionNever};
  std::shared_ptr<RuleCounters> counters = std::make_shared<RuleCounters>();

  bool VisibleAt(Version v) const {
    return version_added <= v && v < version_removed.load(std::memory_order_acquire);
  }
  bool live() const { return version_removed.load(std::memory_order_acquire) == kVersionNever; }

  uint64_t packet_count() const { return counters->packets.load(std::memory_order_relaxed); }
  uint64_t byte_count() const { return counters->bytes.load(std::memory_order_relaxed); }
  int64_t last_used_ms() const { return counters->last_used_ms.load(std::memory_order_relaxed); }
  // Safe from any thread.
  void AddStats(uint64_t packets, uint64_t bytes, int64_t used_ms) const;

  // Whether an output action to `port` / a group action to `group` appears in the apply- or
  // write-actions (the out_port / out_group filters of flow mods and stats requests).
  bool OutputsTo(uint32_t port) const;
  bool UsesGroup(uint32_t group) const;
  // Both filters at once; kPortAny / kGroupAny disable one.
  bool PassesOutFilters(uint32_t out_port, uint32_t out_group) const;
  bool CookieMatches(uint64_t cookie, uint64_t cookie_mask) const {
    return (this->cookie & cookie_mask) == (cookie & cookie_mask);
  }

  // Duration since created_ms as OpenFlow reports it.
  void Duration(int64_t now_ms, uint32_t* sec, uint32_t* nsec) const;
  FlowStats ToFlowStats(int64_t now_ms) const;
  FlowRemoved ToFlowRemoved(FlowRemovedReason reason, int64_t now_ms) const;
};

using RulePtr = std::shared_ptr<Rule>;

// A rule taken out of the pipeline and why, for OFPT_FLOW_REMOVED (sent when the rule has
// OFPFF_SEND_FLOW_REM).
struct RemovedRule {
  RulePtr rule;
  FlowRemovedReason reason = FlowRemovedReason::kDelete;
};

}  // namespace sluice::ofp
