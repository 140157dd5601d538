#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <random>

#include <gtest/gtest.h>

#include "ofproto/table/classifier.h"

namespace sluice::ofp {
namespace {

using F = OxmField;

RulePtr MakeRule(const Match& m, uint16_t priority) {
  auto r = std::make_shared<Rule>();
  r->match = NormalizeMatch(m);
  r->priority = priority;
  r->version_added = 1;
  return r;
}

Match Ipv4Dst(uint32_t addr, uint32_t mask) {
  Match m;
  m.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  m.Set(OxmEntry::Masked(F::kIpv4Dst, addr & mask, mask));
  return m;
}

FieldValues Ipv4Packet(uint32_t dst) {
  FieldValues p;
  p.Set(F::kInPort, 1);
  p.Set(F::kEthType, 0x0800);
  p.Set(F::kIpProto, 6);
  p.Set(F::kIpv4Src, 0xc0a80001);
  p.Set(F::kIpv4Dst, dst);
  p.Set(F::kTcpDst, 80);
  return p;
}

TEST(TableFieldValues, LayoutCoversAllFieldsWithoutOverlap) {
  std::vector<int> owner(FieldValues::kWords * 8, -1);
  for (size_t f = 0; f < kNumOxmFields; ++f) {
    const FieldLayout& l = LayoutOf(static_cast<F>(f));
    EXPECT_EQ(l.len, FieldInfo(static_cast<F>(f)).len);
    for (size_t i = l.offset; i < l.offset + l.len; ++i) {
      ASSERT_LT(i, owner.size());
      EXPECT_EQ(owner[i], -1) << f;
      owner[i] = static_cast<int>(f);
    }
    EXPECT_GE(l.offset, StageWordBounds()[l.stage] * 8);
    EXPECT_LE(l.offset + l.len, StageWordBounds()[l.stage + 1] * 8);
  }
  FieldValues v;
  v.Set(F::kVlanVid, 0x1005);
  EXPECT_EQ(v.Get(F::kVlanVid), 0x1005u);
}

TEST(TableFieldValues, NormalizeMatch) {
  Match m;
  m.Set(OxmEntry::Masked(F::kVlanVid, 0x1005, 0x1fff));  // all valid bits: exact
  m.Set(OxmEntry::Masked(F::kEthDst, 0, 0));             // nothing: dropped
  Match n = NormalizeMatch(m);
  ASSERT_EQ(n.fields().size(), 1u);
  EXPECT_FALSE(n.fields()[0].has_mask);
  Match exact;
  exact.Set(OxmEntry::Exact(F::kVlanVid, 0x1005));
  EXPECT_EQ(n, NormalizeMatch(exact));
}

TEST(TableClassifier, HighestPriorityAndMiss) {
  Classifier c;
  c.Insert(MakeRule(Ipv4Dst(0x0a000000, 0xff000000), 10));
  c.Insert(MakeRule(Ipv4Dst(0x0a010000, 0xffff0000), 20));
  c.Insert(MakeRule(Match{}, 0));
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0a010203), 1)->priority, 20);
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0a020203), 1)->priority, 10);
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0b000001), 1)->priority, 0);
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0b000001), 0), nullptr);  // nothing visible at version 0
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.tuple_count(), 3u);
}

TEST(TableClassifier, VersionsAndRemove) {
  Classifier c;
  RulePtr a = MakeRule(Ipv4Dst(0x0a000000, 0xff000000), 10);
  RulePtr b = MakeRule(Ipv4Dst(0x0a000000, 0xff000000), 10);
  b->version_added = 5;
  a->version_removed = 5;
  c.Insert(a);
  c.Insert(b);
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0a000001), 4), a.get());
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0a000001), 5), b.get());
  EXPECT_EQ(c.FindLive(a->match, 10), b);
  EXPECT_TRUE(c.Remove(a.get()));
  EXPECT_FALSE(c.Remove(a.get()));
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0a000001), 4), nullptr);
  EXPECT_TRUE(c.Remove(b.get()));
  EXPECT_EQ(c.tuple_count(), 0u);
}

TEST(TableClassifier, UnwildcardPrefixOnly) {
  Classifier c;
  c.Insert(MakeRule(Ipv4Dst(0x0a000000, 0xff000000), 10));
  FieldMask wc;
  ASSERT_NE(c.Lookup(Ipv4Packet(0x0a010203), 1, &wc), nullptr);
  FieldMask want;
  want.SetFieldAllOnes(F::kEthType);
  want.Set(F::kIpv4Dst, 0xff000000);
  EXPECT_EQ(wc, want);

  // A miss on the prefix still needs the prefix bits.
  FieldMask wc2;
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0b010203), 1, &wc2), nullptr);
  EXPECT_EQ(wc2, want);
}

TEST(TableClassifier, UnwildcardStopsAtFailingStage) {
  Classifier c;
  c.Insert(MakeRule(Ipv4Dst(0x0a000000, 0xff000000), 10));
  FieldValues ipv6;
  ipv6.Set(F::kEthType, 0x86dd);
  FieldMask wc;
  EXPECT_EQ(c.Lookup(ipv6, 1, &wc), nullptr);
  FieldMask want;
  want.SetFieldAllOnes(F::kEthType);
  EXPECT_EQ(wc, want);  // no ipv4_dst bits: the L2 stage already failed
}

TEST(TableClassifier, UnwildcardSkipsLowerPriorityTuples) {
  Classifier c;
  Match in_port;
  in_port.Set(OxmEntry::Exact(F::kInPort, 1));
  c.Insert(MakeRule(in_port, 100));
  c.Insert(MakeRule(Ipv4Dst(0x0a000000, 0xff000000), 50));
  FieldMask wc;
  EXPECT_EQ(c.Lookup(Ipv4Packet(0x0a000001), 1, &wc)->priority, 100);
  FieldMask want;
  want.SetFieldAllOnes(F::kInPort);
  EXPECT_EQ(wc, want);
}

TEST(TableClassifier, UnwildcardTcpRule) {
  Classifier c;
  Match m = Ipv4Dst(0x0a000000, 0xffffff00);
  m.Set(OxmEntry::Exact(F::kIpProto, 6));
  m.Set(OxmEntry::Exact(F::kTcpDst, 80));
  c.Insert(MakeRule(m, 10));
  FieldMask wc;
  FieldValues pkt = Ipv4Packet(0x0b000001);  // fails in L3: tcp_dst untouched
  EXPECT_EQ(c.Lookup(pkt, 1, &wc), nullptr);
  FieldMask want;
  want.SetFieldAllOnes(F::kEthType);
  want.SetFieldAllOnes(F::kIpProto);
  want.Set(F::kIpv4Dst, 0xffffff00);
  EXPECT_EQ(wc, want);
  FieldMask wc2;
  EXPECT_NE(c.Lookup(Ipv4Packet(0x0a000001), 1, &wc2), nullptr);
  want.SetFieldAllOnes(F::kTcpDst);
  EXPECT_EQ(wc2, want);
}

// ---- Randomized comparison against a linear scan ----

struct RandomWorld {
  std::mt19937_64 rng{12345};

  uint64_t Pick(std::initializer_list<uint64_t> v) { return *(v.begin() + rng() % v.size()); }
  uint32_t Prefix(int len) { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }

  Match RandomMatch() {
    Match m;
    if (rng() % 3 == 0) m.Set(OxmEntry::Exact(F::kInPort, 1 + rng() % 4));
    if (rng() % 5 == 0) {
      uint64_t mask = Pick({0xff, 0xf0, 0xffffffffffffffff});
      m.Set(OxmEntry::Masked(F::kMetadata, rng() % 512 & mask, mask));
    }
    if (rng() % 4 == 0) m.Set(OxmEntry::Exact(F::kVlanVid, Pick({0, 0x1001, 0x1002})));
    if (rng() % 5 == 0) m.Set(OxmEntry::Masked(F::kEthDst, rng() % 4 << 40, 0xff0000000000));
    switch (rng() % 4) {
      case 0:
        break;
      case 1: {
        m.Set(OxmEntry::Exact(F::kEthType, 0x0800));
        if (rng() % 2) {
          uint32_t mask = Prefix(static_cast<int>(rng() % 33));
          m.Set(OxmEntry::Masked(F::kIpv4Dst, (0x0a000000 | rng() % 0x400) & mask, mask));
        }
        if (rng() % 3 == 0) {
          uint32_t mask = Prefix(static_cast<int>(rng() % 33));
          m.Set(OxmEntry::Masked(F::kIpv4Src, (0xc0a80000 | rng() % 4) & mask, mask));
        }
        if (rng() % 2) {
          uint8_t proto = static_cast<uint8_t>(Pick({6, 17}));
          m.Set(OxmEntry::Exact(F::kIpProto, proto));
          if (rng() % 2) {
            m.Set(OxmEntry::Exact(proto == 6 ? F::kTcpDst : F::kUdpDst, Pick({53, 80, 443})));
          }
        }
        break;
      }
      case 2: {
        m.Set(OxmEntry::Exact(F::kEthType, 0x86dd));
        if (rng() % 2) {
          uint8_t v[16] = {0x20, 0x01, 0, 0, 0, 0, 0, 0,
                           0,    0,    0, 0, 0, 0, 0, static_cast<uint8_t>(rng() % 4)};
          uint8_t mask[16] = {};
          int len = static_cast<int>(rng() % 129);
          for (int i = 0; i < len; ++i) mask[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
          for (int i = 0; i < 16; ++i) v[i] &= mask[i];
          m.Set(OxmEntry::FromBytes(F::kIpv6Src, v, mask));
        }
        break;
      }
      default:
        m.Set(OxmEntry::Exact(F::kEthType, 0x0806));
        if (rng() % 2) m.Set(OxmEntry::Exact(F::kArpOp, 1 + rng() % 2));
        break;
    }
    return m;
  }

  FieldValues RandomPacket() {
    FieldValues p;
    p.Set(F::kInPort, 1 + rng() % 4);
    p.Set(F::kMetadata, rng() % 512);
    p.Set(F::kVlanVid, Pick({0, 0x1001, 0x1002}));
    p.Set(F::kEthDst, rng() % 4 << 40 | rng() % 16);
    switch (rng() % 3) {
      case 0: {
        p.Set(F::kEthType, 0x0800);
        p.Set(F::kIpv4Dst, 0x0a000000 | rng() % 0x400);
        p.Set(F::kIpv4Src, 0xc0a80000 | rng() % 4);
        uint8_t proto = static_cast<uint8_t>(Pick({6, 17, 1}));
        p.Set(F::kIpProto, proto);
        if (proto == 6) p.Set(F::kTcpDst, Pick({53, 80, 443}));
        if (proto == 17) p.Set(F::kUdpDst, Pick({53, 80, 443}));
        break;
      }
      case 1: {
        p.Set(F::kEthType, 0x86dd);
        uint8_t v[16] = {0x20, 0x01, 0, 0, 0, 0, 0, 0,
                         0,    0,    0, 0, 0, 0, 0, static_cast<uint8_t>(rng() % 4)};
        if (rng() % 8 == 0) v[1] = 0x02;
        p.SetBytes(F::kIpv6Src, v);
        break;
      }
      default:
        p.Set(F::kEthType, 0x0806);
        p.Set(F::kArpOp, 1 + rng() % 2);
        break;
    }
    return p;
  }
};

TEST(TableClassifier, RandomAgainstLinearScan) {
  RandomWorld w;
  Classifier c;
  std::vector<RulePtr> rules;
  for (int i = 0; i < 1000; ++i) {
    RulePtr r = MakeRule(w.RandomMatch(), static_cast<uint16_t>(w.rng() % 30));
    if (w.rng() % 10 == 0) r->version_added = 3;  // invisible at version 2
    rules.push_back(r);
    c.Insert(r);
  }
  // Remove some again, to exercise tuple bookkeeping.
  for (int i = 0; i < 100; ++i) {
    size_t k = w.rng() % rules.size();
    ASSERT_TRUE(c.Remove(rules[k].get()));
    rules.erase(rules.begin() + static_cast<ptrdiff_t>(k));
  }
  auto linear_best = [&](const FieldValues& p, Version v) {
    int best = -1;
    for (const RulePtr& r : rules) {
      if (r->VisibleAt(v) && MatchesPacket(r->match, p)) best = std::max<int>(best, r->priority);
    }
    return best;
  };
  int hits = 0;
  for (int i = 0; i < 10000; ++i) {
    FieldValues p = w.RandomPacket();
    Version v = 2 + i % 2;
    FieldMask wc;
    const Rule* got = c.Lookup(p, v, &wc);
    int want = linear_best(p, v);
    ASSERT_EQ(got ? got->priority : -1, want) << i;
    if (got) {
      ++hits;
      ASSERT_TRUE(MatchesPacket(got->match, p));
    }
    // Packets agreeing on the un-wildcarded bits must get the same rule.
    for (int j = 0; j < 3; ++j) {
      FieldValues other = w.RandomPacket();
      FieldValues q;
      for (size_t k = 0; k < FieldValues::kWords; ++k) {
        uint64_t noise = j == 2 ? w.rng() : other.words()[k];
        q.words()[k] = (p.words()[k] & wc.words()[k]) | (noise & ~wc.words()[k]);
      }
      ASSERT_EQ(c.Lookup(q, v), got) << i << " " << j;
    }
  }
  EXPECT_GT(hits, 5000);
}

size_t HeapInUse() { return mallinfo2().uordblks; }

TEST(TableClassifier, HundredThousandRulesMemoryAndSpeed) {
  constexpr int kRules = 100000;
  std::mt19937_64 rng(7);
  size_t before = HeapInUse();
  std::vector<RulePtr> rules;
  rules.reserve(kRules);
  auto c = std::make_unique<Classifier>();
  for (int i = 0; i < kRules; ++i) {
    int len = 16 + static_cast<int>(rng() % 17);
    uint32_t mask = ~uint32_t{0} << (32 - len);
    Match m;
    m.Set(OxmEntry::Exact(F::kInPort, 1 + i % 8));
    m.Set(OxmEntry::Exact(F::kEthType, 0x0800));
    m.Set(OxmEntry::Masked(F::kIpv4Dst, static_cast<uint32_t>(rng()) & mask, mask));
    if (i % 2) {
      m.Set(OxmEntry::Exact(F::kIpProto, 6));
      m.Set(OxmEntry::Exact(F::kTcpDst, rng() % 1024));
    }
    RulePtr r = MakeRule(m, static_cast<uint16_t>(len * 2 + i % 2));
    r->instructions.push_back(InstApplyActions{{ActOutput{static_cast<uint32_t>(i % 48 + 1)}}});
    rules.push_back(r);
    c->Insert(r);
  }
  size_t vec_bytes = rules.capacity() * sizeof(RulePtr);
  double bytes_per_rule = static_cast<double>(HeapInUse() - before - vec_bytes) / kRules;

  constexpr int kLookups = 200000;
  std::vector<FieldValues> pkts(1024);
  for (size_t i = 0; i < pkts.size(); ++i) {
    const Rule& r = *rules[rng() % rules.size()];
    pkts[i] = Ipv4Packet(static_cast<uint32_t>(r.match.Find(F::kIpv4Dst)->ValueU64()));
    pkts[i].Set(F::kInPort, r.match.Find(F::kInPort)->ValueU64());
    if (i % 3 == 0) pkts[i].Set(F::kIpv4Dst, static_cast<uint32_t>(rng()));
  }
  size_t found = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kLookups; ++i) {
    FieldMask wc;
    found += c->Lookup(pkts[static_cast<size_t>(i) % pkts.size()], 1, &wc) != nullptr;
  }
  double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
      kLookups;
  std::printf(
      "[classifier] %d rules, %zu tuples: %.0f bytes/rule (Rule included), "
      "%.0f ns/lookup with un-wildcarding, %zu/%d matched\n",
      kRules, c->tuple_count(), bytes_per_rule, ns, found, kLookups);
  EXPECT_GT(found, 0u);
#ifndef __SANITIZE_ADDRESS__        // ASan's allocator does not report through mallinfo2
  EXPECT_LT(bytes_per_rule, 2000);  // 1M rules stay within ~2 GB
#endif
}

}  // namespace
}  // namespace sluice::ofp
