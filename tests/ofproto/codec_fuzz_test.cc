// Random and mutated buffers through DecodeMessage: it must never crash or read out of bounds
// (run under -fsanitize=address,undefined), and whatever it accepts must re-encode.
#include <gtest/gtest.h>

#include <random>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;

std::vector<Bytes> Seeds() {
  FlowMod f;
  f.match.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  f.match.Set(OxmEntry::Exact(F::kIpProto, 6));
  f.match.Set(OxmEntry::Exact(F::kTcpDst, 80));
  f.match.Set(OxmEntry::Masked(F::kEthDst, 0x010000000000, 0x010000000000));
  f.instructions = {InstWriteMetadata{1, 1},
                    InstApplyActions{{ActSetField{OxmEntry::Exact(F::kIpv4Dst, 1)},
                                      ActPushVlan{0x8100}, ActOutput{1, 0}}},
                    InstGotoTable{1}};
  PacketOut po;
  po.actions = {ActGroup{1}, ActExperimenter{1, {0, 0, 0, 0, 0, 0, 0, 0}}};
  po.data = {1, 2, 3};
  GroupMod g{GroupModCommand::kAdd,
             GroupType::kSelect,
             1,
             {Bucket{1, 1, 1, {ActOutput{1, 0}}}, Bucket{2, 2, 2, {}}}};
  MeterMod mm{
      MeterModCommand::kAdd, kMeterKbps, 1, {MeterBand{MeterBandType::kDscpRemark, 1, 2, 3, 0}}};
  FlowStats fs;
  fs.match = f.match;
  fs.instructions = f.instructions;
  const MessageBody bodies[] = {
      Hello{0x12},
      ErrorMsg{1, 2, 0, {1}},
      EchoRequest{{1, 2}},
      FeaturesReply{1, 2, 3, 4, 5, 6},
      SetConfig{{1, 2}},
      RoleRequest{{ControllerRole::kMaster, 1}},
      SetAsync{},
      f,
      po,
      PacketIn{1, 2, PacketInReason::kAction, 3, 4, f.match, {9, 9}},
      FlowRemoved{},
      PortStatus{},
      PortMod{1, {}, 0, 0, 0},
      TableMod{},
      g,
      mm,
      MultipartRequest{0, FlowStatsRequest{}},
      MultipartReply{0, FlowStatsReply{{fs, fs}}},
      MultipartReply{0, GroupDescReply{{GroupDesc{0, 1, g.buckets}}}},
      MultipartReply{0, MeterConfigReply{{MeterConfig{1, 1, mm.bands}}}},
      MultipartReply{0, MeterStatsReply{{MeterStats{1, 2, 3, 4, 5, 6, {{1, 2}}}}}},
  };
  std::vector<Bytes> out;
  for (const MessageBody& b : bodies) out.push_back(Encode(Msg(b)));
  return out;
}

TEST(OfpFuzz, MutatedAndRandomBuffersNeverCrash) {
  std::mt19937_64 rng(12345);
  std::vector<Bytes> seeds = Seeds();
  size_t accepted = 0;
  for (int i = 0; i < 100000; ++i) {
    Bytes b;
    if (i % 10 == 0) {
      b.resize(rng() % 200);
      for (uint8_t& x : b) x = static_cast<uint8_t>(rng());
      if (b.size() >= 2) b[0] = kOfp13;
    } else {
      b = seeds[rng() % seeds.size()];
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < flips; ++k) {
        switch (rng() % 4) {
          case 0:
          case 1:
            b[rng() % b.size()] = static_cast<uint8_t>(rng());
            break;
          case 2:
            b.resize(rng() % (b.size() + 1));
            break;
          default:
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(rng() % (b.size() + 1)),
                     static_cast<uint8_t>(rng()));
        }
        if (b.empty()) break;
      }
      // Usually keep the header length consistent, so decoding reaches the body.
      if (b.size() >= 4 && rng() % 4 != 0) {
        b[2] = static_cast<uint8_t>(b.size() >> 8);
        b[3] = static_cast<uint8_t>(b.size());
      }
    }
    OfpResult<Message> m = DecodeMessage(b);
    if (m) {
      ++accepted;
      Result<Bytes> again = EncodeMessage(*m);
      ASSERT_TRUE(again);
      OfpResult<Message> m2 = DecodeMessage(*again);
      ASSERT_TRUE(m2) << OfpErrName(m2.error().err);
      EXPECT_EQ(*m2, *m);
    } else {
      (void)MakeErrorReply(m.error(), b);
    }
    MessageSplitter s;
    s.Feed(b);
    while (true) {
      auto next = s.Next();
      if (!next || !*next) break;
    }
  }
  EXPECT_GT(accepted, 1000u);  // the mutations do exercise the success paths too
}

}  // namespace
}  // namespace sluice::ofp::test
