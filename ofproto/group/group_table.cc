#include "ofproto/group/group_table.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <variant>

namespace sluice::ofp {
namespace {

// Every 1.3 action type except experimenter, as a bitmap for the group features reply.
constexpr uint32_t kSupportedActions =
    (1u << static_cast<int>(ActionType::kOutput)) |
    (1u << static_cast<int>(ActionType::kCopyTtlOut)) |
    (1u << static_cast<int>(ActionType::kCopyTtlIn)) |
    (1u << static_cast<int>(ActionType::kSetMplsTtl)) |
    (1u << static_cast<int>(ActionType::kDecMplsTtl)) |
    (1u << static_cast<int>(ActionType::kPushVlan)) |
    (1u << static_cast<int>(ActionType::kPopVlan)) |
    (1u << static_cast<int>(ActionType::kPushMpls)) |
    (1u << static_cast<int>(ActionType::kPopMpls)) |
    (1u << static_cast<int>(ActionType::kSetQueue)) | (1u << static_cast<int>(ActionType::kGroup)) |
    (1u << static_cast<int>(ActionType::kSetNwTtl)) |
    (1u << static_cast<int>(ActionType::kDecNwTtl)) |
    (1u << static_cast<int>(ActionType::kSetField)) |
    (1u << static_cast<int>(ActionType::kPushPbb)) | (1u << static_cast<int>(ActionType::kPopPbb));

// The caller's hash may be weak in the high bits that the multiply-shift below uses (a plain
// sum of fields, say), so spread every input bit over the word first.
uint32_t Mix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

bool ValidWatchPort(uint32_t port) {
  return port == kPortAny || port == kPortLocal || (port != 0 && port <= kPortMax);
}

std::vector<uint32_t> WatchTargets(const Bucket& b) {
  if (b.watch_group == kGroupAny) return {};
  return {b.watch_group};
}

// Distinct targets of one kind over all buckets, so a group referencing another from several
// buckets counts as one referrer (ref_count counts groups, not buckets).
template <class Targets>
std::vector<uint32_t> AllTargets(const std::vector<Bucket>& buckets, Targets targets) {
  std::vector<uint32_t> out;
  for (const Bucket& b : buckets) {
    for (uint32_t t : targets(b)) out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void SetDuration(uint64_t now_ns, uint64_t created_ns, uint32_t& sec, uint32_t& nsec) {
  uint64_t d = now_ns > created_ns ? now_ns - created_ns : 0;
  sec = static_cast<uint32_t>(d / 1'000'000'000);
  nsec = static_cast<uint32_t>(d % 1'000'000'000);
}

uint64_t SteadyNowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

std::vector<uint32_t> ForwardTargets(const Bucket& bucket) {
  std::vector<uint32_t> out;
  for (const Action& a : bucket.actions) {
    if (const auto* g = std::get_if<ActGroup>(&a)) {
      if (std::find(out.begin(), out.end(), g->group_id) == out.end()) out.push_back(g->group_id);
    }
  }
  return out;
}

// ---- Group ---------------------------------------------------------------------------------

Group::Group(uint32_t id, GroupType type, std::vector<Bucket> buckets, uint64_t created_ns)
    : id_(id),
      type_(type),
      buckets_(std::move(buckets)),
      created_ns_(created_ns),
      counter_(std::make_shared<AtomicCounter>()),
      bucket_counters_(std::make_unique<AtomicCounter[]>(buckets_.size())) {}

bool Group::BucketLive(size_t index, const Liveness& live) const {
  const Bucket& b = buckets_[index];
  if (b.watch_port != kPortAny && !(live.port_live && live.port_live(b.watch_port))) return false;
  if (b.watch_group != kGroupAny && !(live.group_live && live.group_live(b.watch_group))) {
    return false;
  }
  return true;
}

bool Group::IsLive(const Liveness& live) const {
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (BucketLive(i, live)) return true;
  }
  return false;
}

std::optional<size_t> Group::SelectBucket(uint32_t hash, const Liveness* live) const {
  std::vector<bool> eligible(buckets_.size(), true);
  if (live != nullptr) {
    for (size_t i = 0; i < buckets_.size(); ++i) eligible[i] = BucketLive(i, *live);
  }
  return Choose(hash, eligible);
}

std::optional<size_t> Group::Choose(uint32_t hash, const std::vector<bool>& eligible) const {
  bool all_zero =
      std::all_of(buckets_.begin(), buckets_.end(), [](const Bucket& b) { return b.weight == 0; });
  auto weight = [&](size_t i) -> uint64_t {
    if (!eligible[i]) return 0;
    return all_zero ? 1 : buckets_[i].weight;
  };
  uint64_t total = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) total += weight(i);
  if (total == 0) return std::nullopt;
  // Maps the hash onto [0, total) in proportion, without the bias of a modulo.
  uint64_t point = (uint64_t{Mix(hash)} * total) >> 32;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    uint64_t w = weight(i);
    if (point < w) return i;
    point -= w;
  }
  return std::nullopt;  // unreachable: point < total
}

std::optional<size_t> Group::FirstLiveBucket(const Liveness& live) const {
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (BucketLive(i, live)) return i;
  }
  return std::nullopt;
}

void Group::CountPacket(uint64_t bytes) const {
  counter_->packets.fetch_add(1, std::memory_order_relaxed);
  counter_->bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void Group::CountBucket(size_t index, uint64_t bytes) const {
  AtomicCounter& c = bucket_counters_[index];
  c.packets.fetch_add(1, std::memory_order_relaxed);
  c.bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void Group::CountPackets(uint64_t packets, uint64_t bytes) const {
  counter_->packets.fetch_add(packets, std::memory_order_relaxed);
  counter_->bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void Group::CountBucketPackets(size_t index, uint64_t packets, uint64_t bytes) const {
  if (index >= buckets_.size()) return;
  AtomicCounter& c = bucket_counters_[index];
  c.packets.fetch_add(packets, std::memory_order_relaxed);
  c.bytes.fetch_add(bytes, std::memory_order_relaxed);
}

BucketCounter Group::Counter() const {
  return {counter_->packets.load(std::memory_order_relaxed),
          counter_->bytes.load(std::memory_order_relaxed)};
}

BucketCounter Group::BucketCounterAt(size_t index) const {
  const AtomicCounter& c = bucket_counters_[index];
  return {c.packets.load(std::memory_order_relaxed), c.bytes.load(std::memory_order_relaxed)};
}

// ---- GroupTable ----------------------------------------------------------------------------

GroupTable::GroupTable(GroupTableOptions options) : options_(std::move(options)) {}

uint64_t GroupTable::Now() const { return options_.now_ns ? options_.now_ns() : SteadyNowNs(); }

std::shared_ptr<const Group> GroupTable::Find(uint32_t group_id) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return nullptr;
  return it->second.group;
}

bool GroupTable::Reaches(uint32_t from, uint32_t target) const {
  std::vector<uint32_t> stack = {from};
  std::vector<uint32_t> seen;
  while (!stack.empty()) {
    uint32_t id = stack.back();
    stack.pop_back();
    if (id == target) return true;
    if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
    seen.push_back(id);
    auto it = groups_.find(id);
    if (it == groups_.end()) continue;
    for (const Bucket& b : it->second.group->buckets()) {
      for (uint32_t t : ForwardTargets(b)) stack.push_back(t);
      if (b.watch_group != kGroupAny) stack.push_back(b.watch_group);
    }
  }
  return false;
}

OfpResult<void> GroupTable::Validate(const GroupMod& mod) const {
  const uint32_t id = mod.group_id;
  if (id > kGroupMax) return Fail(OfpErr::kGroupModInvalidGroup, "group " + std::to_string(id));
  if (mod.type > GroupType::kFastFailover) {
    return Fail(OfpErr::kGroupModBadType,
                "type " + std::to_string(static_cast<unsigned>(mod.type)));
  }
  const bool exists = groups_.contains(id);
  if (mod.command == GroupModCommand::kAdd) {
    if (exists) return Fail(OfpErr::kGroupModGroupExists, "group " + std::to_string(id));
    if (groups_.size() >= options_.max_groups) return Fail(OfpErr::kGroupModOutOfGroups);
  } else if (!exists) {
    return Fail(OfpErr::kGroupModUnknownGroup, "group " + std::to_string(id));
  }

  if (mod.buckets.size() > options_.max_buckets) {
    return Fail(OfpErr::kGroupModOutOfBuckets, std::to_string(mod.buckets.size()) + " buckets");
  }
  if (mod.type == GroupType::kIndirect && mod.buckets.size() != 1) {
    return Fail(OfpErr::kGroupModInvalidGroup, "indirect group needs exactly one bucket");
  }
  for (const Bucket& b : mod.buckets) {
    if (b.weight != 0 && mod.type != GroupType::kSelect) {
      return Fail(OfpErr::kGroupModInvalidGroup, "weight outside a select group");
    }
    if (mod.type == GroupType::kFastFailover && b.watch_port == kPortAny &&
        b.watch_group == kGroupAny) {
      return Fail(OfpErr::kGroupModBadWatch, "fast failover bucket watches nothing");
    }
    if (!ValidWatchPort(b.watch_port)) {
      return Fail(OfpErr::kGroupModBadWatch, "watch_port " + std::to_string(b.watch_port));
    }
    if (b.watch_group != kGroupAny) {
      if (b.watch_group == id) return Fail(OfpErr::kGroupModLoop, "bucket watches its group");
      if (!groups_.contains(b.watch_group)) {
        return Fail(OfpErr::kGroupModBadWatch, "watch_group " + std::to_string(b.watch_group));
      }
    }
    for (uint32_t t : ForwardTargets(b)) {
      if (t == id) return Fail(OfpErr::kGroupModLoop, "bucket forwards to its group");
      if (!groups_.contains(t)) {
        return Fail(OfpErr::kBadActionBadOutGroup, "group action to " + std::to_string(t));
      }
    }
  }
  // A new group has no referrers yet, so only a modify can close a longer cycle: some target
  // already leading back to the group being modified.
  if (exists) {
    for (const Bucket& b : mod.buckets) {
      std::vector<uint32_t> targets = ForwardTargets(b);
      if (b.watch_group != kGroupAny) targets.push_back(b.watch_group);
      for (uint32_t t : targets) {
        if (Reaches(t, id)) {
          return Fail(OfpErr::kGroupModLoop, "group " + std::to_string(t) + " leads back");
        }
      }
    }
  }
  return {};
}

void GroupTable::Link(const Group& g, int delta) {
  for (uint32_t t : AllTargets(g.buckets(), ForwardTargets)) {
    if (auto it = groups_.find(t); it != groups_.end())
      it->second.forward_refs += static_cast<uint32_t>(delta);
  }
  for (uint32_t t : AllTargets(g.buckets(), WatchTargets)) {
    if (auto it = groups_.find(t); it != groups_.end())
      it->second.watch_refs += static_cast<uint32_t>(delta);
  }
}

void GroupTable::Remove(uint32_t group_id) {
  auto it = groups_.find(group_id);
  Link(*it->second.group, -1);
  groups_.erase(it);
}

OfpResult<GroupModOutcome> GroupTable::Apply(const GroupMod& mod) {
  GroupModOutcome out;
  switch (mod.command) {
    case GroupModCommand::kDelete: {
      if (mod.group_id == kGroupAll) {
        for (const auto& [id, entry] : groups_) out.deleted.push_back(id);
        groups_.clear();
        return out;
      }
      if (mod.group_id > kGroupMax) {
        return Fail(OfpErr::kGroupModInvalidGroup, "group " + std::to_string(mod.group_id));
      }
      auto it = groups_.find(mod.group_id);
      if (it == groups_.end()) return out;  // the spec: not an error, nothing happens
      if (it->second.forward_refs + it->second.watch_refs > 0) {
        return Fail(OfpErr::kGroupModChainedGroup,
                    "group " + std::to_string(mod.group_id) + " is used by another group");
      }
      Remove(mod.group_id);
      out.deleted.push_back(mod.group_id);
      return out;
    }
    case GroupModCommand::kAdd: {
      if (OfpResult<void> ok = Validate(mod); !ok) return std::unexpected(std::move(ok.error()));
      auto g = std::make_shared<Group>(mod.group_id, mod.type, mod.buckets, Now());
      Entry& e = groups_[mod.group_id];
      e.group = std::move(g);
      Link(*e.group, +1);
      return out;
    }
    case GroupModCommand::kModify: {
      if (OfpResult<void> ok = Validate(mod); !ok) return std::unexpected(std::move(ok.error()));
      Entry& e = groups_.at(mod.group_id);
      // Counters and age carry over: to the controller it is still the same group.
      auto g = std::make_shared<Group>(mod.group_id, mod.type, mod.buckets, e.group->created_ns());
      g->counter_ = e.group->counter_;
      Link(*e.group, -1);
      e.group = std::move(g);
      Link(*e.group, +1);
      return out;
    }
  }
  return Fail(OfpErr::kGroupModBadCommand,
              "command " + std::to_string(static_cast<unsigned>(mod.command)));
}

void GroupTable::AddFlowRef(uint32_t group_id) {
  if (auto it = groups_.find(group_id); it != groups_.end()) ++it->second.flow_refs;
}

void GroupTable::RemoveFlowRef(uint32_t group_id) {
  if (auto it = groups_.find(group_id); it != groups_.end() && it->second.flow_refs > 0) {
    --it->second.flow_refs;
  }
}

uint32_t GroupTable::RefCount(uint32_t group_id) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return 0;
  return it->second.flow_refs + it->second.forward_refs;
}

Liveness GroupTable::MakeLiveness(std::function<bool(uint32_t)> port_live) const {
  Liveness live;
  live.port_live = port_live;
  live.group_live = [this, port_live = std::move(port_live)](uint32_t group_id) {
    return GroupLive(group_id, port_live);
  };
  return live;
}

bool GroupTable::GroupLive(uint32_t group_id,
                           const std::function<bool(uint32_t)>& port_live) const {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return false;
  // The recursion ends: GROUP_MODs that would close a watch cycle are refused.
  for (const Bucket& b : it->second.group->buckets()) {
    bool port_ok = b.watch_port == kPortAny || (port_live && port_live(b.watch_port));
    bool group_ok = b.watch_group == kGroupAny || GroupLive(b.watch_group, port_live);
    if (port_ok && group_ok) return true;
  }
  return false;
}

GroupStatsReply GroupTable::Stats(uint32_t group_id) const {
  GroupStatsReply reply;
  uint64_t now = Now();
  for (const auto& [id, entry] : groups_) {
    if (group_id != kGroupAll && id != group_id) continue;
    const Group& g = *entry.group;
    GroupStats s;
    s.group_id = id;
    s.ref_count = entry.flow_refs + entry.forward_refs;
    BucketCounter c = g.Counter();
    s.packet_count = c.packet_count;
    s.byte_count = c.byte_count;
    SetDuration(now, g.created_ns(), s.duration_sec, s.duration_nsec);
    for (size_t i = 0; i < g.buckets().size(); ++i) s.buckets.push_back(g.BucketCounterAt(i));
    reply.entries.push_back(std::move(s));
  }
  return reply;
}

GroupDescReply GroupTable::Desc() const {
  GroupDescReply reply;
  for (const auto& [id, entry] : groups_) {
    reply.entries.push_back(
        GroupDesc{static_cast<uint8_t>(entry.group->type()), id, entry.group->buckets()});
  }
  return reply;
}

GroupFeaturesReply GroupTable::Features() const {
  GroupFeaturesReply f;
  f.types = (1u << static_cast<int>(GroupType::kAll)) |
            (1u << static_cast<int>(GroupType::kSelect)) |
            (1u << static_cast<int>(GroupType::kIndirect)) |
            (1u << static_cast<int>(GroupType::kFastFailover));
  f.capabilities =
      kGroupCapSelectWeight | kGroupCapSelectLiveness | kGroupCapChaining | kGroupCapChainingChecks;
  f.max_groups.fill(options_.max_groups);
  f.actions.fill(kSupportedActions);
  return f;
}

}  // namespace sluice::ofp
