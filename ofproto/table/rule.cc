#include "ofproto/table/rule.h"

#include <algorithm>

namespace sluice::ofp {
namespace {

template <class Pred>
bool AnyAction(const InstructionList& insts, Pred pred) {
  for (const Instruction& inst : insts) {
    const ActionList* actions = nullptr;
    if (const auto* a = std::get_if<InstApplyActions>(&inst)) actions = &a->actions;
    if (const auto* w = std::get_if<InstWriteActions>(&inst)) actions = &w->actions;
    if (actions && std::any_of(actions->begin(), actions->end(), pred)) return true;
  }
  return false;
}

}  // namespace

void Rule::AddStats(uint64_t packets, uint64_t bytes, int64_t used_ms) const {
  counters->packets.fetch_add(packets, std::memory_order_relaxed);
  counters->bytes.fetch_add(bytes, std::memory_order_relaxed);
  int64_t prev = counters->last_used_ms.load(std::memory_order_relaxed);
  while (prev < used_ms &&
         !counters->last_used_ms.compare_exchange_weak(prev, used_ms, std::memory_order_relaxed)) {
  }
}

bool Rule::OutputsTo(uint32_t port) const {
  return AnyAction(instructions, [port](const Action& a) {
    const auto* out = std::get_if<ActOutput>(&a);
    return out && out->port == port;
  });
}

bool Rule::UsesGroup(uint32_t group) const {
  return AnyAction(instructions, [group](const Action& a) {
    const auto* g = std::get_if<ActGroup>(&a);
    return g && g->group_id == group;
  });
}

bool Rule::PassesOutFilters(uint32_t out_port, uint32_t out_group) const {
  return (out_port == kPortAny || OutputsTo(out_port)) &&
         (out_group == kGroupAny || UsesGroup(out_group));
}

void Rule::Duration(int64_t now_ms, uint32_t* sec, uint32_t* nsec) const {
  int64_t d = std::max<int64_t>(0, now_ms - created_ms);
  *sec = static_cast<uint32_t>(d / 1000);
  *nsec = static_cast<uint32_t>(d % 1000 * 1000000);
}

FlowStats Rule::ToFlowStats(int64_t now_ms) const {
  FlowStats s;
  s.table_id = table_id;
  Duration(now_ms, &s.duration_sec, &s.duration_nsec);
  s.priority = priority;
  s.idle_timeout = idle_timeout;
  s.hard_timeout = hard_timeout;
  s.flags = flags;
  s.cookie = cookie;
  s.packet_count = packet_count();
  s.byte_count = byte_count();
  s.match = match;
  s.instructions = instructions;
  return s;
}

FlowRemoved Rule::ToFlowRemoved(FlowRemovedReason reason, int64_t now_ms) const {
  FlowRemoved r;
  r.cookie = cookie;
  r.priority = priority;
  r.reason = reason;
  r.table_id = table_id;
  Duration(now_ms, &r.duration_sec, &r.duration_nsec);
  r.idle_timeout = idle_timeout;
  r.hard_timeout = hard_timeout;
  r.packet_count = packet_count();
  r.byte_count = byte_count();
  r.match = match;
  return r;
}

}  // namespace sluice::ofp
