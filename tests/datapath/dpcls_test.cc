#include "datapath/cache/dpcls.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::dp {
namespace {

// Records deferred frees and runs them when the test says the grace period is over.
class TestReclaimer : public Reclaimer {
 public:
  ~TestReclaimer() override { RunAll(); }
  void Defer(std::function<void()> fn) override { pending_.push_back(std::move(fn)); }
  void RunAll() {
    auto p = std::move(pending_);
    pending_.clear();
    for (auto& fn : p) fn();
    ran_ += p.size();
  }
  size_t pending() const { return pending_.size(); }
  size_t ran() const { return ran_; }

 private:
  std::vector<std::function<void()>> pending_;
  size_t ran_ = 0;
};

uint32_t Ip(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return htonl((uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d);
}
uint32_t Prefix(int len) { return len == 0 ? 0 : htonl(~uint32_t{0} << (32 - len)); }

std::unique_ptr<Megaflow> MakeFlow(const FlowKey& key, const FlowMask& mask, uint64_t id) {
  auto f = std::make_unique<Megaflow>();
  f->mask = mask;
  ApplyMask(key, mask, &f->key);
  f->id = id;
  ActionBuilder b;
  b.Output(static_cast<uint32_t>(id));
  f->SetActions(MegaflowActions::From(b));
  return f;
}

bool Matches(const Megaflow& f, const FlowKey& key) {
  FlowKey m;
  ApplyMask(key, f.mask, &m);
  return m == f.key;
}

// Two megaflows overlap unless their keys differ on a bit both masks care about.
bool Overlap(const Megaflow& a, const FlowKey& key, const FlowMask& mask) {
  const uint64_t* ka = a.key.words();
  const uint64_t* ma = a.mask.bits.words();
  const uint64_t* kb = key.words();
  const uint64_t* mb = mask.bits.words();
  for (size_t i = 0; i < FlowKey::kWords; ++i) {
    if ((ka[i] ^ kb[i]) & ma[i] & mb[i]) return false;
  }
  return true;
}

// Random keys over small value sets (so that lookups hit) and masks over the usual fields.
class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}

  FlowKey Key() {
    FlowKey k;
    k.Clear();
    k.in_port = 1 + Pick(4);
    k.eth_type = Pick(5) ? htons(0x0800) : htons(0x86dd);
    k.nw_src = Ip(10, 0, static_cast<uint8_t>(Pick(4)), static_cast<uint8_t>(Pick(16)));
    k.nw_dst = Ip(10, static_cast<uint8_t>(Pick(2)), static_cast<uint8_t>(Pick(4)),
                  static_cast<uint8_t>(Pick(8)));
    k.nw_proto = Pick(2) ? 6 : 17;
    static constexpr uint16_t kPorts[] = {53, 80, 443, 8080};
    k.tp_dst = htons(kPorts[Pick(4)]);
    // Fields no mask looks at: must not influence the result.
    k.tp_src = static_cast<uint16_t>(rng_());
    k.eth_src[5] = static_cast<uint8_t>(rng_());
    k.nw_ttl = static_cast<uint8_t>(rng_());
    return k;
  }

  // At least four fields, so that megaflows are specific enough for hundreds to coexist.
  FlowMask Mask() {
    static constexpr int kLens[] = {16, 24, 28, 30, 32, 32};
    FlowMask m;
    int fields;
    do {
      m.Clear();
      fields = 0;
      auto maybe = [&](uint32_t odds, auto set) {
        if (Pick(odds)) {
          set();
          ++fields;
        }
      };
      maybe(4, [&] { m.bits.in_port = ~0u; });
      maybe(2, [&] { m.bits.eth_type = 0xffff; });
      maybe(4, [&] { m.bits.nw_src = Prefix(kLens[Pick(6)]); });
      maybe(4, [&] { m.bits.nw_dst = Prefix(kLens[Pick(6)]); });
      maybe(2, [&] { m.bits.nw_proto = 0xff; });
      maybe(2, [&] { m.bits.tp_dst = 0xffff; });
    } while (fields < 4);
    return m;
  }

  uint32_t Pick(uint32_t n) { return rng_() % n; }
  std::mt19937& rng() { return rng_; }

 private:
  std::mt19937 rng_;
};

std::vector<FlowMask> DistinctMasks(Gen& g, size_t n) {
  std::vector<FlowMask> masks;
  while (masks.size() < n) {
    FlowMask m = g.Mask();
    if (std::find(masks.begin(), masks.end(), m) == masks.end()) masks.push_back(m);
  }
  return masks;
}

// Inserts a random megaflow unless it would overlap one in `ref`.
Megaflow* TryInsert(Dpcls& cls, Gen& g, const std::vector<FlowMask>& masks,
                    std::vector<Megaflow*>& ref, uint64_t id) {
  FlowMask mask = masks[g.Pick(static_cast<uint32_t>(masks.size()))];
  FlowKey key = g.Key();
  ApplyMask(key, mask, &key);
  for (Megaflow* f : ref) {
    if (Overlap(*f, key, mask)) return nullptr;
  }
  Megaflow* f = cls.Insert(MakeFlow(key, mask, id));
  EXPECT_NE(f, nullptr);
  if (f) ref.push_back(f);
  return f;
}

Megaflow* BruteForce(const std::vector<Megaflow*>& ref, const FlowKey& key) {
  Megaflow* hit = nullptr;
  for (Megaflow* f : ref) {
    if (Matches(*f, key)) {
      EXPECT_EQ(hit, nullptr) << "reference megaflows overlap";
      hit = f;
    }
  }
  return hit;
}

TEST(DpclsTest, InsertLookupRemove) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowMask mask;
  mask.Clear();
  mask.bits.in_port = ~0u;
  mask.bits.nw_dst = Prefix(24);
  FlowKey key;
  key.Clear();
  key.in_port = 3;
  key.nw_dst = Ip(192, 168, 1, 77);

  EXPECT_EQ(cls.Lookup(key), nullptr);
  Megaflow* f = cls.Insert(MakeFlow(key, mask, 1));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->key.nw_dst, Ip(192, 168, 1, 0));  // stored masked
  EXPECT_EQ(cls.size(), 1u);
  EXPECT_EQ(cls.n_subtables(), 1u);

  FlowKey pkt = key;
  pkt.nw_dst = Ip(192, 168, 1, 200);
  pkt.tp_src = htons(1234);
  EXPECT_EQ(cls.Lookup(pkt), f);
  EXPECT_EQ(cls.FindMatch(pkt), f);
  EXPECT_EQ(cls.Find(pkt, mask), f);  // Find masks again
  pkt.in_port = 4;
  EXPECT_EQ(cls.Lookup(pkt), nullptr);

  // Identical (key, mask): rejected, the original stays.
  EXPECT_EQ(cls.Insert(MakeFlow(key, mask, 2)), nullptr);
  EXPECT_EQ(cls.size(), 1u);
  EXPECT_EQ(cls.Lookup(key), f);

  cls.Remove(f);
  EXPECT_TRUE(f->dead.load());
  EXPECT_EQ(cls.size(), 0u);
  EXPECT_EQ(cls.n_subtables(), 0u);
  EXPECT_EQ(cls.Lookup(key), nullptr);
  EXPECT_EQ(cls.Find(key, mask), nullptr);
  // Still readable until the grace period ends (ASan would flag an early free).
  EXPECT_EQ(f->id, 1u);
  EXPECT_EQ(f->Actions().size(), 16u);
  EXPECT_GT(rec.pending(), 0u);
  rec.RunAll();
}

TEST(DpclsTest, AllFieldsWildcardedExceptOneWord) {
  Dpcls cls(nullptr);  // no concurrent reader: immediate frees
  FlowMask mask;
  mask.Clear();
  mask.bits.tcp_flags = 0xffff;  // the last word only
  FlowKey key;
  key.Clear();
  key.tcp_flags = htons(0x002);
  Megaflow* f = cls.Insert(MakeFlow(key, mask, 1));
  ASSERT_NE(f, nullptr);
  key.in_port = 9;
  EXPECT_EQ(cls.Lookup(key), f);
  key.tcp_flags = htons(0x010);
  EXPECT_EQ(cls.Lookup(key), nullptr);
  cls.Remove(f);
  EXPECT_EQ(cls.size(), 0u);
}

TEST(DpclsTest, RandomAgainstBruteForce) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  Gen g(12345);
  const std::vector<FlowMask> masks = DistinctMasks(g, 20);
  std::vector<Megaflow*> ref;
  for (int i = 0; i < 3000; ++i) TryInsert(cls, g, masks, ref, i);
  ASSERT_GT(ref.size(), 300u);
  EXPECT_EQ(cls.size(), ref.size());
  EXPECT_LE(cls.n_subtables(), 20u);
  EXPECT_GT(cls.n_subtables(), 10u);

  size_t hits = 0;
  std::vector<FlowKey> batch;
  std::vector<Megaflow*> batch_ref;
  for (int i = 0; i < 100000; ++i) {
    const FlowKey key = g.Key();
    Megaflow* want = BruteForce(ref, key);
    hits += want != nullptr;
    ASSERT_EQ(cls.Lookup(key), want) << "lookup " << i;
    if (i % 16 == 0) {
      ASSERT_EQ(cls.FindMatch(key), want);
    }
    batch.push_back(key);
    batch_ref.push_back(want);
    if (batch.size() == 1 + g.Pick(kDpclsMaxBatch)) {
      const FlowKey* keys[kDpclsMaxBatch];
      Megaflow* out[kDpclsMaxBatch];
      for (size_t j = 0; j < batch.size(); ++j) keys[j] = &batch[j];
      cls.LookupBatch(keys, batch.size(), out);
      for (size_t j = 0; j < batch.size(); ++j) ASSERT_EQ(out[j], batch_ref[j]) << "batch " << i;
      batch.clear();
      batch_ref.clear();
    }
    if (i % 10000 == 0) cls.Rerank();
  }
  EXPECT_GT(hits, 20000u);
  EXPECT_LT(hits, 100000u);
}

TEST(DpclsTest, InsertRemoveInterleavings) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  Gen g(777);
  const std::vector<FlowMask> masks = DistinctMasks(g, 12);
  std::vector<Megaflow*> ref;
  for (int round = 0; round < 40000; ++round) {
    const uint32_t op = g.Pick(10);
    if (op < 5) {
      TryInsert(cls, g, masks, ref, round);
    } else if (op < 8 && !ref.empty()) {
      const size_t i = g.Pick(static_cast<uint32_t>(ref.size()));
      Megaflow* f = ref[i];
      ref.erase(ref.begin() + static_cast<ptrdiff_t>(i));
      cls.Remove(f);
      EXPECT_TRUE(f->dead.load());
      EXPECT_EQ(cls.Find(f->key, f->mask), nullptr);
    } else {
      const FlowKey key = g.Key();
      ASSERT_EQ(cls.Lookup(key), BruteForce(ref, key)) << "round " << round;
    }
    if (round % 97 == 0) rec.RunAll();
    if (round % 1000 == 0) {
      ASSERT_EQ(cls.size(), ref.size());
      std::vector<FlowMask> live;
      for (Megaflow* f : ref) {
        ASSERT_EQ(cls.Find(f->key, f->mask), f);
        if (std::find(live.begin(), live.end(), f->mask) == live.end()) live.push_back(f->mask);
      }
      ASSERT_EQ(cls.n_subtables(), live.size());
      size_t n = 0;
      cls.ForEach([&](Megaflow* f) {
        ++n;
        EXPECT_NE(std::find(ref.begin(), ref.end(), f), ref.end());
      });
      ASSERT_EQ(n, ref.size());
    }
  }
  // Flush through ForEach.
  cls.ForEach([&](Megaflow* f) { cls.Remove(f); });
  EXPECT_EQ(cls.size(), 0u);
  EXPECT_EQ(cls.n_subtables(), 0u);
  EXPECT_EQ(cls.Lookup(g.Key()), nullptr);
}

TEST(DpclsTest, GrowAndShrinkOneSubtable) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowMask mask;
  mask.Clear();
  mask.bits.nw_src = ~0u;
  std::vector<Megaflow*> flows;
  FlowKey key;
  key.Clear();
  for (uint32_t i = 0; i < 5000; ++i) {
    key.nw_src = htonl(0x0a000000 + i);
    flows.push_back(cls.Insert(MakeFlow(key, mask, i)));
    ASSERT_NE(flows.back(), nullptr);
  }
  // Growth replaced bucket arrays: the old ones went through the reclaimer, not delete.
  EXPECT_GT(rec.pending(), 5u);
  for (uint32_t i = 0; i < 5000; ++i) {
    key.nw_src = htonl(0x0a000000 + i);
    ASSERT_EQ(cls.Lookup(key), flows[i]);
  }
  rec.RunAll();
  for (uint32_t i = 0; i < 5000; i += 2) cls.Remove(flows[i]);
  for (uint32_t i = 0; i < 5000; ++i) {
    key.nw_src = htonl(0x0a000000 + i);
    ASSERT_EQ(cls.Lookup(key), i % 2 ? flows[i] : nullptr);
  }
  for (uint32_t i = 1; i < 5000; i += 2) {
    cls.Remove(flows[i]);
    if (i % 256 == 1) rec.RunAll();
  }
  EXPECT_EQ(cls.size(), 0u);
  EXPECT_EQ(cls.n_subtables(), 0u);
}

// Steady churn at constant size in one subtable: removals leave overflow flags behind, which
// same-size rebuilds clear; lookups must stay exact throughout.
TEST(DpclsTest, ChurnAtConstantSize) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowMask mask;
  mask.Clear();
  mask.bits.nw_src = ~0u;
  mask.bits.tp_dst = 0xffff;
  std::mt19937 rng(99);
  std::vector<Megaflow*> live;
  std::vector<FlowKey> gone;
  FlowKey key;
  key.Clear();
  for (int round = 0; round < 60000; ++round) {
    if (live.size() < 300) {
      key.nw_src = rng();
      key.tp_dst = static_cast<uint16_t>(rng());
      if (cls.Find(key, mask)) continue;
      Megaflow* f = cls.Insert(MakeFlow(key, mask, round));
      ASSERT_NE(f, nullptr);
      live.push_back(f);
    } else {
      const size_t i = rng() % live.size();
      gone.push_back(live[i]->key);
      cls.Remove(live[i]);
      live[i] = live.back();
      live.pop_back();
    }
    if (round % 5000 == 0) {
      for (Megaflow* f : live) ASSERT_EQ(cls.Lookup(f->key), f);
      for (const FlowKey& k : gone) {
        Megaflow* f = cls.Lookup(k);
        ASSERT_TRUE(f == nullptr || f->key == k);  // re-inserted keys are fine
      }
      gone.clear();
      rec.RunAll();
    }
  }
  EXPECT_EQ(cls.size(), live.size());
}

TEST(DpclsTest, DeferredFreeContract) {
  TestReclaimer rec;
  auto cls = std::make_unique<Dpcls>(&rec);
  FlowMask m1, m2;
  m1.Clear();
  m1.bits.in_port = ~0u;
  m2.Clear();
  m2.bits.nw_proto = 0xff;
  FlowKey k;
  k.Clear();
  k.in_port = 1;
  k.nw_proto = 6;
  Megaflow* a = cls->Insert(MakeFlow(k, m1, 1));
  ASSERT_NE(a, nullptr);
  k.in_port = 2;  // does not overlap `a`
  k.nw_proto = 17;
  Megaflow* b = cls->Insert(MakeFlow(k, m2, 2));
  ASSERT_NE(b, nullptr);
  cls->Sync();
  EXPECT_EQ(cls->n_ranked(), 2u);
  rec.RunAll();

  // The reader found `a`; the writer removes it (and with it subtable m1).
  k.in_port = 1;
  k.nw_proto = 0;
  Megaflow* seen = cls->Lookup(k);
  ASSERT_EQ(seen, a);
  cls->Remove(a);
  EXPECT_GE(rec.pending(), 3u);  // megaflow, subtable, old subtable vector
  // Nothing was freed yet: the reader may still use what it found in this iteration.
  EXPECT_EQ(seen->id, 1u);
  EXPECT_TRUE(seen->dead.load());
  EXPECT_EQ(seen->Actions().begin()->type, static_cast<uint16_t>(ActionType::kOutput));
  // Its order array still points at the removed subtable until it syncs.
  EXPECT_EQ(cls->n_ranked(), 2u);
  EXPECT_EQ(cls->RankedMask(0), m1);
  // Quiescent state, grace period over, then the reader runs again.
  rec.RunAll();
  EXPECT_EQ(cls->Lookup(k), nullptr);
  EXPECT_EQ(cls->n_ranked(), 1u);
  EXPECT_EQ(cls->RankedMask(0), m2);

  // Destruction frees remaining megaflows directly; deferred frees queued before stay valid.
  cls->Remove(b);
  cls.reset();
  rec.RunAll();
  EXPECT_EQ(rec.pending(), 0u);
}

TEST(DpclsTest, SubtableCap) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowKey key;
  key.Clear();
  key.metadata = ~uint64_t{0};
  std::vector<Megaflow*> flows;
  for (uint64_t i = 0; i < kDpclsMaxSubtables; ++i) {
    FlowMask m;
    m.Clear();
    m.bits.metadata = i + 1;  // distinct masks
    flows.push_back(cls.Insert(MakeFlow(key, m, i)));
    ASSERT_NE(flows.back(), nullptr) << i;
  }
  EXPECT_EQ(cls.n_subtables(), kDpclsMaxSubtables);
  FlowMask extra;
  extra.Clear();
  extra.bits.metadata = kDpclsMaxSubtables + 1;
  EXPECT_EQ(cls.Insert(MakeFlow(key, extra, 9999)), nullptr);
  EXPECT_EQ(cls.n_subtables(), kDpclsMaxSubtables);
  // A new flow in an existing subtable is still fine.
  FlowKey other = key;
  other.metadata = 0;
  FlowMask m1;
  m1.Clear();
  m1.bits.metadata = 1;
  EXPECT_NE(cls.Insert(MakeFlow(other, m1, 5000)), nullptr);

  cls.Sync();
  EXPECT_EQ(cls.n_ranked(), kDpclsMaxSubtables);
  EXPECT_NE(cls.Lookup(key), nullptr);

  cls.Remove(flows[7]);
  EXPECT_EQ(cls.n_subtables(), kDpclsMaxSubtables - 1);
  EXPECT_NE(cls.Insert(MakeFlow(key, extra, 9999)), nullptr);
  EXPECT_EQ(cls.n_subtables(), kDpclsMaxSubtables);
  cls.Sync();
  EXPECT_EQ(cls.n_ranked(), kDpclsMaxSubtables);
}

TEST(DpclsTest, RerankMovesHottestFirst) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowMask ma, mb, mc, md;
  for (FlowMask* m : {&ma, &mb, &mc, &md}) {
    m->Clear();
    m->bits.in_port = ~0u;
  }
  mb.bits.nw_proto = 0xff;
  mc.bits.tp_dst = 0xffff;
  md.bits.eth_type = 0xffff;
  FlowKey ka, kb, kc, kd;
  for (FlowKey* k : {&ka, &kb, &kc, &kd}) k->Clear();
  ka.in_port = 1;
  kb.in_port = 2;
  kc.in_port = 3;
  kd.in_port = 4;
  ASSERT_NE(cls.Insert(MakeFlow(ka, ma, 1)), nullptr);
  ASSERT_NE(cls.Insert(MakeFlow(kb, mb, 2)), nullptr);
  ASSERT_NE(cls.Insert(MakeFlow(kc, mc, 3)), nullptr);

  cls.Sync();
  ASSERT_EQ(cls.n_ranked(), 3u);
  EXPECT_EQ(cls.RankedMask(0), ma);  // insertion order before any ranking

  for (int i = 0; i < 100; ++i) ASSERT_NE(cls.Lookup(kc), nullptr);
  const FlowKey* keys[kDpclsMaxBatch];
  Megaflow* out[kDpclsMaxBatch];
  for (int i = 0; i < 10; ++i) keys[i] = &kb;
  cls.LookupBatch(keys, 10, out);
  ASSERT_NE(cls.Lookup(ka), nullptr);
  EXPECT_EQ(cls.RankedHits(2), 100u);

  cls.Rerank();
  EXPECT_EQ(cls.RankedMask(0), mc);
  EXPECT_EQ(cls.RankedMask(1), mb);
  EXPECT_EQ(cls.RankedMask(2), ma);
  EXPECT_EQ(cls.RankedHits(0), 0u);  // counting restarts

  // A new subtable joins at the end; the others keep their rank.
  ASSERT_NE(cls.Insert(MakeFlow(kd, md, 4)), nullptr);
  EXPECT_NE(cls.Lookup(kd), nullptr);
  ASSERT_EQ(cls.n_ranked(), 4u);
  EXPECT_EQ(cls.RankedMask(0), mc);
  EXPECT_EQ(cls.RankedMask(3), md);

  for (int i = 0; i < 50; ++i) ASSERT_NE(cls.Lookup(kd), nullptr);
  cls.Rerank();
  EXPECT_EQ(cls.RankedMask(0), md);
}

// Toy QSBR for the concurrency test: a deferred free becomes runnable once the reader has
// reported a quiescent state after the free was queued.
class ToyQsbrReclaimer : public Reclaimer {
 public:
  void Defer(std::function<void()> fn) override {
    const uint64_t target = epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;
    pending_.emplace_back(target, std::move(fn));
  }
  void Quiescent() {
    seen_.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
  }
  void Poll() {
    const uint64_t seen = seen_.load(std::memory_order_acquire);
    while (!pending_.empty() && pending_.front().first <= seen) {
      pending_.front().second();
      pending_.pop_front();
    }
  }
  void Drain() {
    for (auto& p : pending_) p.second();
    pending_.clear();
  }

 private:
  std::atomic<uint64_t> epoch_{0};
  std::atomic<uint64_t> seen_{0};
  std::deque<std::pair<uint64_t, std::function<void()>>> pending_;
};

TEST(DpclsTest, ConcurrentReaderSeesStableFlows) {
  ToyQsbrReclaimer rec;
  auto cls = std::make_unique<Dpcls>(&rec);
  FlowMask stable_mask;
  stable_mask.Clear();
  stable_mask.bits.in_port = ~0u;
  stable_mask.bits.nw_dst = ~0u;
  std::vector<FlowKey> stable_keys;
  std::vector<Megaflow*> stable;
  for (uint8_t i = 0; i < 64; ++i) {
    FlowKey k;
    k.Clear();
    k.in_port = 1;
    k.nw_dst = Ip(10, 0, 0, i);
    stable_keys.push_back(k);
    stable.push_back(cls->Insert(MakeFlow(k, stable_mask, i)));
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bad_stable{0}, bad_match{0}, loops{0};
  std::thread reader([&] {
    std::mt19937 rng(1);
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      for (size_t i = 0; i < stable_keys.size(); ++i) {
        if (cls->Lookup(stable_keys[i]) != stable[i]) bad_stable.fetch_add(1);
      }
      FlowKey k;
      k.Clear();
      k.in_port = 1 + rng() % 2;
      k.nw_src = Ip(10, 9, static_cast<uint8_t>(rng() % 4), static_cast<uint8_t>(rng()));
      k.nw_dst = Ip(10, 1, static_cast<uint8_t>(rng() % 4), static_cast<uint8_t>(rng()));
      const FlowKey* keys[2] = {&k, &stable_keys[n % 64]};
      Megaflow* out[2];
      cls->LookupBatch(keys, 2, out);
      if (out[0] && !Matches(*out[0], k)) bad_match.fetch_add(1);
      if (out[1] != stable[n % 64]) bad_stable.fetch_add(1);
      if (++n % 256 == 0) cls->Rerank();
      rec.Quiescent();
      loops.fetch_add(1, std::memory_order_relaxed);
    }
  });

  // Churn: same-mask neighbours of the stable flows (bucket arrays grow and shrink under them)
  // and flows in other masks (subtables come and go).
  std::mt19937 rng(2);
  std::vector<Megaflow*> churn;
  uint64_t id = 1000;
  // Keep churning until the reader has run a good number of iterations (bounded in time).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int round = 0;
       round < 20000 || (loops.load() < 5000 && std::chrono::steady_clock::now() < deadline);
       ++round) {
    if (churn.size() < 600 && rng() % 2) {
      FlowKey k;
      k.Clear();
      FlowMask m;
      m.Clear();
      m.bits.in_port = ~0u;
      if (rng() % 2) {
        k.in_port = 1;
        k.nw_dst = Ip(10, 1, static_cast<uint8_t>(rng() % 4), static_cast<uint8_t>(rng()));
        m = stable_mask;
      } else {
        k.in_port = 2;
        k.nw_src = Ip(10, 9, static_cast<uint8_t>(rng() % 4), static_cast<uint8_t>(rng()));
        m.bits.nw_src = Prefix(16 + static_cast<int>(rng() % 17));
      }
      ApplyMask(k, m, &k);
      bool overlap = false;
      for (Megaflow* f : churn) overlap = overlap || Overlap(*f, k, m);
      if (!overlap) churn.push_back(cls->Insert(MakeFlow(k, m, id++)));
    } else if (!churn.empty()) {
      const size_t i = rng() % churn.size();
      cls->Remove(churn[i]);
      churn[i] = churn.back();
      churn.pop_back();
    }
    rec.Poll();
  }
  // Let the reader run at least a little while the final state is in place.
  const uint64_t target = loops.load() + 100;
  while (loops.load() < target) std::this_thread::yield();
  stop.store(true);
  reader.join();
  EXPECT_GE(loops.load(), 100u);
  EXPECT_EQ(bad_stable.load(), 0u);
  EXPECT_EQ(bad_match.load(), 0u);
  cls.reset();
  rec.Drain();
}

}  // namespace
}  // namespace sluice::dp

namespace sluice::dp {
namespace {

FlowMask InPortOnlyMask() {
  FlowMask m;
  m.Clear();
  m.bits.in_port = ~0u;
  m.bits.recirc_id = ~0u;
  return m;
}

TEST(DpclsSimpleMatchTest, InPortOnlyMegaflowIsSimple) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowKey k;
  k.Clear();
  k.in_port = 7;
  k.nw_dst = Ip(10, 0, 0, 1);  // masked away
  Megaflow* f = cls.Insert(MakeFlow(k, InPortOnlyMask(), 2));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(cls.Simple(7), f);
  EXPECT_EQ(cls.Simple(8), nullptr);
  EXPECT_EQ(cls.Simple(kDpclsSimplePorts + 5), nullptr);
  // It is a normal megaflow too.
  EXPECT_EQ(cls.Lookup(k), f);
  EXPECT_EQ(f->Actions().size(), sizeof(ActionHeader) + sizeof(ActOutput));
  EXPECT_EQ(f->actions.load()->lone_output, 2u);
  cls.Remove(f);
  EXPECT_EQ(cls.Simple(7), nullptr);
  rec.RunAll();
}

TEST(DpclsSimpleMatchTest, OtherMasksAndRecirculationAreNotSimple) {
  TestReclaimer rec;
  Dpcls cls(&rec);
  FlowKey k;
  k.Clear();
  k.in_port = 3;
  FlowMask m = InPortOnlyMask();
  m.bits.eth_type = 0xffff;  // one more field: a classifier lookup is needed
  ASSERT_NE(cls.Insert(MakeFlow(k, m, 1)), nullptr);
  EXPECT_EQ(cls.Simple(3), nullptr);
  FlowKey r = k;
  r.in_port = 4;
  r.recirc_id = 9;  // recirculated packets never take the simple path
  ASSERT_NE(cls.Insert(MakeFlow(r, InPortOnlyMask(), 1)), nullptr);
  EXPECT_EQ(cls.Simple(4), nullptr);
  FlowMask partial = InPortOnlyMask();
  partial.bits.in_port = 0xff;  // a partial in_port mask is not an in_port match
  FlowKey p = k;
  p.in_port = 5;
  ASSERT_NE(cls.Insert(MakeFlow(p, partial, 1)), nullptr);
  EXPECT_EQ(cls.Simple(5), nullptr);
}

TEST(DpclsSimpleMatchTest, LoneOutputOnlyForASingleOutput) {
  ActionBuilder two;
  two.Output(1);
  two.Output(2);
  EXPECT_EQ(MegaflowActions::From(two)->lone_output, MegaflowActions::kNoPort);
  ActionBuilder none;
  EXPECT_EQ(MegaflowActions::From(none)->lone_output, MegaflowActions::kNoPort);
  ActionBuilder pop;
  pop.PopVlan();
  pop.Output(4);
  EXPECT_EQ(MegaflowActions::From(pop)->lone_output, MegaflowActions::kNoPort);
  ActionBuilder one;
  one.Output(4);
  EXPECT_EQ(MegaflowActions::From(one)->lone_output, 4u);
}

// Masks of 1 to 12 non-zero words (the lookup has unrolled variants for 1..6 words and a generic
// one), each subtable alone in its classifier: batch lookups equal a brute-force scan, and
// WordsUsed() names exactly the mask's words.
TEST(DpclsTest, EveryMaskWidthAgainstBruteForce) {
  std::mt19937_64 rng(99);
  for (uint32_t width = 1; width <= 12; ++width) {
    TestReclaimer rec;
    Dpcls cls(&rec);
    FlowMask mask;
    mask.Clear();
    uint32_t bits = 0;
    while (static_cast<uint32_t>(__builtin_popcount(bits)) < width) {
      bits |= 1u << (rng() % FlowKey::kWords);
    }
    for (size_t w = 0; w < FlowKey::kWords; ++w) {
      // Partial masks too: only the low 4 bits of each masked word vary below.
      if (bits & (1u << w)) mask.bits.words()[w] = 0x0f0f0f0f0f0f0f0full;
    }
    auto random_key = [&] {
      FlowKey k;
      for (size_t w = 0; w < FlowKey::kWords; ++w) k.words()[w] = rng() & 0x0303030303030303ull;
      return k;
    };
    std::vector<Megaflow*> ref;
    for (int i = 0; i < 200; ++i) {
      FlowKey k = random_key();
      ApplyMask(k, mask, &k);
      bool dup = false;
      for (Megaflow* f : ref) dup |= f->key == k;
      if (dup) continue;
      Megaflow* f = cls.Insert(MakeFlow(k, mask, i));
      ASSERT_NE(f, nullptr);
      ref.push_back(f);
    }
    cls.Sync();
    EXPECT_EQ(cls.WordsUsed(), bits) << "width " << width;
    for (int round = 0; round < 200; ++round) {
      FlowKey batch[kDpclsMaxBatch];
      const FlowKey* keys[kDpclsMaxBatch];
      Megaflow* out[kDpclsMaxBatch];
      for (size_t j = 0; j < kDpclsMaxBatch; ++j) {
        // Half the keys are a stored megaflow's key with random bits outside the mask.
        batch[j] = random_key();
        if (j % 2 == 0) {
          const FlowKey& fk = ref[rng() % ref.size()]->key;
          for (size_t w = 0; w < FlowKey::kWords; ++w) {
            const uint64_t m = mask.bits.words()[w];
            batch[j].words()[w] = (batch[j].words()[w] & ~m) | fk.words()[w];
          }
        }
        keys[j] = &batch[j];
      }
      cls.LookupBatch(keys, kDpclsMaxBatch, out, /*sync=*/false);
      for (size_t j = 0; j < kDpclsMaxBatch; ++j) {
        ASSERT_EQ(out[j], BruteForce(ref, batch[j])) << "width " << width << " key " << j;
        if (j % 2 == 0) {
          ASSERT_NE(out[j], nullptr);
        }
      }
    }
  }
}

// SetActions keeps the cached lone output in step with the actions and hands back the old ones.
TEST(DpclsSimpleMatchTest, SetActionsCachesTheLoneOutput) {
  Megaflow f;
  EXPECT_EQ(f.lone_output.load(), MegaflowActions::kNoPort);
  ActionBuilder one;
  one.Output(6);
  EXPECT_EQ(f.SetActions(MegaflowActions::From(one)), nullptr);
  EXPECT_EQ(f.lone_output.load(), 6u);
  ActionBuilder two;
  two.Output(1);
  two.Output(2);
  const MegaflowActions* old = f.SetActions(MegaflowActions::From(two));
  ASSERT_NE(old, nullptr);
  EXPECT_EQ(old->lone_output, 6u);
  delete old;
  EXPECT_EQ(f.lone_output.load(), MegaflowActions::kNoPort);
  delete f.SetActions(nullptr);
  EXPECT_EQ(f.Actions().size(), 0u);
}

}  // namespace
}  // namespace sluice::dp
