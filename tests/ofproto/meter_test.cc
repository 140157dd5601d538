#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "ofproto/meter/meter_table.h"

namespace sluice::ofp {
namespace {

constexpr uint64_t kSec = 1'000'000'000;

MeterBand Drop(uint32_t rate, uint32_t burst = 0) {
  return MeterBand{MeterBandType::kDrop, rate, burst, 0, 0};
}
MeterBand Remark(uint32_t rate, uint8_t prec, uint32_t burst = 0) {
  return MeterBand{MeterBandType::kDscpRemark, rate, burst, prec, 0};
}

MeterMod Add(uint32_t id, uint16_t flags, std::vector<MeterBand> bands) {
  return MeterMod{MeterModCommand::kAdd, flags, id, std::move(bands)};
}
MeterMod Modify(uint32_t id, uint16_t flags, std::vector<MeterBand> bands) {
  return MeterMod{MeterModCommand::kModify, flags, id, std::move(bands)};
}
MeterMod Delete(uint32_t id) { return MeterMod{MeterModCommand::kDelete, 0, id, {}}; }

OfpErr ErrOf(const OfpResult<MeterModOutcome>& r) {
  EXPECT_FALSE(r.has_value());
  return r.has_value() ? OfpErr::kMeterModUnknown : r.error().err;
}
void ExpectOk(const OfpResult<MeterModOutcome>& r) {
  EXPECT_TRUE(r.has_value()) << OfpErrName(r.error().err) << " " << r.error().detail;
}
std::vector<uint32_t> Deleted(const OfpResult<MeterModOutcome>& r) {
  EXPECT_TRUE(r.has_value());
  return r ? r->deleted : std::vector<uint32_t>{};
}

// Sends `pps` packets per second of `bytes` each, evenly spaced, from `start` for `seconds`;
// returns the verdict counts {pass, drop, remark} per second.
struct Tally {
  int pass = 0, drop = 0, remark = 0;
};
std::vector<Tally> Stream(Meter& m, uint64_t start, int seconds, int pps, uint32_t bytes) {
  std::vector<Tally> out(seconds);
  const uint64_t gap = kSec / pps;
  for (int s = 0; s < seconds; ++s) {
    for (int i = 0; i < pps; ++i) {
      MeterResult r = m.Apply(start + (uint64_t(s) * pps + i) * gap, bytes);
      switch (r.verdict) {
        case MeterVerdict::kPass:
          ++out[s].pass;
          break;
        case MeterVerdict::kDrop:
          ++out[s].drop;
          break;
        case MeterVerdict::kRemark:
          ++out[s].remark;
          break;
      }
    }
  }
  return out;
}

TEST(MeterTable, AddModifyDelete) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps, {Drop(100)})));
  EXPECT_TRUE(t.Contains(1));
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterPktps, {Drop(100)}))), OfpErr::kMeterModMeterExists);
  EXPECT_EQ(ErrOf(t.Apply(Modify(2, kMeterPktps, {Drop(100)}))), OfpErr::kMeterModUnknownMeter);
  ExpectOk(t.Apply(Modify(1, kMeterKbps, {Remark(500, 1)})));
  EXPECT_EQ(t.Find(1)->flags(), kMeterKbps);
  EXPECT_EQ(t.Find(1)->bands(), std::vector<MeterBand>{Remark(500, 1)});
  // Deleting a meter that does not exist does nothing and is not an error.
  EXPECT_EQ(Deleted(t.Apply(Delete(5))), std::vector<uint32_t>{});
  EXPECT_EQ(Deleted(t.Apply(Delete(1))), std::vector<uint32_t>{1});
  EXPECT_FALSE(t.Contains(1));
  EXPECT_EQ(t.Apply(1, 0, 64), std::nullopt);
}

TEST(MeterTable, DeleteAll) {
  MeterTable t;
  ExpectOk(t.Apply(Add(3, kMeterPktps, {Drop(1)})));
  ExpectOk(t.Apply(Add(1, kMeterKbps, {Drop(1)})));
  ExpectOk(t.Apply(Add(kMeterMax, kMeterKbps, {})));
  EXPECT_EQ(Deleted(t.Apply(Delete(kMeterAll))), (std::vector<uint32_t>{1, 3, kMeterMax}));
  EXPECT_EQ(t.size(), 0u);
}

TEST(MeterTable, InvalidIds) {
  MeterTable t;
  for (uint32_t id : {0u, kMeterMax + 1, kMeterSlowpath, kMeterController, kMeterAll}) {
    EXPECT_EQ(ErrOf(t.Apply(Add(id, kMeterPktps, {Drop(10)}))), OfpErr::kMeterModInvalidMeter)
        << id;
    EXPECT_EQ(ErrOf(t.Apply(Modify(id, kMeterPktps, {Drop(10)}))), OfpErr::kMeterModInvalidMeter)
        << id;
  }
  for (uint32_t id : {0u, kMeterMax + 1, kMeterSlowpath, kMeterController}) {
    EXPECT_EQ(ErrOf(t.Apply(Delete(id))), OfpErr::kMeterModInvalidMeter) << id;
  }
}

TEST(MeterTable, BadConfig) {
  MeterTable t({.max_meters = 2, .max_bands = 2});
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps | kMeterPktps, {Drop(10)}))),
            OfpErr::kMeterModBadFlags);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, 0, {Drop(10)}))), OfpErr::kMeterModBadFlags);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterBurst | kMeterStats, {Drop(10)}))),
            OfpErr::kMeterModBadFlags);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps | 0x10, {Drop(10)}))), OfpErr::kMeterModBadFlags);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps, {Drop(10), Drop(0)}))), OfpErr::kMeterModBadRate);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps, {Remark(0, 1)}))), OfpErr::kMeterModBadRate);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps | kMeterBurst, {Drop(10, 0)}))),
            OfpErr::kMeterModBadBurst);
  MeterBand exp{MeterBandType::kExperimenter, 10, 0, 0, 0x2320};
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps, {exp}))), OfpErr::kMeterModBadBand);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps, {MeterBand{static_cast<MeterBandType>(3), 10}}))),
            OfpErr::kMeterModBadBand);
  EXPECT_EQ(ErrOf(t.Apply(Add(1, kMeterKbps, {Drop(1), Drop(2), Drop(3)}))),
            OfpErr::kMeterModOutOfBands);
  EXPECT_EQ(t.size(), 0u);
  // Without OFPMF_BURST a burst_size of 0 is fine: it is not used.
  ExpectOk(t.Apply(Add(1, kMeterKbps, {Drop(10, 0)})));
  ExpectOk(t.Apply(Add(2, kMeterPktps | kMeterBurst, {Drop(10, 5)})));
  EXPECT_EQ(ErrOf(t.Apply(Add(3, kMeterPktps, {Drop(10)}))), OfpErr::kMeterModOutOfMeters);
  // A refused modify leaves the meter alone.
  EXPECT_EQ(ErrOf(t.Apply(Modify(2, kMeterPktps, {Drop(0)}))), OfpErr::kMeterModBadRate);
  EXPECT_EQ(t.Find(2)->bands(), std::vector<MeterBand>{Drop(10, 5)});
  EXPECT_EQ(ErrOf(t.Apply(MeterMod{static_cast<MeterModCommand>(3), kMeterKbps, 1, {}})),
            OfpErr::kMeterModBadCommand);
}

TEST(MeterRate, PktpsDropAdmitsTheRate) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps, {Drop(1000)})));
  std::vector<Tally> secs = Stream(*t.Find(1), 7 * kSec, 10, 5000, 100);
  int total = 0;
  for (size_t s = 0; s < secs.size(); ++s) {
    EXPECT_EQ(secs[s].remark, 0);
    EXPECT_EQ(secs[s].pass + secs[s].drop, 5000);
    total += secs[s].pass;
    // The first second also spends the initial burst (100 ms of rate by default).
    if (s > 0) {
      EXPECT_NEAR(secs[s].pass, 1000, 20) << "second " << s;
    }
  }
  EXPECT_NEAR(secs[0].pass, 1100, 22);
  EXPECT_NEAR(total, 10000, 200);
}

TEST(MeterRate, KbpsDropAdmitsTheRate) {
  MeterTable t;
  // 800 kbps of 1000-byte (8 kbit) packets is 100 packets per second.
  ExpectOk(t.Apply(Add(1, kMeterKbps, {Drop(800)})));
  std::vector<Tally> secs = Stream(*t.Find(1), 0, 5, 1000, 1000);
  for (size_t s = 1; s < secs.size(); ++s) EXPECT_NEAR(secs[s].pass, 100, 2) << s;
}

TEST(MeterRate, BelowTheRateNothingHappens) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps, {Drop(1000), Remark(800, 1)})));
  for (const Tally& s : Stream(*t.Find(1), 0, 3, 500, 64)) EXPECT_EQ(s.pass, 500);
}

TEST(MeterRate, ExplicitBurst) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps | kMeterBurst, {Drop(10, 50)})));
  Meter& m = *t.Find(1);
  int pass = 0;
  for (int i = 0; i < 100; ++i) pass += m.Apply(kSec, 64).verdict == MeterVerdict::kPass;
  EXPECT_EQ(pass, 50);  // the whole burst, back to back, then nothing
  // Tokens come back at the rate: 10 per second, up to the burst.
  pass = 0;
  for (int i = 0; i < 100; ++i) pass += m.Apply(2 * kSec, 64).verdict == MeterVerdict::kPass;
  EXPECT_EQ(pass, 10);
  pass = 0;
  for (int i = 0; i < 100; ++i) pass += m.Apply(100 * kSec, 64).verdict == MeterVerdict::kPass;
  EXPECT_EQ(pass, 50);
}

TEST(MeterRate, PacketsLargerThanTheBurstStillPassAtTheRate) {
  MeterTable t;
  // Burst 8 kbit, packets of 1500 bytes (12 kbit); 120 kbps is 10 such packets per second.
  ExpectOk(t.Apply(Add(1, kMeterKbps | kMeterBurst, {Drop(120, 8)})));
  std::vector<Tally> secs = Stream(*t.Find(1), 0, 4, 100, 1500);
  for (size_t s = 1; s < secs.size(); ++s) EXPECT_NEAR(secs[s].pass, 10, 1) << s;
}

TEST(MeterRate, TimeGoingBackwardsAddsNoTokens) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps | kMeterBurst, {Drop(1, 1)})));
  Meter& m = *t.Find(1);
  EXPECT_EQ(m.Apply(10 * kSec, 64).verdict, MeterVerdict::kPass);
  EXPECT_EQ(m.Apply(5 * kSec, 64).verdict, MeterVerdict::kDrop);
  EXPECT_EQ(m.Apply(10 * kSec, 64).verdict, MeterVerdict::kDrop);
  EXPECT_EQ(m.Apply(11 * kSec, 64).verdict, MeterVerdict::kPass);
}

TEST(MeterRate, HighestExceededBandApplies) {
  MeterTable t;
  // Up to 1000 pps pass, 1000-3000 pps are remarked, above 3000 pps dropped.
  ExpectOk(t.Apply(Add(1, kMeterPktps, {Drop(3000), Remark(1000, 2)})));
  std::vector<Tally> secs = Stream(*t.Find(1), 0, 4, 5000, 64);
  for (size_t s = 1; s < secs.size(); ++s) {
    EXPECT_NEAR(secs[s].pass, 1000, 20) << s;
    EXPECT_NEAR(secs[s].remark, 2000, 40) << s;
    EXPECT_NEAR(secs[s].drop, 2000, 40) << s;
  }
  ExpectOk(t.Apply(Add(2, kMeterPktps, {Remark(1000, 1), Drop(3000)})));
  secs = Stream(*t.Find(2), 0, 4, 2000, 64);
  for (size_t s = 1; s < secs.size(); ++s) {
    EXPECT_NEAR(secs[s].pass, 1000, 20) << s;
    EXPECT_NEAR(secs[s].remark, 1000, 20) << s;
    EXPECT_EQ(secs[s].drop, 0) << s;
  }
  EXPECT_EQ(t.Apply(2, 100 * kSec, 64), (MeterResult{}));
}

TEST(MeterRate, RemarkCarriesPrecLevel) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps | kMeterBurst, {Remark(1, 3, 1)})));
  EXPECT_EQ(t.Apply(1, 0, 64), (MeterResult{}));
  EXPECT_EQ(t.Apply(1, 0, 64), (MeterResult{MeterVerdict::kRemark, 3}));
}

TEST(MeterDscp, RemarkRaisesAfDropPrecedence) {
  constexpr uint8_t kAf11 = 10, kAf12 = 12, kAf13 = 14, kAf21 = 18, kAf22 = 20, kAf43 = 38;
  EXPECT_EQ(RemarkDscp(kAf11, 0), kAf11);
  EXPECT_EQ(RemarkDscp(kAf11, 1), kAf12);
  EXPECT_EQ(RemarkDscp(kAf11, 2), kAf13);
  EXPECT_EQ(RemarkDscp(kAf11, 200), kAf13);  // capped at the highest precedence
  EXPECT_EQ(RemarkDscp(kAf12, 1), kAf13);
  EXPECT_EQ(RemarkDscp(kAf21, 1), kAf22);
  EXPECT_EQ(RemarkDscp(kAf43, 1), kAf43);
  EXPECT_EQ(RemarkDscp(46, 1), 46);  // EF has no drop precedence
  EXPECT_EQ(RemarkDscp(0, 1), 0);    // best effort
  EXPECT_EQ(RemarkDscp(48, 1), 48);  // CS6
  EXPECT_EQ(RemarkDscp(11, 1), 11);  // not a standard code point
}

TEST(MeterStats, CountersFlowCountDuration) {
  uint64_t now = 3 * kSec;
  MeterTable t({.now_ns = [&] { return now; }});
  ExpectOk(t.Apply(Add(1, kMeterPktps | kMeterBurst | kMeterStats, {Drop(5, 3), Remark(1, 1, 1)})));
  ExpectOk(t.Apply(Add(2, kMeterPktps, {Drop(1)})));
  t.AddFlowRef(1);
  t.AddFlowRef(1);
  t.AddFlowRef(2);
  t.RemoveFlowRef(2);
  t.AddFlowRef(42);  // unknown: ignored
  // Back to back: the remark band (burst 1) is exceeded from the second packet on, the drop
  // band (burst 3) from the fourth, and then it is the exceeded band with the higher rate.
  std::vector<MeterResult> got;
  for (int i = 0; i < 4; ++i) got.push_back(*t.Apply(1, 0, 100));
  EXPECT_EQ(
      got,
      (std::vector<MeterResult>{
          {}, {MeterVerdict::kRemark, 1}, {MeterVerdict::kRemark, 1}, {MeterVerdict::kDrop, 0}}));
  for (int i = 0; i < 3; ++i) t.Apply(2, 0, 100);
  now += kSec / 4;

  MeterStatsReply r = t.Stats(kMeterAll);
  ASSERT_EQ(r.entries.size(), 2u);
  const MeterStats& s = r.entries[0];
  EXPECT_EQ(s.meter_id, 1u);
  EXPECT_EQ(s.flow_count, 2u);
  EXPECT_EQ(s.packet_in_count, 4u);
  EXPECT_EQ(s.byte_in_count, 400u);
  EXPECT_EQ(s.duration_sec, 0u);
  EXPECT_EQ(s.duration_nsec, 250'000'000u);
  EXPECT_EQ(s.bands, (std::vector<BucketCounter>{{1, 100}, {2, 200}}));
  // Meter 2 has no OFPMF_STATS: counted all the same, as Open vSwitch does (a burst of one
  // packet at 1 packet/s: the second and third are dropped).
  EXPECT_EQ(r.entries[1].meter_id, 2u);
  EXPECT_EQ(r.entries[1].flow_count, 0u);
  EXPECT_EQ(r.entries[1].packet_in_count, 3u);
  EXPECT_EQ(r.entries[1].bands, (std::vector<BucketCounter>{{2, 200}}));
  EXPECT_EQ(t.Stats(2).entries.size(), 1u);
  EXPECT_TRUE(t.Stats(3).entries.empty());

  // A modify keeps the meter's counters, flow count and age; the bands count afresh.
  ExpectOk(t.Apply(Modify(1, kMeterKbps | kMeterStats, {Drop(1000)})));
  now += kSec;
  MeterStats s2 = t.Stats(1).entries.at(0);
  EXPECT_EQ(s2.packet_in_count, 4u);
  EXPECT_EQ(s2.flow_count, 2u);
  EXPECT_EQ(s2.duration_sec, 1u);
  EXPECT_EQ(s2.bands, std::vector<BucketCounter>(1));
}

TEST(MeterStats, ConfigAndFeatures) {
  MeterTable t({.max_meters = 100, .max_bands = 4});
  ExpectOk(t.Apply(Add(9, kMeterKbps | kMeterBurst, {Drop(100, 10), Remark(50, 2, 5)})));
  ExpectOk(t.Apply(Add(4, kMeterPktps, {Drop(7, 3)})));
  MeterConfigReply c = t.Config(kMeterAll);
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_EQ(c.entries[0], (MeterConfig{kMeterPktps, 4, {Drop(7, 3)}}));
  EXPECT_EQ(c.entries[1],
            (MeterConfig{kMeterKbps | kMeterBurst, 9, {Drop(100, 10), Remark(50, 2, 5)}}));
  EXPECT_EQ(t.Config(9).entries.size(), 1u);
  EXPECT_TRUE(t.Config(5).entries.empty());

  MeterFeaturesReply f = t.Features();
  EXPECT_EQ(f.max_meter, 100u);
  EXPECT_EQ(f.band_types, (1u << 1) | (1u << 2));
  EXPECT_EQ(f.capabilities, kMeterAllFlags);
  EXPECT_EQ(f.max_bands, 4u);
  EXPECT_EQ(f.max_color, 0u);

  // The replies are encodable by the codec and come back the same.
  for (const MultipartReplyBody& body :
       {MultipartReplyBody{c}, MultipartReplyBody{f}, MultipartReplyBody{t.Stats(kMeterAll)}}) {
    Result<std::vector<Message>> msgs = SplitMultipartReply(1, MultipartReply{0, body});
    ASSERT_TRUE(msgs.has_value());
    Result<Bytes> wire = EncodeMessage(msgs->at(0));
    ASSERT_TRUE(wire.has_value());
    OfpResult<Message> back = DecodeMessage(*wire);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(std::get<MultipartReply>(back->body).body, body);
  }
}

TEST(MeterStats, ConcurrentApply) {
  MeterTable t;
  ExpectOk(t.Apply(Add(1, kMeterPktps | kMeterStats, {Drop(1000)})));
  auto m = t.Find(1);
  std::vector<std::thread> threads;
  std::atomic<int> passed{0};
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      // 4 threads x 2500 pps over 2 simulated seconds, interleaved timestamps.
      for (int i = 0; i < 5000; ++i) {
        uint64_t ts = (uint64_t(i) * 4 + th) * (kSec / 10000);
        if (m->Apply(ts, 64).verdict == MeterVerdict::kPass) ++passed;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(m->Counter().packet_count, 20000u);
  EXPECT_EQ(m->BandCounter(0).packet_count + passed.load(), 20000u);
  // 2 s at 1000 pps plus the 100-packet burst; thread skew costs a little precision.
  EXPECT_NEAR(passed.load(), 2100, 100);
}

}  // namespace
}  // namespace sluice::ofp
