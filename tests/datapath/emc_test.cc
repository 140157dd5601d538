#include "datapath/cache/emc.h"

#include <arpa/inet.h>

#include <memory>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::dp {
namespace {

FlowKey Key(uint32_t n) {
  FlowKey k;
  k.Clear();
  k.in_port = 1;
  k.eth_type = htons(0x0800);
  k.nw_src = htonl(0x0a000000 + n);
  k.nw_dst = htonl(0x0a010000 + n * 7);
  k.nw_proto = 17;
  k.tp_dst = htons(53);
  return k;
}

// Hash whose primary slot is `a` and secondary slot is `b`.
uint32_t SlotHash(uint32_t a, uint32_t b) { return a | (b << kEmcShift); }

TEST(EmcTest, HitAndMiss) {
  Emc emc;
  emc.SetInsertInvProb(1);
  Megaflow f;
  const FlowKey k = Key(1);
  const uint32_t h = HashFlowKey(k);
  EXPECT_EQ(emc.Lookup(k, h), nullptr);
  emc.Insert(k, h, &f);
  EXPECT_EQ(emc.Lookup(k, h), &f);
  EXPECT_EQ(emc.Occupancy(), 1u);

  // A different key is a miss, even when the caller's hash collides.
  const FlowKey k2 = Key(2);
  EXPECT_EQ(emc.Lookup(k2, HashFlowKey(k2)), nullptr);
  EXPECT_EQ(emc.Lookup(k2, h), nullptr);
  // Any single differing bit, e.g. in metadata, misses.
  FlowKey k3 = k;
  k3.pkt_mark = 1;
  EXPECT_EQ(emc.Lookup(k3, HashFlowKey(k3)), nullptr);

  // An all-zero key with hash 0 must not match an empty entry.
  FlowKey zero;
  zero.Clear();
  EXPECT_EQ(emc.Lookup(zero, 0), nullptr);

  emc.Clear();
  EXPECT_EQ(emc.Lookup(k, h), nullptr);
  EXPECT_EQ(emc.Occupancy(), 0u);
}

TEST(EmcTest, RefreshInPlace) {
  Emc emc;
  emc.SetInsertInvProb(1);
  Megaflow f1, f2;
  const FlowKey k = Key(5);
  const uint32_t h = HashFlowKey(k);
  emc.Insert(k, h, &f1);
  f1.dead.store(true);
  EXPECT_EQ(emc.Lookup(k, h), nullptr);
  emc.Insert(k, h, &f2);
  EXPECT_EQ(emc.Lookup(k, h), &f2);
  EXPECT_EQ(emc.Occupancy(), 1u);  // one entry, not two
}

TEST(EmcTest, DeadEntriesAreMissesAndSwept) {
  Emc emc;
  emc.SetInsertInvProb(1);
  std::vector<std::unique_ptr<Megaflow>> flows;
  for (uint32_t i = 0; i < 100; ++i) {
    flows.push_back(std::make_unique<Megaflow>());
    const FlowKey k = Key(i);
    emc.Insert(k, HashFlowKey(k), flows.back().get());
  }
  const size_t before = emc.Occupancy();
  EXPECT_GE(before, 95u);  // a few may share both slots
  for (uint32_t i = 0; i < 100; i += 2) flows[i]->dead.store(true);
  for (uint32_t i = 0; i < 100; i += 2) {
    const FlowKey k = Key(i);
    EXPECT_EQ(emc.Lookup(k, HashFlowKey(k)), nullptr);
  }
  emc.SweepDead();
  // Revive them: the sweep must have dropped the entries, not just hidden them.
  for (uint32_t i = 0; i < 100; i += 2) flows[i]->dead.store(false);
  for (uint32_t i = 0; i < 100; ++i) {
    const FlowKey k = Key(i);
    Megaflow* got = emc.Lookup(k, HashFlowKey(k));
    if (i % 2 == 0) {
      EXPECT_EQ(got, nullptr) << i;
    } else if (got) {
      EXPECT_EQ(got, flows[i].get());
    }
  }
  EXPECT_LE(emc.Occupancy(), 50u);
  EXPECT_GE(emc.Occupancy(), before - 50);
}

TEST(EmcTest, TwoCandidateSlotsAndReplacement) {
  Emc emc;
  emc.SetInsertInvProb(1);
  Megaflow f1, f2, f3, f4;
  const FlowKey k1 = Key(1), k2 = Key(2), k3 = Key(3), k4 = Key(4);
  const uint32_t h1 = SlotHash(5, 100);
  const uint32_t h2 = SlotHash(5, 200);
  emc.Insert(k1, h1, &f1);  // primary slot 5
  emc.Insert(k2, h2, &f2);  // slot 5 taken: secondary slot 200
  EXPECT_EQ(emc.Lookup(k1, h1), &f1);
  EXPECT_EQ(emc.Lookup(k2, h2), &f2);

  // Both candidates alive: the one with the lower hash (k1 in slot 5) is replaced.
  emc.Insert(k3, h2, &f3);
  EXPECT_EQ(emc.Lookup(k1, h1), nullptr);
  EXPECT_EQ(emc.Lookup(k2, h2), &f2);
  EXPECT_EQ(emc.Lookup(k3, h2), &f3);

  // A dead candidate is preferred over a live one regardless of hash.
  f2.dead.store(true);
  emc.Insert(k4, h2, &f4);
  EXPECT_EQ(emc.Lookup(k4, h2), &f4);
  EXPECT_EQ(emc.Lookup(k3, h2), &f3);
}

TEST(EmcTest, InsertionProbability) {
  std::vector<FlowKey> keys;
  std::vector<uint32_t> hashes;
  for (uint32_t i = 0; i < 100000; ++i) {
    keys.push_back(Key(i));
    hashes.push_back(HashFlowKey(keys.back()));
  }
  Megaflow f;
  auto inserted = [&](Emc& emc) {
    size_t n = 0;
    for (size_t i = 0; i < keys.size(); ++i) {
      emc.Insert(keys[i], hashes[i], &f);
      n += emc.Lookup(keys[i], hashes[i]) != nullptr;
    }
    return n;
  };

  Emc always;
  always.SetInsertInvProb(1);
  EXPECT_EQ(inserted(always), keys.size());

  Emc never;
  never.SetInsertInvProb(0);
  EXPECT_EQ(inserted(never), 0u);
  EXPECT_EQ(never.Occupancy(), 0u);

  Emc dflt(42);
  EXPECT_EQ(dflt.insert_inv_prob(), kEmcDefaultInsertInvProb);
  const size_t n = inserted(dflt);  // expect ~1000
  EXPECT_GT(n, 700u);
  EXPECT_LT(n, 1300u);

  Emc tenth(7);
  tenth.SetInsertInvProb(10);
  const size_t t = inserted(tenth);  // expect ~10000
  EXPECT_GT(t, 9000u);
  EXPECT_LT(t, 11000u);
}

}  // namespace
}  // namespace sluice::dp
