#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;

FlowStats SomeFlow(uint16_t priority) {
  FlowStats s;
  s.table_id = 1;
  s.duration_sec = 2;
  s.duration_nsec = 3;
  s.priority = priority;
  s.idle_timeout = 5;
  s.hard_timeout = 6;
  s.flags = kFlowSendFlowRem;
  s.cookie = 7;
  s.packet_count = 8;
  s.byte_count = 9;
  s.match.Set(OxmEntry::Exact(F::kInPort, 1));
  s.instructions = {InstApplyActions{{ActOutput{2, 0}}}, InstGotoTable{2}};
  return s;
}

TEST(OfpMultipart, RequestsRoundTrip) {
  FlowStatsRequest flow;
  flow.table_id = 0;
  flow.out_port = 3;
  flow.cookie = 1;
  flow.cookie_mask = 1;
  flow.match.Set(OxmEntry::Exact(F::kEthType, 0x0806));
  AggregateRequest agg;
  agg.match = flow.match;
  const MultipartRequestBody bodies[] = {DescRequest{},
                                         flow,
                                         agg,
                                         TableStatsRequest{},
                                         PortStatsRequest{7},
                                         PortDescRequest{},
                                         QueueStatsRequest{1, 2},
                                         GroupStatsRequest{3},
                                         GroupDescRequest{},
                                         GroupFeaturesRequest{},
                                         MeterStatsRequest{4},
                                         MeterConfigRequest{5},
                                         MeterFeaturesRequest{}};
  for (const MultipartRequestBody& b : bodies) {
    ExpectRoundTrip(Msg(MultipartRequest{kMultipartMore, b}));
  }
  // Desc request: header + type 0 + flags + pad.
  EXPECT_EQ(Encode(Msg(MultipartRequest{0, DescRequest{}}, 1)),
            (Bytes{4, 18, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(OfpMultipart, RepliesRoundTrip) {
  GroupStats gs{1, 2, 3, 4, 5, 6, {{1, 2}, {3, 4}}};
  GroupDesc gd{1, 9, {Bucket{1, kPortAny, kGroupAny, {ActOutput{1, 0}}}}};
  MeterStats ms{1, 2, 3, 4, 5, 6, {{7, 8}}};
  MeterConfig mc{kMeterKbps, 3, {MeterBand{MeterBandType::kDrop, 10, 0, 0, 0}}};
  PortStats ps;
  ps.port_no = 1;
  ps.rx_packets = 2;
  ps.collisions = 3;
  ps.duration_sec = 4;
  const MultipartReplyBody bodies[] = {
      DescReply{"Sluice", "userspace", "0.1.0", "none", "br0"},
      FlowStatsReply{{SomeFlow(1), SomeFlow(2)}},
      AggregateReply{1, 2, 3},
      TableStatsReply{{TableStats{0, 1, 2, 3}, TableStats{1, 4, 5, 6}}},
      PortStatsReply{{ps}},
      PortDescReply{{PortDesc{1, {}, "p1", 0, 0, 0, 0, 0, 0, 0, 0}}},
      QueueStatsReply{{QueueStats{1, 2, 3, 4, 5, 6, 7}}},
      GroupStatsReply{{gs}},
      GroupDescReply{{gd}},
      GroupFeaturesReply{0xf, 1, {1, 2, 3, 4}, {5, 6, 7, 8}},
      MeterStatsReply{{ms}},
      MeterConfigReply{{mc}},
      MeterFeaturesReply{100, 6, 0xf, 2, 0}};
  for (const MultipartReplyBody& b : bodies) ExpectRoundTrip(Msg(MultipartReply{0, b}));
  // Fixed sizes from the spec.
  EXPECT_EQ(Encode(Msg(MultipartReply{0, DescReply{}})).size(), 16u + 1056);
  EXPECT_EQ(Encode(Msg(MultipartReply{0, PortStatsReply{{ps}}})).size(), 16u + 112);
  EXPECT_EQ(Encode(Msg(MultipartReply{0, GroupStatsReply{{gs}}})).size(), 16u + 40 + 32);
}

TEST(OfpMultipart, Errors) {
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMultipartRequest, {0, 14, 0, 0, 0, 0, 0, 0})),
            OfpErr::kBadRequestBadMultipart);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMultipartRequest, {0xff, 0xff, 0, 0, 0, 0, 0, 0})),
            OfpErr::kBadRequestBadExperimenter);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMultipartRequest, {0, 0, 0, 0, 0, 0, 0, 0, 1})),
            OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMultipartRequest, {0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})),
            OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMultipartRequest, {0, 0})), OfpErr::kBadRequestBadLen);
  // Flow stats entry whose length runs past the reply.
  Bytes b = Encode(Msg(MultipartReply{0, FlowStatsReply{{SomeFlow(1)}}}));
  b[17] = 0xf8;
  EXPECT_EQ(DecodeErr(b), OfpErr::kBadRequestBadLen);
}

TEST(OfpMultipart, SplitLongReplyWithReplyMore) {
  FlowStatsReply big;
  for (uint16_t i = 0; i < 2000; ++i) big.entries.push_back(SomeFlow(i));
  Result<std::vector<Message>> parts = SplitMultipartReply(77, MultipartReply{0, big});
  ASSERT_TRUE(parts);
  ASSERT_GT(parts->size(), 1u);
  FlowStatsReply joined;
  for (size_t i = 0; i < parts->size(); ++i) {
    const Message& m = (*parts)[i];
    EXPECT_EQ(m.xid, 77u);
    const auto& r = std::get<MultipartReply>(m.body);
    EXPECT_EQ(r.flags, i + 1 < parts->size() ? kMultipartMore : 0);
    Bytes wire = Encode(m);
    EXPECT_LE(wire.size(), kMaxMessageLen);
    OfpResult<Message> back = DecodeMessage(wire);
    ASSERT_TRUE(back);
    const auto& part = std::get<FlowStatsReply>(std::get<MultipartReply>(back->body).body);
    joined.entries.insert(joined.entries.end(), part.entries.begin(), part.entries.end());
  }
  EXPECT_EQ(joined, big);
  // A fixed-size reply is one message without REPLY_MORE.
  Result<std::vector<Message>> one = SplitMultipartReply(1, MultipartReply{0, AggregateReply{}});
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(std::get<MultipartReply>((*one)[0].body).flags, 0);
  // An empty array still answers with one (empty) message.
  Result<std::vector<Message>> empty = SplitMultipartReply(1, MultipartReply{0, TableStatsReply{}});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 1u);
}

}  // namespace
}  // namespace sluice::ofp::test
