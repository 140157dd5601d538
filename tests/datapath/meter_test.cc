#include "datapath/actions/meter.h"

#include <atomic>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "common/eal_env.h"
#include "datapath/actions/execute.h"
#include "datapath/cache/dpcls.h"
#include "datapath/flow/odp_text.h"

namespace sluice::dp {
namespace {

using Bytes = std::vector<uint8_t>;

// Time is given in nanoseconds: a table of 1e9 ticks per second.
constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kMs = 1'000'000;

MeterBandConfig Drop(uint32_t rate, uint32_t burst = 0) {
  return {MeterBandKind::kDrop, 0, rate, burst};
}
MeterBandConfig Remark(uint32_t rate, uint8_t prec, uint32_t burst = 0) {
  return {MeterBandKind::kDscpRemark, prec, rate, burst};
}

// Passes (not -1: a band applied, or no meter) counted over `n` packets at `now(i)`.
int CountPassed(MeterTable& t, uint32_t id, int n, uint32_t bytes,
                const std::function<uint64_t(int)>& now) {
  int passed = 0;
  for (int i = 0; i < n; ++i) passed += t.Meter(id, now(i), bytes) == -1;
  return passed;
}

TEST(DpMeter, PktpsBurstIsOneSecondOfTheRateThenTheRate) {
  MeterTable t(nullptr, kSec);
  ASSERT_TRUE(t.Set(1, {true, {Drop(100)}}));
  // Back to back at time 0: the full bucket (burst 0 = 100 packets) and nothing more.
  EXPECT_EQ(CountPassed(t, 1, 1000, 64, [](int) { return uint64_t{0}; }), 100);
  // 1000 packets evenly over the next second (one per ms, 0.1 packet of tokens each): 100.
  EXPECT_EQ(CountPassed(t, 1, 1000, 64, [](int i) { return (i + 1) * kMs; }), 100);
  auto s = t.Stats(1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->in, (MeterCount{2000, 2000 * 64}));
  ASSERT_EQ(s->bands.size(), 1u);
  EXPECT_EQ(s->bands[0], (MeterCount{1800, 1800 * 64}));
}

TEST(DpMeter, KbpsCountsFrameBits) {
  MeterTable t(nullptr, kSec);
  // 1000 kbit/s, burst 100 kbit; 1000-byte packets cost 8 kbit.
  ASSERT_TRUE(t.Set(7, {false, {Drop(1000, 100)}}));
  EXPECT_EQ(CountPassed(t, 7, 100, 1000, [](int) { return uint64_t{0}; }), 12);  // 96 kbit
  // One packet per ms for a second: 1 kbit refilled per ms, so one packet in eight (125), plus
  // the 4 kbit left from the burst.
  int passed = CountPassed(t, 7, 1000, 1000, [](int i) { return (i + 1) * kMs; });
  EXPECT_GE(passed, 125);
  EXPECT_LE(passed, 126);
}

TEST(DpMeter, ExplicitBurstAndRefillCap) {
  MeterTable t(nullptr, kSec);
  ASSERT_TRUE(t.Set(3, {true, {Drop(10, 5)}}));
  EXPECT_EQ(CountPassed(t, 3, 20, 64, [](int) { return uint64_t{0}; }), 5);
  // A long idle time refills up to the burst only.
  EXPECT_EQ(CountPassed(t, 3, 20, 64, [](int) { return 100 * kSec; }), 5);
  // 100 ms at 10 packets/s: one packet.
  EXPECT_EQ(CountPassed(t, 3, 5, 64, [](int) { return 100 * kSec + 100 * kMs; }), 1);
}

TEST(DpMeter, TimeGoingBackwardsAddsNoTokens) {
  MeterTable t(nullptr, kSec);
  ASSERT_TRUE(t.Set(1, {true, {Drop(10, 1)}}));
  EXPECT_EQ(t.Meter(1, 5 * kSec, 64), -1);
  EXPECT_EQ(t.Meter(1, 5 * kSec, 64), 0);
  EXPECT_EQ(t.Meter(1, 1 * kSec, 64), 0);  // earlier: no time passed
  EXPECT_EQ(t.Meter(1, 5 * kSec + 100 * kMs, 64), -1);
}

TEST(DpMeter, PacketsLargerThanTheBurstPassAtTheRate) {
  MeterTable t(nullptr, kSec);
  // 1000 kbit/s with a 1 kbit burst; 1500-byte packets cost 12 kbit: the bucket pays when full
  // and goes into debt, so one packet per 12 ms passes, the long-run rate.
  ASSERT_TRUE(t.Set(1, {false, {Drop(1000, 1)}}));
  int passed = CountPassed(t, 1, 1200, 1500, [](int i) { return i * kMs; });
  EXPECT_GE(passed, 99);
  EXPECT_LE(passed, 101);
}

TEST(DpMeter, TheHighestExceededBandApplies) {
  MeterTable t(nullptr, kSec);
  // Band 0: drop above 5/s (burst 3); band 1: remark above 1/s (burst 1).
  ASSERT_TRUE(t.Set(1, {true, {Drop(5, 3), Remark(1, 1, 1)}}));
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) got.push_back(t.Meter(1, 0, 100));
  // Second and third exceed only the remark band; the fourth exceeds both, and the drop band
  // has the higher rate.
  EXPECT_EQ(got, (std::vector<int>{-1, 1, 1, 0}));
  auto s = t.Stats(1);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->in, (MeterCount{4, 400}));
  EXPECT_EQ(s->bands, (std::vector<MeterCount>{{1, 100}, {2, 200}}));
}

TEST(DpMeter, SetKeepsInCountsDelForgets) {
  MeterTable t(nullptr, kSec);
  ASSERT_TRUE(t.Set(9, {true, {Drop(1, 1)}}));
  for (int i = 0; i < 3; ++i) t.Meter(9, 0, 10);
  EXPECT_EQ(t.size(), 1u);
  ASSERT_TRUE(t.Set(9, {true, {Drop(1, 1), Remark(2, 1)}}));
  EXPECT_EQ(t.size(), 1u);
  auto s = t.Stats(9);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->in, (MeterCount{3, 30}));
  EXPECT_EQ(s->bands, std::vector<MeterCount>(2));  // new bands, full buckets
  EXPECT_EQ(t.Meter(9, 0, 10), -1);
  ASSERT_TRUE(t.Del(9));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Stats(9).error().code, Errc::kNotFound);
  EXPECT_EQ(t.Del(9).error().code, Errc::kNotFound);
  EXPECT_EQ(t.Meter(9, 0, 10), -2);
  // A new meter under the same id counts from zero.
  ASSERT_TRUE(t.Set(9, {true, {Drop(1)}}));
  EXPECT_EQ(t.Stats(9)->in, MeterCount{});
}

TEST(DpMeter, BadConfigs) {
  MeterTable t(nullptr, kSec);
  EXPECT_EQ(t.Set(kMaxMeters, {true, {Drop(1)}}).error().code, Errc::kInvalid);
  EXPECT_EQ(t.Set(1, {true, {}}).error().code, Errc::kInvalid);
  EXPECT_EQ(
      t.Set(1, {true, std::vector<MeterBandConfig>(kMaxMeterBands + 1, Drop(1))}).error().code,
      Errc::kInvalid);
  EXPECT_EQ(t.Set(1, {true, {Drop(0)}}).error().code, Errc::kInvalid);
  MeterBandConfig odd = Drop(1);
  odd.kind = static_cast<MeterBandKind>(0xff);
  EXPECT_EQ(t.Set(1, {true, {odd}}).error().code, Errc::kUnsupported);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Meter(kMaxMeters + 5, 0, 1), -2);
}

TEST(DpMeter, TicksAreConvertedToNanoseconds) {
  MeterTable t(nullptr, 2'500'000'000);  // a 2.5 GHz TSC
  ASSERT_TRUE(t.Set(1, {true, {Drop(1000, 1)}}));
  // One packet per 250'000 ticks (100 us) for a second: 10000 offered, 1000 pass.
  int passed = CountPassed(t, 1, 10000, 64, [](int i) { return uint64_t(i) * 250'000; });
  EXPECT_GE(passed, 999);
  EXPECT_LE(passed, 1001);
}

// Several threads metering at once never let more through than the bucket holds.
TEST(DpMeter, ConcurrentMeteringIsExact) {
  MeterTable t(nullptr, kSec);
  ASSERT_TRUE(t.Set(2, {true, {Drop(1, 5000)}}));
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      int p = 0;
      for (int i = 0; i < 20000; ++i) p += t.Meter(2, 0, 100) == -1;
      passed += p;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(passed.load(), 5000);
  auto s = t.Stats(2);
  EXPECT_EQ(s->in, (MeterCount{80000, 8'000'000}));
  EXPECT_EQ(s->bands[0].packets, 75000u);
}

// Replaced and deleted configurations go through the reclaimer, not straight to free().
struct HoldingReclaimer : Reclaimer {
  std::vector<std::function<void()>> fns;
  void Defer(std::function<void()> f) override { fns.push_back(std::move(f)); }
  ~HoldingReclaimer() override {
    for (auto& f : fns) f();
  }
};

TEST(DpMeter, OldConfigurationsAreReclaimedLater) {
  HoldingReclaimer r;
  MeterTable t(&r, kSec);
  ASSERT_TRUE(t.Set(1, {true, {Drop(1)}}));
  EXPECT_TRUE(r.fns.empty());
  ASSERT_TRUE(t.Set(1, {true, {Drop(2)}}));
  EXPECT_EQ(r.fns.size(), 1u);
  ASSERT_TRUE(t.Del(1));
  EXPECT_EQ(r.fns.size(), 2u);
}

// ---- packets: DSCP remarking, and the meter action in ExecuteActions ----

Bytes Ipv4Udp(uint8_t tos) {
  Bytes b(14 + 20 + 8 + 4, 0);
  b[12] = 0x08;
  b[13] = 0x00;
  uint8_t* ip = b.data() + 14;
  ip[0] = 0x45;
  ip[1] = tos;
  ip[3] = 32;  // total length
  ip[8] = 64;
  ip[9] = 17;
  std::memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
  ip[20 + 5] = 12;  // UDP length
  return b;
}

Bytes Ipv6Udp(uint8_t tclass, uint32_t label) {
  Bytes b(14 + 40 + 8, 0);
  b[12] = 0x86;
  b[13] = 0xdd;
  uint8_t* ip = b.data() + 14;
  uint32_t w = 6u << 28 | uint32_t{tclass} << 20 | (label & 0xfffff);
  for (int i = 0; i < 4; ++i) ip[i] = static_cast<uint8_t>(w >> (24 - 8 * i));
  ip[5] = 8;
  ip[6] = 17;
  ip[7] = 64;
  ip[23] = 1;
  ip[39] = 2;
  ip[40 + 5] = 8;
  return b;
}

// The IPv4 header checksum computed from scratch.
uint16_t Ipv4Csum(Bytes b) {
  uint8_t* ip = b.data() + 14;
  ip[10] = ip[11] = 0;
  uint32_t s = 0;
  for (int i = 0; i < 20; i += 2) s += static_cast<uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s);
}
void FixIpv4Csum(Bytes& b) {
  uint16_t c = Ipv4Csum(b);
  b[14 + 10] = static_cast<uint8_t>(c >> 8);
  b[14 + 11] = static_cast<uint8_t>(c);
}

rte_mbuf* ToMbuf(const Bytes& b) {
  rte_mbuf* m = rte_pktmbuf_alloc(test::Eal());
  EXPECT_NE(m, nullptr);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(b.size())), b.data(), b.size());
  return m;
}
Bytes FromMbuf(rte_mbuf* m) {
  auto* d = rte_pktmbuf_mtod(m, const uint8_t*);
  return Bytes(d, d + rte_pktmbuf_data_len(m));
}

TEST(DpMeterDscp, RemarkValues) {
  EXPECT_EQ(RemarkDscpValue(10, 1), 12);  // AF11 -> AF12
  EXPECT_EQ(RemarkDscpValue(10, 2), 14);  // AF11 -> AF13
  EXPECT_EQ(RemarkDscpValue(10, 5), 14);  // capped at drop precedence 3
  EXPECT_EQ(RemarkDscpValue(34, 1), 36);  // AF41 -> AF42
  EXPECT_EQ(RemarkDscpValue(46, 1), 46);  // EF: no drop precedence
  EXPECT_EQ(RemarkDscpValue(0, 2), 0);    // best effort
  EXPECT_EQ(RemarkDscpValue(10, 0), 10);
}

TEST(DpMeterDscp, Ipv4RemarkKeepsEcnAndFixesTheChecksum) {
  for (uint8_t tos : {uint8_t(10 << 2 | 1), uint8_t(18 << 2 | 3), uint8_t(46 << 2), uint8_t(0)}) {
    Bytes in = Ipv4Udp(tos);
    in[14 + 4] = 0xbe;  // an id, so the checksum is not trivially small
    FixIpv4Csum(in);
    rte_mbuf* m = ToMbuf(in);
    RemarkDscp(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_data_len(m), 1);
    Bytes out = FromMbuf(m);
    rte_pktmbuf_free(m);
    const uint8_t want = static_cast<uint8_t>(RemarkDscpValue(tos >> 2, 1) << 2 | (tos & 3));
    EXPECT_EQ(out[14 + 1], want) << int(tos);
    EXPECT_EQ(static_cast<uint16_t>(out[14 + 10] << 8 | out[14 + 11]), Ipv4Csum(out)) << int(tos);
    out[14 + 1] = in[14 + 1];
    out[14 + 10] = in[14 + 10];
    out[14 + 11] = in[14 + 11];
    EXPECT_EQ(out, in) << "nothing else changes";
  }
}

TEST(DpMeterDscp, Ipv6RemarkKeepsEcnAndFlowLabel) {
  Bytes in = Ipv6Udp(18 << 2 | 2, 0xabcde);  // AF21, ECN 2
  rte_mbuf* m = ToMbuf(in);
  RemarkDscp(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_data_len(m), 1);
  Bytes out = FromMbuf(m);
  rte_pktmbuf_free(m);
  Bytes want = Ipv6Udp(20 << 2 | 2, 0xabcde);  // AF22
  EXPECT_EQ(out, want);
}

TEST(DpMeterDscp, NonIpIsUntouched) {
  Bytes in(60, 0x11);
  in[12] = 0x08;
  in[13] = 0x06;  // ARP
  rte_mbuf* m = ToMbuf(in);
  RemarkDscp(rte_pktmbuf_mtod(m, uint8_t*), rte_pktmbuf_data_len(m), 2);
  EXPECT_EQ(FromMbuf(m), in);
  rte_pktmbuf_free(m);
}

// A sink that meters through a table with a fake clock, as the PMD does with the TSC.
struct MeterSink {
  explicit MeterSink(MeterTable* t) : meters(t) {}
  MeterTable* meters;
  uint64_t now = 0;
  std::vector<Bytes> out;
  int drops = 0;
  void Output(uint32_t, rte_mbuf* m) {
    out.push_back(FromMbuf(m));
    rte_pktmbuf_free(m);
  }
  void Userspace(const ActUserspace&, rte_mbuf* m) { rte_pktmbuf_free(m); }
  void Recirc(uint32_t, rte_mbuf* m) { rte_pktmbuf_free(m); }
  rte_mempool* ClonePool() { return test::Eal(); }
  void CountDrop() { ++drops; }
  bool Meter(uint32_t id, rte_mbuf* m) { return MeterMbuf(*meters, id, now, m); }
};

struct PlainSink {  // no Meter(): cannot meter
  int drops = 0;
  int outputs = 0;
  void Output(uint32_t, rte_mbuf* m) {
    ++outputs;
    rte_pktmbuf_free(m);
  }
  void Userspace(const ActUserspace&, rte_mbuf* m) { rte_pktmbuf_free(m); }
  void Recirc(uint32_t, rte_mbuf* m) { rte_pktmbuf_free(m); }
  rte_mempool* ClonePool() { return test::Eal(); }
  void CountDrop() { ++drops; }
};

class DpMeterExecute : public ::testing::Test {
 protected:
  void SetUp() override { avail_ = rte_mempool_avail_count(test::Eal()); }
  void TearDown() override { EXPECT_EQ(rte_mempool_avail_count(test::Eal()), avail_); }
  unsigned avail_ = 0;
};

TEST_F(DpMeterExecute, DropBandDropsRemarkBandRewrites) {
  MeterTable t(nullptr, kSec);
  ASSERT_TRUE(t.Set(4, {true, {Drop(3, 3), Remark(1, 1, 1)}}));
  ActionBuilder a;
  a.Output(2);  // before the meter: unmetered copy
  a.Meter(4);
  a.Output(1);
  MeterSink sink(&t);
  Bytes pkt = Ipv4Udp(10 << 2);
  FixIpv4Csum(pkt);
  for (int i = 0; i < 5; ++i) ExecuteActions(a.view(), ToMbuf(pkt), sink);
  EXPECT_EQ(sink.drops, 0);  // a meter drop is the meter's, not a lost packet
  // 5 copies to port 2 and, through the meter: pass, remark, remark, drop, drop.
  ASSERT_EQ(sink.out.size(), 5u + 3u);
  int remarked = 0;
  for (const Bytes& b : sink.out) {
    if (b[14 + 1] == (12 << 2)) {
      ++remarked;
      EXPECT_EQ(static_cast<uint16_t>(b[14 + 10] << 8 | b[14 + 11]), Ipv4Csum(b));
    }
  }
  EXPECT_EQ(remarked, 2);
  EXPECT_EQ(t.Stats(4)->bands, (std::vector<MeterCount>{{2, 2 * 46}, {2, 2 * 46}}));
}

TEST_F(DpMeterExecute, UnknownMeterDropsSinkWithoutMetersCountsALoss) {
  MeterTable t(nullptr, kSec);
  ActionBuilder a;
  a.Meter(77);
  a.Output(1);
  MeterSink sink(&t);
  ExecuteActions(a.view(), ToMbuf(Ipv4Udp(0)), sink);
  EXPECT_TRUE(sink.out.empty());
  PlainSink plain;
  ExecuteActions(a.view(), ToMbuf(Ipv4Udp(0)), plain);
  EXPECT_EQ(plain.outputs, 0);
  EXPECT_EQ(plain.drops, 1);
  // A truncated meter action is malformed.
  ActionHeader h{static_cast<uint16_t>(ActionType::kMeter), sizeof(ActionHeader), 0};
  MeterSink sink2(&t);
  ExecuteActions(ActionView(reinterpret_cast<const uint8_t*>(&h), sizeof(h)), ToMbuf(Ipv4Udp(0)),
                 sink2);
  EXPECT_EQ(sink2.drops, 1);
}

TEST(DpMeterText, OdpMeterActionRoundTrips) {
  auto a = ParseOdpActions("meter(5),pop_vlan,3");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(FormatOdpActions(a->view()), "meter(5),pop_vlan,3");
  ActionBuilder b;
  b.Meter(4294967295u);
  EXPECT_EQ(FormatOdpActions(b.view()), "meter(4294967295)");
  EXPECT_FALSE(ParseOdpActions("meter(x)"));
  EXPECT_FALSE(ParseOdpActions("meter(1"));
  EXPECT_FALSE(ParseOdpActions("meter"));
}

}  // namespace
}  // namespace sluice::dp
