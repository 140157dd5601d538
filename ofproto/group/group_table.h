// The OpenFlow 1.3 group table (spec sections 5.6 and 7.3.4.2): applies GROUP_MOD messages with
// the spec's OFPGMFC_* errors, keeps reference counts, chooses buckets for select and fast
// failover groups, counts packets and produces the group multipart replies.
//
// Decisions the spec leaves to the switch:
//  - Chaining is supported (OFPGFC_CHAINING) with checks (OFPGFC_CHAINING_CHECKS): a bucket may
//    forward to (group action) or watch (watch_group) another group, which must exist
//    (OFPBAC_BAD_OUT_GROUP / OFPGMFC_BAD_WATCH); a GROUP_MOD that would close a cycle through
//    either kind of edge fails with OFPGMFC_LOOP (a watch cycle would make liveness undefined);
//    deleting one group that another group forwards to or watches fails with
//    OFPGMFC_CHAINED_GROUP. Deleting OFPG_ALL removes every group regardless.
//  - A weight on a bucket of a non-select group is an "invalid group" in the spec's words
//    (fields undefined for the type): OFPGMFC_INVALID_GROUP. So is an indirect group without
//    exactly one bucket.
//  - Unequal select weights are supported (OFPGFC_SELECT_WEIGHT). A select bucket of weight 0 is
//    never chosen, unless every bucket has weight 0, when all are chosen equally (1.3 gives 0 no
//    meaning and some controllers send it for "unweighted").
//  - Fast failover buckets must each watch a port or a group (OFPGMFC_BAD_WATCH). watch_port
//    may name any port up to OFPP_MAX, or OFPP_LOCAL; a port that does not exist (yet) is dead.
//    Watches on other group types are accepted; select groups honour them when given liveness
//    (OFPGFC_SELECT_LIVENESS), all and indirect groups ignore them.
//  - Actions inside buckets are otherwise validated by the caller with the flow-mod rules
//    (output ports, queues, set-field) before Apply: this table only checks group references.
//
// Threading: Apply, the reference counting calls, Find and the replies must be serialized by the
// caller (one control thread). A Group obtained from Find is immutable apart from its counters,
// which any thread may bump; it stays valid after a modify or delete for as long as it is held.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "ofproto/codec/messages.h"

namespace sluice::ofp {

// OFPGFC_* capabilities.
inline constexpr uint32_t kGroupCapSelectWeight = 1 << 0;
inline constexpr uint32_t kGroupCapSelectLiveness = 1 << 1;
inline constexpr uint32_t kGroupCapChaining = 1 << 2;
inline constexpr uint32_t kGroupCapChainingChecks = 1 << 3;

// What the datapath knows about liveness (spec 6.5): a port is live when it is up; a group is
// live when at least one of its buckets is. GroupTable::MakeLiveness builds group_live.
struct Liveness {
  std::function<bool(uint32_t port_no)> port_live;
  std::function<bool(uint32_t group_id)> group_live;
};

class Group {
 public:
  Group(uint32_t id, GroupType type, std::vector<Bucket> buckets, uint64_t created_ns);

  uint32_t id() const { return id_; }
  GroupType type() const { return type_; }
  const std::vector<Bucket>& buckets() const { return buckets_; }
  uint64_t created_ns() const { return created_ns_; }

  // A bucket is live when every watch it has is live; a bucket without watches always is.
  bool BucketLive(size_t index, const Liveness& live) const;
  // At least one live bucket.
  bool IsLive(const Liveness& live) const;

  // Select groups: the bucket for a packet whose fields hash to `hash` (the translation layer
  // computes it, so one flow always lands on one bucket), weighted by bucket weight. With
  // `live`, dead buckets are skipped and the choice is made among the live ones. nullopt when
  // no bucket can be chosen (no buckets, or none live).
  std::optional<size_t> SelectBucket(uint32_t hash, const Liveness* live = nullptr) const;
  // Fast failover groups: the first live bucket, nullopt when none is.
  std::optional<size_t> FirstLiveBucket(const Liveness& live) const;

  // Counting from the datapath: once per packet entering the group, once per bucket it leaves by.
  void CountPacket(uint64_t bytes) const;
  void CountBucket(size_t index, uint64_t bytes) const;
  // The same for many packets at once (statistics pushed from datapath megaflows).
  void CountPackets(uint64_t packets, uint64_t bytes) const;
  void CountBucketPackets(size_t index, uint64_t packets, uint64_t bytes) const;

  BucketCounter Counter() const;
  BucketCounter BucketCounterAt(size_t index) const;

 private:
  friend class GroupTable;
  struct AtomicCounter {
    std::atomic<uint64_t> packets{0};
    std::atomic<uint64_t> bytes{0};
  };

  // Weighted choice among the buckets for which `eligible` is true.
  std::optional<size_t> Choose(uint32_t hash, const std::vector<bool>& eligible) const;

  uint32_t id_;
  GroupType type_;
  std::vector<Bucket> buckets_;
  uint64_t created_ns_;
  // Shared with the group's next version, so packets counted on an old version during a modify
  // are not lost; bucket counters start again with the new buckets.
  std::shared_ptr<AtomicCounter> counter_;
  std::unique_ptr<AtomicCounter[]> bucket_counters_;
};

struct GroupTableOptions {
  uint32_t max_groups = 65536;
  uint32_t max_buckets = 1024;  // per group
  // Monotonic nanoseconds for durations (tests inject their own); empty: steady_clock.
  std::function<uint64_t()> now_ns = nullptr;
};

// What a successful GROUP_MOD changed that the caller must act on.
struct GroupModOutcome {
  // Groups removed, ascending. The caller removes every flow that forwards to one of them
  // (reason OFPRR_GROUP_DELETE), calling RemoveFlowRef or not: both are fine.
  std::vector<uint32_t> deleted;
};

class GroupTable {
 public:
  explicit GroupTable(GroupTableOptions options = {});

  // Applies a decoded GROUP_MOD; on failure the table is unchanged.
  OfpResult<GroupModOutcome> Apply(const GroupMod& mod);

  bool Contains(uint32_t group_id) const { return groups_.contains(group_id); }
  std::shared_ptr<const Group> Find(uint32_t group_id) const;
  size_t size() const { return groups_.size(); }

  // Flows that forward to a group (group action in apply-actions or write-actions) register
  // here, so group stats report ref_count. Unknown ids are ignored: the flow may outlive its
  // group by the time the caller cleans up.
  void AddFlowRef(uint32_t group_id);
  void RemoveFlowRef(uint32_t group_id);
  // Flows plus groups directly forwarding to the group; 0 for an unknown id.
  uint32_t RefCount(uint32_t group_id) const;

  // Liveness whose group_live evaluates groups of this table from `port_live`. It refers to the
  // table, which must outlive it and not change while it is used.
  Liveness MakeLiveness(std::function<bool(uint32_t)> port_live) const;

  // OFPMP_GROUP for one group or kGroupAll (an unknown id gives no entry), ascending ids.
  GroupStatsReply Stats(uint32_t group_id) const;
  // OFPMP_GROUP_DESC, ascending ids.
  GroupDescReply Desc() const;
  // OFPMP_GROUP_FEATURES.
  GroupFeaturesReply Features() const;

 private:
  struct Entry {
    std::shared_ptr<Group> group;
    uint32_t flow_refs = 0;
    uint32_t forward_refs = 0;  // groups with a bucket forwarding here
    uint32_t watch_refs = 0;    // groups with a bucket watching here
  };

  OfpResult<void> Validate(const GroupMod& mod) const;
  bool Reaches(uint32_t from, uint32_t target) const;
  bool GroupLive(uint32_t group_id, const std::function<bool(uint32_t)>& port_live) const;
  void Link(const Group& g, int delta);
  void Remove(uint32_t group_id);
  uint64_t Now() const;

  GroupTableOptions options_;
  std::map<uint32_t, Entry> groups_;  // ordered: replies list groups by id
};

// Groups a bucket forwards to (group actions), without duplicates.
std::vector<uint32_t> ForwardTargets(const Bucket& bucket);

}  // namespace sluice::ofp
