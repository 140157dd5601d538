#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

TEST(OfpErrorTable, PairsAndNames) {
  EXPECT_EQ(ErrType(OfpErr::kBadMatchBadPrereq), 4);
  EXPECT_EQ(ErrCode(OfpErr::kBadMatchBadPrereq), 9);
  EXPECT_EQ(ErrCode(OfpErr::kBadActionBadSetArgument), 15);
  EXPECT_EQ(ErrCode(OfpErr::kGroupModEperm), 14);
  EXPECT_EQ(ErrCode(OfpErr::kMeterModOutOfBands), 11);
  EXPECT_EQ(ErrType(OfpErr::kTableFeaturesEperm), 13);
  EXPECT_EQ(OfpErrName(OfpErr::kBadInstDupInst), "OFPBIC_DUP_INST");
  EXPECT_EQ(OfpErrName(MakeOfpErr(4, 99)), "");
  EXPECT_EQ(OfpErrTypeName(5), "OFPET_FLOW_MOD_FAILED");
  Error e = ToError(OfpError{OfpErr::kFlowModBadCommand, "command 9"});
  EXPECT_EQ(e.code, Errc::kProtocol);
  EXPECT_NE(e.message.find("OFPFMFC_BAD_COMMAND"), std::string::npos);
}

TEST(OfpHeader, DecodeAndShortLength) {
  Bytes b = {4, 0, 0, 8, 0, 0, 0, 7};
  OfpResult<Header> h = DecodeHeader(b);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, (Header{4, 0, 8, 7}));
  b[3] = 7;
  EXPECT_EQ(DecodeHeader(b).error().err, OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeHeader(ByteSpan(b).first(5)).error().err, OfpErr::kBadRequestBadLen);
}

TEST(OfpSplitter, ExtractsWholeMessagesAcrossFeeds) {
  Bytes a = Encode(Msg(EchoRequest{{1, 2, 3}}, 1));
  Bytes b = Encode(Msg(BarrierRequest{}, 2));
  Bytes stream = a;
  stream.insert(stream.end(), b.begin(), b.end());
  MessageSplitter s;
  // Byte by byte: a message appears exactly when its last byte arrives.
  std::vector<Bytes> got;
  for (uint8_t byte : stream) {
    s.Feed(ByteSpan(&byte, 1));
    auto next = s.Next();
    ASSERT_TRUE(next);
    if (*next) got.emplace_back((*next)->begin(), (*next)->end());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(s.buffered(), 0u);
  // Both at once.
  s.Feed(stream);
  auto n1 = s.Next();
  auto n2 = s.Next();
  auto n3 = s.Next();
  ASSERT_TRUE(n1 && *n1 && n2 && *n2 && n3);
  EXPECT_EQ(Bytes((*n1)->begin(), (*n1)->end()), a);
  EXPECT_EQ(Bytes((*n2)->begin(), (*n2)->end()), b);
  EXPECT_FALSE(*n3);
}

TEST(OfpSplitter, RejectsLengthBelowHeader) {
  MessageSplitter s;
  Bytes bad = {4, 2, 0, 4, 0, 0, 0, 1};
  s.Feed(bad);
  auto r = s.Next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, OfpErr::kBadRequestBadLen);
  EXPECT_FALSE(s.Next());  // stays broken
}

TEST(OfpVersion, Negotiation) {
  EXPECT_EQ(HighestCommonVersion(kSupportedVersions, VersionBit(kOfp13) | VersionBit(kOfp15)),
            kOfp13);
  EXPECT_EQ(HighestCommonVersion(kSupportedVersions, VersionBit(kOfp14)), std::nullopt);
  EXPECT_EQ(HighestCommonVersion(kSupportedVersions, PeerVersions(kOfp10, std::nullopt)), kOfp10);
  EXPECT_EQ(HighestCommonVersion(kSupportedVersions, PeerVersions(kOfp15, std::nullopt)), kOfp13);
  EXPECT_EQ(HighestCommonVersion(kSupportedVersions, PeerVersions(kOfp15, VersionBit(kOfp10))),
            kOfp10);
  // Room for 1.4/1.5: a future ours set works unchanged.
  EXPECT_EQ(HighestCommonVersion(kSupportedVersions | VersionBit(kOfp15),
                                 PeerVersions(kOfp15, std::nullopt)),
            kOfp15);
}

TEST(OfpHello, BitmapRoundTripAndWireLayout) {
  Message m = Msg(Hello{VersionBit(kOfp10) | VersionBit(kOfp13)});
  ExpectRoundTrip(m);
  Bytes want = {4, 0, 0, 16, 0x12, 0x34, 0x56, 0x78, 0, 1, 0, 8, 0, 0, 0, 0x12};
  EXPECT_EQ(Encode(m), want);
  ExpectRoundTrip(Msg(Hello{}));
}

TEST(OfpHello, AnyVersionUnknownElementsAndBadLength) {
  // A 1.5 hello with an unknown element (type 9) before the bitmap.
  Bytes b = Raw(MsgType::kHello,
                {0, 9, 0, 6, 0xaa, 0xbb, 0, 0, 0, 1, 0, 12, 0, 0, 0, 0x52, 0, 0, 0, 1, 0, 0, 0, 0},
                kOfp15);
  OfpResult<Message> m = DecodeMessage(b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->version, kOfp15);
  EXPECT_EQ(std::get<Hello>(m->body).versions, 0x52u);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kHello, {0, 1, 0, 2})), OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kHello, {0, 1, 0, 20, 0, 0, 0, 0})), OfpErr::kBadRequestBadLen);
}

TEST(OfpError, RoundTripAndReply) {
  ExpectRoundTrip(Msg(ErrorMsg{4, 9, 0, {1, 2, 3}}));
  ExpectRoundTrip(Msg(ErrorMsg{0xffff, 7, 0x2320, {9}}));
  Bytes offending(100, 0xab);
  offending[0] = 4;
  offending[4] = 0xde, offending[5] = 0xad, offending[6] = 0xbe, offending[7] = 0xef;
  Message reply = MakeErrorReply(OfpError{OfpErr::kBadMatchDupField, ""}, offending);
  EXPECT_EQ(reply.xid, 0xdeadbeefu);
  const auto& e = std::get<ErrorMsg>(reply.body);
  EXPECT_EQ(e.type, 4);
  EXPECT_EQ(e.code, 10);
  EXPECT_EQ(e.data, Bytes(offending.begin(), offending.begin() + 64));
  Bytes wire = Encode(reply);
  EXPECT_EQ(wire.size(), 8u + 4 + 64);
  // ERROR decodes in any version.
  wire[0] = kOfp10;
  EXPECT_TRUE(DecodeMessage(wire));
  EXPECT_EQ(DecodeErr(Raw(MsgType::kError, {0, 1})), OfpErr::kBadRequestBadLen);
}

TEST(OfpCommon, SymmetricAndSetupRoundTrips) {
  ExpectRoundTrip(Msg(EchoRequest{{1, 2, 3, 4, 5}}));
  ExpectRoundTrip(Msg(EchoReply{}));
  ExpectRoundTrip(Msg(ExperimenterMsg{0x2320, 17, {1, 2}}));
  ExpectRoundTrip(Msg(FeaturesRequest{}));
  ExpectRoundTrip(Msg(FeaturesReply{0x0000aabbccddeeff, 256, 254, 0, 0x4f, 0, {}}));
  ExpectRoundTrip(Msg(GetConfigRequest{}));
  ExpectRoundTrip(Msg(GetConfigReply{{1, 0xffe5}}));
  ExpectRoundTrip(Msg(SetConfig{{2, 128}}));
  ExpectRoundTrip(Msg(BarrierRequest{}));
  ExpectRoundTrip(Msg(BarrierReply{}));
  ExpectRoundTrip(Msg(RoleRequest{{ControllerRole::kMaster, 42}}));
  ExpectRoundTrip(Msg(RoleReply{{ControllerRole::kSlave, ~uint64_t{0}}}));
  ExpectRoundTrip(Msg(GetAsyncRequest{}));
  AsyncConfig a;
  a.packet_in_mask = {7, 0};
  a.port_status_mask = {7, 7};
  a.flow_removed_mask = {15, 0};
  ExpectRoundTrip(Msg(GetAsyncReply{a}));
  ExpectRoundTrip(Msg(SetAsync{a}));
}

TEST(OfpCommon, FeaturesReplyLayout) {
  Bytes wire = Encode(Msg(FeaturesReply{0x0102030405060708, 9, 10, 11, 12, 13, {}}, 5));
  Bytes want = {4, 6, 0, 32, 0,  0,  0, 5, 1, 2, 3, 4,  5, 6, 7, 8,
                0, 0, 0, 9,  10, 11, 0, 0, 0, 0, 0, 12, 0, 0, 0, 13};
  EXPECT_EQ(wire, want);
}

TEST(OfpCommon, Errors) {
  // OpenFlow 1.1 and 1.2 are not spoken (1.0 is: of10_codec_test.cc).
  EXPECT_EQ(DecodeErr(Raw(MsgType::kBarrierRequest, {}, 0x02)), OfpErr::kBadRequestBadVersion);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kBarrierRequest, {}, 0x03)), OfpErr::kBadRequestBadVersion);
  EXPECT_EQ(DecodeErr(Raw(static_cast<MsgType>(99), {})), OfpErr::kBadRequestBadType);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kQueueGetConfigRequest, {0, 0, 0, 0, 0, 0, 0, 0})),
            OfpErr::kQueueOpBadPort);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kBarrierRequest, {0})), OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kFeaturesReply, {0, 0})), OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kSetConfig, {0, 4, 0, 128})), OfpErr::kSwitchConfigBadFlags);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kSetConfig, {0, 0, 0})), OfpErr::kBadRequestBadLen);
  Bytes role = Raw(MsgType::kRoleRequest, {0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(DecodeErr(role), OfpErr::kRoleRequestBadRole);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kGetAsyncReply, {1, 2, 3})), OfpErr::kBadRequestBadLen);
  // Header length disagreeing with the buffer.
  Bytes echo = Encode(Msg(EchoRequest{{1}}));
  echo.push_back(0);
  EXPECT_EQ(DecodeErr(echo), OfpErr::kBadRequestBadLen);
}

TEST(OfpCommon, EncodeRefusesOversizedMessage) {
  Result<Bytes> r = EncodeMessage(Msg(EchoRequest{Bytes(70000, 0)}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kNoSpace);
}

}  // namespace
}  // namespace sluice::ofp::test
