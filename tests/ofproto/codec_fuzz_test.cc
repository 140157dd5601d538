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
      FeaturesReply{1, 2, 3, 4, 5, 6, {}},
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
  // Table features and queue configuration (1.3), and OpenFlow 1.0 messages.
  TableFeatures tf;
  TableFeatureProp next;
  next.type = TableFeaturePropType::kNextTables;
  next.tables = {1, 2};
  TableFeatureProp match;
  match.type = TableFeaturePropType::kMatch;
  match.oxms = {OxmId::Of(F::kEthDst, true), OxmId{0xffff0004, 1}};
  TableFeatureProp insts;
  insts.type = TableFeaturePropType::kInstructions;
  insts.ids = {FeatureId{1, {}}, FeatureId{0xffff, {0, 0, 0, 1}}};
  tf.properties = {next, match, insts};
  out.push_back(Encode(Msg(MultipartReply{0, TableFeaturesReply{{tf}}})));
  out.push_back(Encode(Msg(MultipartRequest{0, TableFeaturesRequest{{tf}}})));
  out.push_back(Encode(Msg(QueueGetConfigReply{
      1, {PacketQueue{1, 1, {QueueProp{QueuePropType::kMinRate, 1, 0, {}}}}}})));
  FlowMod f10;
  f10.match.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  f10.match.Set(OxmEntry::Exact(F::kIpProto, 17));
  f10.match.Set(OxmEntry::Masked(F::kIpv4Src, 0x0a000000, 0xff000000));
  f10.match.Set(OxmEntry::Exact(F::kUdpDst, 53));
  f10.instructions = {InstApplyActions{
      {ActSetField{OxmEntry::Exact(F::kUdpDst, 54)}, ActSetQueue{1}, ActOutput{2, 0}}}};
  FlowStats fs10;
  fs10.match = f10.match;
  fs10.instructions = f10.instructions;
  FeaturesReply fr10{1, 2, 3, 0, 0x7, 0, {PortDesc{}}};
  fr10.ports[0].port_no = 1;
  const MessageBody bodies10[] = {
      Hello{},
      f10,
      fr10,
      PacketOut{kNoBuffer, kPortController, {ActPopVlan{}, ActOutput{kPortFlood, 0}}, {1, 2}},
      MultipartRequest{0, FlowStatsRequest{}},
      MultipartReply{0, FlowStatsReply{{fs10, fs10}}},
      MultipartReply{0, PortStatsReply{{PortStats{}}}},
      QueueGetConfigRequest{1},
  };
  for (const MessageBody& b : bodies10) out.push_back(Encode(Message{kOfp10, 1, b}));
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
      if (b.size() >= 2) b[0] = i % 20 == 0 ? kOfp10 : kOfp13;
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
