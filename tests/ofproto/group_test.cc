#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <thread>
#include <vector>

#include "ofproto/group/group_table.h"

namespace sluice::ofp {
namespace {

Bucket Out(uint32_t port, uint16_t weight = 0) {
  Bucket b;
  b.weight = weight;
  b.actions = {ActOutput{port, 0}};
  return b;
}

Bucket ToGroup(uint32_t group_id) {
  Bucket b;
  b.actions = {ActGroup{group_id}};
  return b;
}

Bucket Watching(uint32_t port, uint32_t group = kGroupAny) {
  Bucket b = Out(port == kPortAny ? 1 : port);
  b.watch_port = port;
  b.watch_group = group;
  return b;
}

GroupMod Mod(GroupModCommand cmd, GroupType type, uint32_t id, std::vector<Bucket> buckets) {
  return GroupMod{cmd, type, id, std::move(buckets)};
}
GroupMod Add(GroupType type, uint32_t id, std::vector<Bucket> buckets) {
  return Mod(GroupModCommand::kAdd, type, id, std::move(buckets));
}
GroupMod Modify(GroupType type, uint32_t id, std::vector<Bucket> buckets) {
  return Mod(GroupModCommand::kModify, type, id, std::move(buckets));
}
GroupMod Delete(uint32_t id) { return Mod(GroupModCommand::kDelete, GroupType::kAll, id, {}); }

OfpErr ErrOf(const OfpResult<GroupModOutcome>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? OfpErr::kGroupModEperm : r.error().err;
}

std::vector<uint32_t> Deleted(const OfpResult<GroupModOutcome>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : OfpErrName(r.error().err));
  return r ? r->deleted : std::vector<uint32_t>{};
}

void ExpectOk(const OfpResult<GroupModOutcome>& r) {
  EXPECT_TRUE(r.has_value()) << OfpErrName(r.error().err) << " " << r.error().detail;
}

TEST(GroupTable, AddModifyDelete) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kAll, 1, {Out(1), Out(2)})));
  EXPECT_TRUE(t.Contains(1));
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, 1, {Out(3)}))), OfpErr::kGroupModGroupExists);
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kAll, 2, {Out(3)}))), OfpErr::kGroupModUnknownGroup);

  // A modify replaces the type and the buckets.
  ExpectOk(t.Apply(Modify(GroupType::kSelect, 1, {Out(3, 1)})));
  auto g = t.Find(1);
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->type(), GroupType::kSelect);
  EXPECT_EQ(g->buckets(), std::vector<Bucket>{Out(3, 1)});

  // Deleting an unknown group is not an error and deletes nothing.
  EXPECT_EQ(Deleted(t.Apply(Delete(7))), std::vector<uint32_t>{});
  EXPECT_EQ(Deleted(t.Apply(Delete(1))), std::vector<uint32_t>{1});
  EXPECT_FALSE(t.Contains(1));
  EXPECT_EQ(t.Find(1), nullptr);
}

TEST(GroupTable, DeleteAllReturnsEveryGroup) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kAll, 5, {Out(1)})));
  ExpectOk(t.Apply(Add(GroupType::kIndirect, 2, {ToGroup(5)})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 9, {})));
  EXPECT_EQ(Deleted(t.Apply(Delete(kGroupAll))), (std::vector<uint32_t>{2, 5, 9}));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(Deleted(t.Apply(Delete(kGroupAll))), std::vector<uint32_t>{});
}

TEST(GroupTable, ReservedIdsAreInvalid) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, kGroupAll, {}))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, kGroupAny, {}))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, kGroupMax + 1, {}))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kAll, kGroupAll, {}))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(ErrOf(t.Apply(Delete(kGroupAny))), OfpErr::kGroupModInvalidGroup);
  ExpectOk(t.Apply(Add(GroupType::kAll, kGroupMax, {})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 0, {})));
}

TEST(GroupTable, BadTypeAndCommand) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(static_cast<GroupType>(4), 1, {}))), OfpErr::kGroupModBadType);
  EXPECT_EQ(ErrOf(t.Apply(Mod(static_cast<GroupModCommand>(3), GroupType::kAll, 1, {}))),
            OfpErr::kGroupModBadCommand);
}

TEST(GroupTable, IndirectNeedsExactlyOneBucket) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kIndirect, 1, {}))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kIndirect, 1, {Out(1), Out(2)}))),
            OfpErr::kGroupModInvalidGroup);
  ExpectOk(t.Apply(Add(GroupType::kIndirect, 1, {Out(1)})));
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kIndirect, 1, {Out(1), Out(2)}))),
            OfpErr::kGroupModInvalidGroup);
}

TEST(GroupTable, WeightOnlyForSelect) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, 1, {Out(1, 1)}))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kIndirect, 1, {Out(1, 2)}))),
            OfpErr::kGroupModInvalidGroup);
  Bucket ff = Watching(1);
  ff.weight = 1;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kFastFailover, 1, {ff}))), OfpErr::kGroupModInvalidGroup);
  ExpectOk(t.Apply(Add(GroupType::kSelect, 1, {Out(1, 1), Out(2, 5), Out(3, 0)})));
}

TEST(GroupTable, FastFailoverNeedsWatches) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kFastFailover, 1, {Watching(1), Out(2)}))),
            OfpErr::kGroupModBadWatch);
  // Reserved ports other than LOCAL cannot be watched, nor port 0.
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kFastFailover, 1, {Watching(kPortController)}))),
            OfpErr::kGroupModBadWatch);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kFastFailover, 1, {Watching(0)}))),
            OfpErr::kGroupModBadWatch);
  // A watched group must exist.
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kFastFailover, 1, {Watching(kPortAny, 9)}))),
            OfpErr::kGroupModBadWatch);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, 1, {Watching(kPortAny, 9)}))),
            OfpErr::kGroupModBadWatch);
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 1, {Watching(1), Watching(kPortLocal)})));
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 2, {Watching(kPortAny, 1)})));
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 3, {})));  // no buckets: never live
}

TEST(GroupTable, TableAndBucketLimits) {
  GroupTable t({.max_groups = 2, .max_buckets = 2});
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, 1, {Out(1), Out(2), Out(3)}))),
            OfpErr::kGroupModOutOfBuckets);
  ExpectOk(t.Apply(Add(GroupType::kAll, 1, {Out(1), Out(2)})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 2, {})));
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kAll, 3, {}))), OfpErr::kGroupModOutOfGroups);
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kAll, 2, {Out(1), Out(2), Out(3)}))),
            OfpErr::kGroupModOutOfBuckets);
  ExpectOk(t.Apply(Modify(GroupType::kAll, 2, {Out(1)})));  // modify needs no new slot
  EXPECT_EQ(t.Features().max_groups, (std::array<uint32_t, 4>{2, 2, 2, 2}));
}

TEST(GroupTable, ChainingNeedsExistingTarget) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kIndirect, 1, {ToGroup(2)}))),
            OfpErr::kBadActionBadOutGroup);
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kIndirect, 1, {ToGroup(kGroupAll)}))),
            OfpErr::kBadActionBadOutGroup);
  ExpectOk(t.Apply(Add(GroupType::kAll, 2, {Out(1)})));
  ExpectOk(t.Apply(Add(GroupType::kIndirect, 1, {ToGroup(2)})));
  EXPECT_EQ(t.RefCount(2), 1u);
}

TEST(GroupTable, LoopsAreRefused) {
  GroupTable t;
  EXPECT_EQ(ErrOf(t.Apply(Add(GroupType::kIndirect, 1, {ToGroup(1)}))), OfpErr::kGroupModLoop);
  ExpectOk(t.Apply(Add(GroupType::kAll, 3, {Out(1)})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 2, {ToGroup(3)})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 1, {ToGroup(2), Out(4)})));
  // 1 -> 2 -> 3; making 3 forward to 1, 2 or itself closes a cycle.
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kAll, 3, {ToGroup(1)}))), OfpErr::kGroupModLoop);
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kAll, 3, {Out(1), ToGroup(2)}))),
            OfpErr::kGroupModLoop);
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kAll, 3, {ToGroup(3)}))), OfpErr::kGroupModLoop);
  // Watches count as edges too: liveness would be undefined on a cycle.
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kFastFailover, 3, {Watching(kPortAny, 1)}))),
            OfpErr::kGroupModLoop);
  EXPECT_EQ(ErrOf(t.Apply(Modify(GroupType::kFastFailover, 3, {Watching(kPortAny, 3)}))),
            OfpErr::kGroupModLoop);
  // A diamond is not a loop.
  ExpectOk(t.Apply(Add(GroupType::kAll, 4, {ToGroup(3)})));
  ExpectOk(t.Apply(Modify(GroupType::kAll, 1, {ToGroup(2), ToGroup(4)})));
  // The refused modifies left group 3 as it was.
  EXPECT_EQ(t.Find(3)->buckets(), std::vector<Bucket>{Out(1)});
  EXPECT_EQ(t.Find(3)->type(), GroupType::kAll);
}

TEST(GroupTable, DeletingAChainedGroupIsRefused) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kAll, 2, {Out(1)})));
  ExpectOk(t.Apply(Add(GroupType::kIndirect, 1, {ToGroup(2)})));
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 3, {Watching(kPortAny, 1)})));
  EXPECT_EQ(ErrOf(t.Apply(Delete(2))), OfpErr::kGroupModChainedGroup);
  EXPECT_EQ(ErrOf(t.Apply(Delete(1))), OfpErr::kGroupModChainedGroup);  // watched by 3
  EXPECT_EQ(Deleted(t.Apply(Delete(3))), std::vector<uint32_t>{3});
  EXPECT_EQ(Deleted(t.Apply(Delete(1))), std::vector<uint32_t>{1});
  EXPECT_EQ(t.RefCount(2), 0u);
  EXPECT_EQ(Deleted(t.Apply(Delete(2))), std::vector<uint32_t>{2});
}

TEST(GroupTable, ReferenceCounts) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kAll, 10, {Out(1)})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 11, {Out(2)})));
  // Several buckets of one group forwarding to 10 count once: ref_count counts groups.
  ExpectOk(t.Apply(Add(GroupType::kAll, 1, {ToGroup(10), ToGroup(10)})));
  ExpectOk(t.Apply(Add(GroupType::kSelect, 2, {ToGroup(10), ToGroup(11)})));
  t.AddFlowRef(10);
  t.AddFlowRef(10);
  t.AddFlowRef(99);  // unknown: ignored
  EXPECT_EQ(t.RefCount(10), 4u);
  EXPECT_EQ(t.RefCount(11), 1u);
  EXPECT_EQ(t.RefCount(99), 0u);
  // Modify moves group 2's references from 10 and 11 to 11 only.
  ExpectOk(t.Apply(Modify(GroupType::kIndirect, 2, {ToGroup(11)})));
  EXPECT_EQ(t.RefCount(10), 3u);
  EXPECT_EQ(t.RefCount(11), 1u);
  t.RemoveFlowRef(10);
  EXPECT_EQ(t.Stats(10).entries.at(0).ref_count, 2u);
  // Flows alone do not block a delete: the caller removes them afterwards.
  ExpectOk(t.Apply(Modify(GroupType::kAll, 1, {})));
  EXPECT_EQ(Deleted(t.Apply(Delete(10))), std::vector<uint32_t>{10});
  t.RemoveFlowRef(10);  // the caller cleaning up after the group is gone: harmless
}

TEST(GroupSelect, WeightedDistribution) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kSelect, 1, {Out(1, 1), Out(2, 2), Out(3, 7), Out(4, 0)})));
  auto g = t.Find(1);
  std::vector<int> hits(4);
  constexpr int kN = 100000;
  for (uint32_t i = 0; i < kN; ++i) {
    std::optional<size_t> b = g->SelectBucket(i);
    ASSERT_TRUE(b.has_value());
    ++hits[*b];
  }
  const double want[] = {0.1, 0.2, 0.7};
  for (int i = 0; i < 3; ++i) {
    EXPECT_NEAR(hits[i] / double{kN}, want[i], want[i] * 0.03) << "bucket " << i;
  }
  EXPECT_EQ(hits[3], 0);  // weight 0 beside nonzero weights: never chosen
  // The same hash always picks the same bucket (a flow stays on its path).
  EXPECT_EQ(g->SelectBucket(12345), g->SelectBucket(12345));
}

TEST(GroupSelect, AllZeroWeightsShareEqually) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kSelect, 1, {Out(1), Out(2), Out(3), Out(4)})));
  auto g = t.Find(1);
  std::vector<int> hits(4);
  constexpr int kN = 100000;
  for (uint32_t i = 0; i < kN; ++i) ++hits[g->SelectBucket(i * 2654435761u).value()];
  for (int h : hits) EXPECT_NEAR(h / double{kN}, 0.25, 0.25 * 0.03);
}

TEST(GroupSelect, LivenessRestrictsTheChoice) {
  GroupTable t;
  Bucket a = Out(1, 1);
  a.watch_port = 1;
  Bucket b = Out(2, 3);
  b.watch_port = 2;
  Bucket c = Out(3, 1);  // no watch: always live
  ExpectOk(t.Apply(Add(GroupType::kSelect, 1, {a, b, c})));
  auto g = t.Find(1);
  std::set<uint32_t> up = {1};
  Liveness live = t.MakeLiveness([&](uint32_t p) { return up.contains(p); });
  std::vector<int> hits(3);
  for (uint32_t i = 0; i < 100000; ++i) ++hits[g->SelectBucket(i, &live).value()];
  EXPECT_EQ(hits[1], 0);
  EXPECT_NEAR(hits[0] / 100000.0, 0.5, 0.5 * 0.03);
  EXPECT_NEAR(hits[2] / 100000.0, 0.5, 0.5 * 0.03);

  ExpectOk(t.Apply(Add(GroupType::kSelect, 2, {a, b})));
  up.clear();
  EXPECT_EQ(t.Find(2)->SelectBucket(7, &live), std::nullopt);
  ExpectOk(t.Apply(Add(GroupType::kSelect, 3, {})));
  EXPECT_EQ(t.Find(3)->SelectBucket(7), std::nullopt);
}

TEST(GroupFastFailover, FirstLiveBucket) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 1, {Watching(1), Watching(2), Watching(3)})));
  auto g = t.Find(1);
  std::set<uint32_t> up = {1, 2, 3};
  Liveness live = t.MakeLiveness([&](uint32_t p) { return up.contains(p); });
  EXPECT_EQ(g->FirstLiveBucket(live), 0u);
  up.erase(1);
  EXPECT_EQ(g->FirstLiveBucket(live), 1u);
  up.erase(2);
  EXPECT_EQ(g->FirstLiveBucket(live), 2u);
  EXPECT_TRUE(g->IsLive(live));
  up.erase(3);
  EXPECT_EQ(g->FirstLiveBucket(live), std::nullopt);
  EXPECT_FALSE(g->IsLive(live));
  up.insert(1);
  EXPECT_EQ(g->FirstLiveBucket(live), 0u);
}

TEST(GroupFastFailover, WatchedGroupsAreLiveWhenABucketIs) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 10, {Watching(1), Watching(2)})));
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 11, {Watching(kPortAny, 10)})));
  // Both a port and a group watched: both must be live.
  ExpectOk(t.Apply(
      Add(GroupType::kFastFailover, 1, {Watching(5, 11), Watching(kPortAny, 11), Watching(6)})));
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 12, {})));
  std::set<uint32_t> up = {2, 6};
  Liveness live = t.MakeLiveness([&](uint32_t p) { return up.contains(p); });
  auto g = t.Find(1);
  EXPECT_EQ(g->FirstLiveBucket(live), 1u);  // 10 is live via port 2, so 11 is too
  up.insert(5);
  EXPECT_EQ(g->FirstLiveBucket(live), 0u);
  up.erase(2);
  EXPECT_EQ(g->FirstLiveBucket(live), 2u);  // 10 and 11 dead, port 6 up
  EXPECT_FALSE(live.group_live(11));
  EXPECT_FALSE(live.group_live(12));  // no buckets
  EXPECT_FALSE(live.group_live(77));  // unknown
  up.insert(1);
  EXPECT_TRUE(live.group_live(11));
}

TEST(GroupStats, CountersRefCountAndDuration) {
  uint64_t now = 5'000'000'000;
  GroupTable t({.now_ns = [&] { return now; }});
  ExpectOk(t.Apply(Add(GroupType::kSelect, 7, {Out(1, 1), Out(2, 1)})));
  ExpectOk(t.Apply(Add(GroupType::kAll, 8, {ToGroup(7)})));
  t.AddFlowRef(7);
  auto g = t.Find(7);
  g->CountPacket(100);
  g->CountBucket(0, 100);
  g->CountPacket(60);
  g->CountBucket(1, 60);
  g->CountPacket(40);
  g->CountBucket(1, 40);
  now += 2'500'000'000;

  GroupStatsReply all = t.Stats(kGroupAll);
  ASSERT_EQ(all.entries.size(), 2u);
  const GroupStats& s = all.entries[0];
  EXPECT_EQ(s.group_id, 7u);
  EXPECT_EQ(s.ref_count, 2u);  // one flow, one group
  EXPECT_EQ(s.packet_count, 3u);
  EXPECT_EQ(s.byte_count, 200u);
  EXPECT_EQ(s.duration_sec, 2u);
  EXPECT_EQ(s.duration_nsec, 500'000'000u);
  EXPECT_EQ(s.buckets, (std::vector<BucketCounter>{{1, 100}, {2, 100}}));
  EXPECT_EQ(all.entries[1].group_id, 8u);
  EXPECT_EQ(all.entries[1].ref_count, 0u);
  EXPECT_EQ(all.entries[1].buckets.size(), 1u);

  EXPECT_EQ(t.Stats(8).entries.size(), 1u);
  EXPECT_TRUE(t.Stats(9).entries.empty());

  // A modify keeps the group's counters and age; the new buckets count from zero. The old
  // version stays usable, and what it counts still reaches the group's counter.
  ExpectOk(t.Apply(Modify(GroupType::kSelect, 7, {Out(1, 1), Out(2, 1), Out(3, 1)})));
  g->CountPacket(1000);
  now += 1'000'000'000;
  GroupStats s2 = t.Stats(7).entries.at(0);
  EXPECT_EQ(s2.packet_count, 4u);
  EXPECT_EQ(s2.byte_count, 1200u);
  EXPECT_EQ(s2.duration_sec, 3u);
  EXPECT_EQ(s2.buckets, (std::vector<BucketCounter>(3)));
  EXPECT_EQ(s2.ref_count, 2u);
}

TEST(GroupStats, ConcurrentCounting) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kAll, 1, {Out(1), Out(2)})));
  auto g = t.Find(1);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int n = 0; n < 10000; ++n) {
        g->CountPacket(10);
        g->CountBucket(n % 2, 10);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(g->Counter(), (BucketCounter{40000, 400000}));
  EXPECT_EQ(g->BucketCounterAt(0), (BucketCounter{20000, 200000}));
  EXPECT_EQ(g->BucketCounterAt(1), (BucketCounter{20000, 200000}));
}

TEST(GroupStats, DescAndFeatures) {
  GroupTable t;
  ExpectOk(t.Apply(Add(GroupType::kFastFailover, 3, {Watching(1)})));
  ExpectOk(t.Apply(Add(GroupType::kSelect, 1, {Out(1, 2)})));
  GroupDescReply d = t.Desc();
  ASSERT_EQ(d.entries.size(), 2u);
  EXPECT_EQ(d.entries[0], (GroupDesc{1, 1, {Out(1, 2)}}));
  EXPECT_EQ(d.entries[1], (GroupDesc{3, 3, {Watching(1)}}));

  GroupFeaturesReply f = t.Features();
  EXPECT_EQ(f.types, 0xfu);
  EXPECT_EQ(f.capabilities, kGroupCapSelectWeight | kGroupCapSelectLiveness | kGroupCapChaining |
                                kGroupCapChainingChecks);
  for (uint32_t a : f.actions) {
    EXPECT_TRUE(a & (1u << static_cast<int>(ActionType::kOutput)));
    EXPECT_TRUE(a & (1u << static_cast<int>(ActionType::kGroup)));
    EXPECT_TRUE(a & (1u << static_cast<int>(ActionType::kPopPbb)));
    EXPECT_FALSE(a & (1u << 1));  // no action type 1 in 1.3
  }
  // The reply is encodable by the codec.
  Result<std::vector<Message>> msgs = SplitMultipartReply(1, MultipartReply{0, f});
  ASSERT_TRUE(msgs.has_value());
  Result<std::vector<Message>> desc = SplitMultipartReply(2, MultipartReply{0, d});
  ASSERT_TRUE(desc.has_value());
  Result<Bytes> wire = EncodeMessage(desc->at(0));
  ASSERT_TRUE(wire.has_value());
  OfpResult<Message> back = DecodeMessage(*wire);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(std::get<GroupDescReply>(std::get<MultipartReply>(back->body).body), d);
}

}  // namespace
}  // namespace sluice::ofp
