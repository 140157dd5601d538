// OFPMP_TABLE_FEATURES (request and reply, every property type, splitting) and
// OFPT_QUEUE_GET_CONFIG in their OpenFlow 1.3 form, and the features Sluice reports.
#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"
#include "ofproto/table/table_features.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;
using P = TableFeaturePropType;

TableFeatureProp Prop(P type) {
  TableFeatureProp p;
  p.type = type;
  return p;
}

// One table with every property type, experimenter ids and OXMs included.
TableFeatures EveryProperty() {
  TableFeatures t;
  t.table_id = 3;
  t.name = "acl";
  t.metadata_match = 0xff00;
  t.metadata_write = 0x00ff;
  t.config = 3;
  t.max_entries = 1000;
  for (P type : {P::kInstructions, P::kInstructionsMiss, P::kWriteActions, P::kWriteActionsMiss,
                 P::kApplyActions, P::kApplyActionsMiss}) {
    TableFeatureProp p = Prop(type);
    p.ids = {FeatureId{1, {}}, FeatureId{4, {}}, FeatureId{0xffff, {0, 0, 0x23, 0x20, 1, 2, 3, 4}}};
    t.properties.push_back(p);
  }
  for (P type : {P::kNextTables, P::kNextTablesMiss}) {
    TableFeatureProp p = Prop(type);
    p.tables = {4, 5, 9};
    t.properties.push_back(p);
  }
  for (P type : {P::kMatch, P::kWildcards, P::kWriteSetfield, P::kWriteSetfieldMiss,
                 P::kApplySetfield, P::kApplySetfieldMiss}) {
    TableFeatureProp p = Prop(type);
    p.oxms = {OxmId::Of(F::kInPort, false), OxmId::Of(F::kIpv6Src, true),
              OxmId{0xffff0104, 0x00002320}};
    t.properties.push_back(p);
  }
  for (P type : {P::kExperimenter, P::kExperimenterMiss}) {
    TableFeatureProp p = Prop(type);
    p.experimenter = 0x2320;
    p.exp_type = 7;
    p.data = {1, 2, 3, 4};
    t.properties.push_back(p);
  }
  return t;
}

TEST(TableFeatures, OxmIdHeaders) {
  EXPECT_EQ(OxmId::Of(F::kInPort, false).header, 0x80000004u);
  EXPECT_EQ(OxmId::Of(F::kEthDst, true).header, 0x8000070cu);
  EXPECT_EQ(OxmId::Of(F::kIpv6Src, true).header, 0x80003520u);
}

TEST(TableFeatures, RequestAndReplyRoundTrip) {
  ExpectRoundTrip(Msg(MultipartRequest{0, TableFeaturesRequest{}}));
  ExpectRoundTrip(Msg(MultipartRequest{kMultipartMore, TableFeaturesRequest{{EveryProperty()}}}));
  TableFeatures bare;
  bare.table_id = 0;
  ExpectRoundTrip(Msg(MultipartReply{0, TableFeaturesReply{{EveryProperty(), bare}}}));
  // The empty query is the 16-byte multipart header alone.
  EXPECT_EQ(Encode(Msg(MultipartRequest{0, TableFeaturesRequest{}}, 1)),
            (Bytes{4, 18, 0, 16, 0, 0, 0, 1, 0, 12, 0, 0, 0, 0, 0, 0}));
}

TEST(TableFeatures, WireLayout) {
  TableFeatures t;
  t.table_id = 1;
  t.name = "t";
  t.max_entries = 9;
  TableFeatureProp next = Prop(P::kNextTables);
  next.tables = {2, 3, 4};
  t.properties = {next};
  Bytes wire = Encode(Msg(MultipartReply{0, TableFeaturesReply{{t}}}));
  ASSERT_EQ(wire.size(), 16u + 64 + 8);
  size_t e = 16;
  EXPECT_EQ(wire[e + 0] << 8 | wire[e + 1], 72);  // entry length
  EXPECT_EQ(wire[e + 2], 1);                      // table id
  EXPECT_EQ(wire[e + 8], 't');
  EXPECT_EQ(wire[e + 63], 9);  // max_entries
  // Property: type 2, length 7 (the padding is not counted), tables, one byte of padding.
  EXPECT_EQ(Bytes(wire.begin() + e + 64, wire.end()), (Bytes{0, 2, 0, 7, 2, 3, 4, 0}));
}

TEST(TableFeatures, DecodeErrors) {
  Bytes wire = Encode(Msg(MultipartRequest{0, TableFeaturesRequest{{EveryProperty()}}}));
  // Unknown property type (9 is unassigned): OFPTFFC_BAD_TYPE.
  Bytes bad = wire;
  bad[16 + 64 + 1] = 9;
  EXPECT_EQ(DecodeErr(bad), OfpErr::kTableFeaturesBadType);
  // A property longer than its table entry: OFPTFFC_BAD_LEN.
  bad = wire;
  bad[16 + 64 + 2] = 0x7f;
  EXPECT_EQ(DecodeErr(bad), OfpErr::kTableFeaturesBadLen);
  // A non-experimenter instruction id of length 8: OFPTFFC_BAD_LEN.
  bad = wire;
  bad[16 + 64 + 4 + 3] = 8;
  EXPECT_EQ(DecodeErr(bad), OfpErr::kTableFeaturesBadLen);
  // An entry length that is not a multiple of 8 or runs past the message: OFPBRC_BAD_LEN.
  bad = wire;
  bad[16 + 1] ^= 4;
  EXPECT_EQ(DecodeErr(bad), OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMultipartRequest, {0, 12, 0, 0, 0, 0, 0, 0, 0, 8})),
            OfpErr::kBadRequestBadLen);
}

TEST(TableFeatures, SupportedFeaturesDescribeEveryTable) {
  TableFeaturesReply r = SupportedTableFeatures(254);
  ASSERT_EQ(r.entries.size(), 254u);
  for (const TableFeatures& t : r.entries) {
    EXPECT_EQ(t.metadata_match, ~uint64_t{0});
    EXPECT_EQ(t.metadata_write, ~uint64_t{0});
    EXPECT_EQ(t.max_entries, kTableMaxEntries);
    EXPECT_EQ(t.properties.size(), 14u);
    for (const TableFeatureProp& p : t.properties) {
      switch (p.type) {
        case P::kInstructions:
        case P::kInstructionsMiss:
          EXPECT_EQ(p.ids.size(), t.table_id == 253 ? 5u : 6u);
          break;
        case P::kNextTables:
        case P::kNextTablesMiss:
          EXPECT_EQ(p.tables.size(), 253u - t.table_id);
          if (!p.tables.empty()) {
            EXPECT_EQ(p.tables.front(), t.table_id + 1);
          }
          break;
        case P::kWriteActions:
        case P::kApplyActions:
        case P::kWriteActionsMiss:
        case P::kApplyActionsMiss:
          EXPECT_EQ(p.ids.size(), 12u);  // no PBB or copy-TTL actions
          break;
        case P::kMatch:
        case P::kWildcards:
          EXPECT_EQ(p.oxms.size(), kNumOxmFields);
          break;
        case P::kWriteSetfield:
        case P::kApplySetfield:
        case P::kWriteSetfieldMiss:
        case P::kApplySetfieldMiss:
          EXPECT_EQ(p.oxms.size(), 33u);  // what the datapath can rewrite (+ tunnel_id metadata)
          break;
        default:
          ADD_FAILURE() << "unexpected property " << static_cast<int>(p.type);
      }
    }
  }
  // Maskability follows the spec: eth_dst is maskable, eth_type is not.
  const auto& match = r.entries[0].properties[12];
  ASSERT_EQ(match.type, P::kMatch);
  EXPECT_EQ(match.oxms[3], OxmId::Of(F::kEthDst, true));
  EXPECT_EQ(match.oxms[5], OxmId::Of(F::kEthType, false));
}

TEST(TableFeatures, LargeReplyIsSplit) {
  MultipartReply reply{0, SupportedTableFeatures(254)};
  Result<std::vector<Message>> parts = SplitMultipartReply(7, reply);
  ASSERT_TRUE(parts.has_value());
  ASSERT_GT(parts->size(), 1u);
  std::vector<TableFeatures> all;
  for (size_t i = 0; i < parts->size(); ++i) {
    Bytes wire = Encode((*parts)[i]);
    EXPECT_LE(wire.size(), kMaxMessageLen);
    OfpResult<Message> back = DecodeMessage(wire);
    ASSERT_TRUE(back.has_value());
    const auto& mp = std::get<MultipartReply>(back->body);
    EXPECT_EQ(mp.flags, i + 1 < parts->size() ? kMultipartMore : 0);
    const auto& tf = std::get<TableFeaturesReply>(mp.body);
    all.insert(all.end(), tf.entries.begin(), tf.entries.end());
  }
  EXPECT_EQ(all, std::get<TableFeaturesReply>(reply.body).entries);
  // EncodeMessages does the same for a reply handed over whole.
  Result<std::vector<Bytes>> encoded = EncodeMessages(Msg(reply, 7));
  ASSERT_TRUE(encoded.has_value());
  EXPECT_EQ(encoded->size(), parts->size());
}

TEST(QueueGetConfig, RoundTripAndErrors) {
  ExpectRoundTrip(Msg(QueueGetConfigRequest{1}));
  ExpectRoundTrip(Msg(QueueGetConfigRequest{kPortAny}));
  ExpectRoundTrip(Msg(QueueGetConfigReply{1, {}}));
  PacketQueue q{7,
                1,
                {QueueProp{QueuePropType::kMinRate, 100, 0, {}},
                 QueueProp{QueuePropType::kMaxRate, 900, 0, {}},
                 QueueProp{QueuePropType::kExperimenter, 0, 0x2320, {1, 2, 3, 4, 5, 6, 7, 8}}}};
  ExpectRoundTrip(Msg(QueueGetConfigReply{1, {q, PacketQueue{8, 1, {}}}}));
  EXPECT_EQ(Encode(Msg(QueueGetConfigRequest{2}, 1)),
            (Bytes{4, 22, 0, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0}));
  // Port 0 and reserved ports other than ANY: OFPQOFC_BAD_PORT.
  EXPECT_EQ(DecodeErr(Raw(MsgType::kQueueGetConfigRequest, {0, 0, 0, 0, 0, 0, 0, 0})),
            OfpErr::kQueueOpBadPort);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kQueueGetConfigRequest, {0xff, 0xff, 0xff, 0xfd, 0, 0, 0, 0})),
            OfpErr::kQueueOpBadPort);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kQueueGetConfigRequest, {0, 0, 0, 1})),
            OfpErr::kBadRequestBadLen);
  // A queue whose length runs past the message.
  EXPECT_EQ(DecodeErr(Raw(MsgType::kQueueGetConfigReply, {0, 0, 0, 1, 0, 0,  0, 0, 0, 0, 0, 7,
                                                          0, 0, 0, 1, 0, 64, 0, 0, 0, 0, 0, 0})),
            OfpErr::kBadRequestBadLen);
}

}  // namespace
}  // namespace sluice::ofp::test
