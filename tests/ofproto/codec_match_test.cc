#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;

OfpResult<Match> DecodeBytes(const Bytes& b) {
  size_t consumed = 0;
  OfpResult<Match> m = DecodeMatch(b, &consumed);
  if (m) {
    EXPECT_EQ(consumed, b.size());
  }
  return m;
}

Bytes EncodeBytes(const Match& m) {
  Bytes b;
  Writer w(&b);
  EncodeMatch(m, w);
  EXPECT_EQ(b.size(), EncodedMatchLen(m));
  return b;
}

// A match of one TLV: ofp_match header, the TLV bytes, zero padding.
Bytes OneTlv(std::initializer_list<uint8_t> tlv) {
  // Built byte by byte: GCC 12 misjudges the bounds of vector::insert from an initializer_list.
  Bytes b;
  b.reserve(8 + tlv.size());
  for (uint8_t v : {uint8_t{0}, uint8_t{1}, uint8_t{0}, static_cast<uint8_t>(4 + tlv.size())}) {
    b.push_back(v);
  }
  for (uint8_t v : tlv) b.push_back(v);
  b.resize(RoundUp8(b.size()), 0);
  return b;
}

OfpErr MatchErr(const Bytes& b) {
  OfpResult<Match> m = DecodeBytes(b);
  EXPECT_FALSE(m);
  return m ? OfpErr{} : m.error().err;
}

// Every field with the prerequisites it needs, one match per field, each round-tripped.
TEST(OxmMatch, AllFortyFieldsRoundTrip) {
  ASSERT_EQ(kNumOxmFields, 40u);
  auto eth = [](uint16_t t) { return OxmEntry::Exact(F::kEthType, t); };
  auto proto = [](uint8_t p) { return OxmEntry::Exact(F::kIpProto, p); };
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  uint8_t v6m[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  uint8_t v6mv[16] = {0x20, 0x01, 0x0d, 0xb8};
  std::vector<std::vector<OxmEntry>> all = {
      {OxmEntry::Exact(F::kInPort, 7)},
      {OxmEntry::Exact(F::kInPort, 7), OxmEntry::Exact(F::kInPhyPort, 3)},
      {OxmEntry::Masked(F::kMetadata, 0x1200, 0xff00)},
      {OxmEntry::Masked(F::kEthDst, 0x010000000000, 0x010000000000)},
      {OxmEntry::Exact(F::kEthSrc, 0x0a0b0c0d0e0f)},
      {eth(0x0800)},
      {OxmEntry::Masked(F::kVlanVid, kVidPresent, kVidPresent)},
      {OxmEntry::Exact(F::kVlanVid, kVidPresent | 10), OxmEntry::Exact(F::kVlanPcp, 5)},
      {eth(0x0800), OxmEntry::Exact(F::kIpDscp, 46)},
      {eth(0x86dd), OxmEntry::Exact(F::kIpEcn, 3)},
      {eth(0x0800), proto(6)},
      {eth(0x0800), OxmEntry::Masked(F::kIpv4Src, 0xc0a80000, 0xffff0000)},
      {eth(0x0800), OxmEntry::Exact(F::kIpv4Dst, 0x0a000001)},
      {eth(0x0800), proto(6), OxmEntry::Exact(F::kTcpSrc, 80)},
      {eth(0x86dd), proto(6), OxmEntry::Exact(F::kTcpDst, 443)},
      {eth(0x0800), proto(17), OxmEntry::Exact(F::kUdpSrc, 53)},
      {eth(0x0800), proto(17), OxmEntry::Exact(F::kUdpDst, 67)},
      {eth(0x0800), proto(132), OxmEntry::Exact(F::kSctpSrc, 1)},
      {eth(0x0800), proto(132), OxmEntry::Exact(F::kSctpDst, 2)},
      {eth(0x0800), proto(1), OxmEntry::Exact(F::kIcmpv4Type, 8)},
      {eth(0x0800), proto(1), OxmEntry::Exact(F::kIcmpv4Code, 0)},
      {eth(0x0806), OxmEntry::Exact(F::kArpOp, 1)},
      {eth(0x0806), OxmEntry::Masked(F::kArpSpa, 0x0a000000, 0xff000000)},
      {eth(0x0806), OxmEntry::Exact(F::kArpTpa, 0x0a000002)},
      {eth(0x0806), OxmEntry::Masked(F::kArpSha, 0x001122000000, 0xffffff000000)},
      {eth(0x0806), OxmEntry::Exact(F::kArpTha, 0x001122334455)},
      {eth(0x86dd), OxmEntry::FromBytes(F::kIpv6Src, v6)},
      {eth(0x86dd), OxmEntry::FromBytes(F::kIpv6Dst, v6mv, v6m)},
      {eth(0x86dd), OxmEntry::Masked(F::kIpv6Flabel, 0x12345, 0xfffff)},
      {eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Type, 135)},
      {eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Code, 0)},
      {eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Type, 136),
       OxmEntry::FromBytes(F::kIpv6NdTarget, v6)},
      {eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Type, 135),
       OxmEntry::Exact(F::kIpv6NdSll, 0x020000000001)},
      {eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Type, 136),
       OxmEntry::Exact(F::kIpv6NdTll, 0x020000000002)},
      {eth(0x8847), OxmEntry::Exact(F::kMplsLabel, 0xfffff)},
      {eth(0x8848), OxmEntry::Exact(F::kMplsTc, 7)},
      {eth(0x8847), OxmEntry::Exact(F::kMplsBos, 1)},
      {eth(0x88e7), OxmEntry::Masked(F::kPbbIsid, 0x123400, 0xffff00)},
      {OxmEntry::Masked(F::kTunnelId, 0xabcd, 0xffff)},
      {eth(0x86dd), OxmEntry::Masked(F::kIpv6Exthdr, 0x100, 0x1ff)},
  };
  ASSERT_EQ(all.size(), kNumOxmFields);
  for (size_t i = 0; i < all.size(); ++i) {
    Match m;
    for (const OxmEntry& e : all[i]) m.Set(e);
    EXPECT_TRUE(m.Has(static_cast<F>(i))) << i;
    Bytes wire = EncodeBytes(m);
    EXPECT_EQ(wire.size() % 8, 0u);
    OfpResult<Match> back = DecodeBytes(wire);
    ASSERT_TRUE(back) << FieldInfo(static_cast<F>(i)).name << ": " << back.error().detail;
    EXPECT_EQ(*back, m) << FieldInfo(static_cast<F>(i)).name;
  }
}

TEST(OxmMatch, FieldTable) {
  EXPECT_EQ(FieldInfo(F::kIpv6NdTarget).len, 16);
  EXPECT_FALSE(FieldInfo(F::kIpv6NdTarget).maskable);
  EXPECT_EQ(FieldInfo(F::kPbbIsid).len, 3);
  EXPECT_TRUE(FieldInfo(F::kPbbIsid).maskable);
  EXPECT_EQ(FieldInfo(F::kIpv6Exthdr).name, "ipv6_exthdr");
  EXPECT_FALSE(FieldInfo(F::kTcpSrc).maskable);
}

TEST(OxmMatch, WireLayoutAndEmptyMatch) {
  Match m;
  EXPECT_EQ(EncodeBytes(m), (Bytes{0, 1, 0, 4, 0, 0, 0, 0}));
  m.Set(OxmEntry::Exact(F::kInPort, 2));
  EXPECT_EQ(EncodeBytes(m), (Bytes{0, 1, 0, 12, 0x80, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 0}));
  EXPECT_TRUE(DecodeBytes(Bytes{0, 1, 0, 4, 0, 0, 0, 0}));
}

TEST(OxmMatch, BadType) {
  EXPECT_EQ(MatchErr(Bytes{0, 0, 0, 4, 0, 0, 0, 0}), OfpErr::kBadMatchBadType);
  EXPECT_EQ(MatchErr(Bytes{0, 2, 0, 4, 0, 0, 0, 0}), OfpErr::kBadMatchBadType);
}

TEST(OxmMatch, BadLen) {
  EXPECT_EQ(MatchErr(Bytes{0, 1, 0, 3, 0, 0, 0, 0}), OfpErr::kBadMatchBadLen);
  EXPECT_EQ(MatchErr(Bytes{0, 1, 0, 12, 0x80, 0, 0, 4}), OfpErr::kBadMatchBadLen);  // past data
  // in_port with a 2-byte payload.
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 0, 2, 0, 1})), OfpErr::kBadMatchBadLen);
  // TLV header cut short inside the match.
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0})), OfpErr::kBadMatchBadLen);
  // TLV payload runs past the match length.
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 0, 8, 0, 0, 0, 1})), OfpErr::kBadMatchBadLen);
  // Masked eth_dst with only 6 bytes.
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 7, 6, 1, 2, 3, 4, 5, 6})), OfpErr::kBadMatchBadLen);
  EXPECT_EQ(MatchErr(Bytes{0, 1}), OfpErr::kBadMatchBadLen);
}

TEST(OxmMatch, BadField) {
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 40 << 1, 1, 0})), OfpErr::kBadMatchBadField);
  EXPECT_EQ(MatchErr(OneTlv({0x00, 0x02, 2, 0, 1})), OfpErr::kBadMatchBadField);  // NXM_0
  EXPECT_EQ(MatchErr(OneTlv({0xff, 0xff, 0, 4, 0, 0, 0x23, 0x20})), OfpErr::kBadMatchBadField);
}

TEST(OxmMatch, BadMaskOnUnmaskableField) {
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 1, 8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff})),
            OfpErr::kBadMatchBadMask);
}

TEST(OxmMatch, DupField) {
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 0, 4, 0, 0, 0, 1, 0x80, 0, 0, 4, 0, 0, 0, 2})),
            OfpErr::kBadMatchDupField);
}

TEST(OxmMatch, BadWildcardsValueOutsideMask) {
  // metadata 0x3/0x1: no prerequisites, so only the mask check can fail.
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 5, 16, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 1})),
            OfpErr::kBadMatchBadWildcards);
}

TEST(OxmMatch, BadValue) {
  // A VID wider than 13 bits.
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 6 << 1, 2, 0x20, 0})), OfpErr::kBadMatchBadValue);
  EXPECT_EQ(MatchErr(OneTlv({0x80, 0, 6 << 1, 2, 0x00, 5})), OfpErr::kBadMatchBadValue);  // no flag
  Bytes pcp = OneTlv({0x80, 0, 6 << 1, 2, 0x10, 1, 0x80, 0, 7 << 1, 1, 8});
  EXPECT_EQ(MatchErr(pcp), OfpErr::kBadMatchBadValue);
  Bytes dscp = OneTlv({0x80, 0, 5 << 1, 2, 8, 0, 0x80, 0, 8 << 1, 1, 64});
  EXPECT_EQ(MatchErr(dscp), OfpErr::kBadMatchBadValue);
  Bytes label = OneTlv({0x80, 0, 5 << 1, 2, 0x88, 0x47, 0x80, 0, 34 << 1, 4, 0, 0x10, 0, 0});
  EXPECT_EQ(MatchErr(label), OfpErr::kBadMatchBadValue);
}

TEST(OxmMatch, BadPrereq) {
  auto expect_prereq = [](std::vector<OxmEntry> entries) {
    Match m;
    for (const OxmEntry& e : entries) m.Set(e);
    EXPECT_EQ(MatchErr(EncodeBytes(m)), OfpErr::kBadMatchBadPrereq)
        << FieldInfo(entries.back().field).name;
  };
  auto eth = [](uint16_t t) { return OxmEntry::Exact(F::kEthType, t); };
  auto proto = [](uint8_t p) { return OxmEntry::Exact(F::kIpProto, p); };
  expect_prereq({OxmEntry::Exact(F::kIpv4Dst, 1)});
  expect_prereq({eth(0x86dd), OxmEntry::Exact(F::kIpv4Dst, 1)});
  expect_prereq({eth(0x0800), OxmEntry::Exact(F::kTcpDst, 80)});
  expect_prereq({eth(0x0800), proto(17), OxmEntry::Exact(F::kTcpDst, 80)});
  expect_prereq({proto(6)});
  expect_prereq({OxmEntry::Exact(F::kVlanPcp, 3)});
  expect_prereq({OxmEntry::Exact(F::kVlanVid, 0), OxmEntry::Exact(F::kVlanPcp, 3)});  // NONE
  expect_prereq({OxmEntry::Exact(F::kInPhyPort, 1)});
  expect_prereq({eth(0x0800), OxmEntry::Exact(F::kArpOp, 1)});
  expect_prereq({eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Type, 128),
                 OxmEntry::Exact(F::kIpv6NdSll, 1)});
  expect_prereq({eth(0x86dd), proto(58), OxmEntry::Exact(F::kIcmpv6Type, 135),
                 OxmEntry::Exact(F::kIpv6NdTll, 1)});
  expect_prereq({eth(0x0800), OxmEntry::Exact(F::kMplsBos, 1)});
  expect_prereq({OxmEntry::Exact(F::kPbbIsid, 1)});
  expect_prereq({eth(0x0800), OxmEntry::Exact(F::kIpv6Exthdr, 1)});
  // A masked prerequisite does not count: ip_proto is unmaskable, so mask the VLAN instead.
  expect_prereq({OxmEntry::Masked(F::kVlanVid, 0, 0x0fff), OxmEntry::Exact(F::kVlanPcp, 3)});
}

TEST(OxmMatch, TypedAccessors) {
  Match m;
  m.Set(OxmEntry::Masked(F::kIpv4Dst, 0x0a000000, 0xff000000));
  m.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  ASSERT_EQ(m.fields().size(), 2u);
  EXPECT_EQ(m.fields()[0].field, F::kEthType);  // kept in field order
  EXPECT_TRUE(m.IsExactly(F::kEthType, 0x0800));
  EXPECT_FALSE(m.IsExactly(F::kIpv4Dst, 0x0a000000));
  EXPECT_EQ(m.Find(F::kIpv4Dst)->MaskU64(), 0xff000000u);
  EXPECT_EQ(m.Find(F::kEthType)->MaskU64(), 0xffffu);
  m.Set(OxmEntry::Exact(F::kEthType, 0x86dd));
  EXPECT_EQ(m.fields().size(), 2u);
  m.Erase(F::kEthType);
  EXPECT_FALSE(CheckPrereqs(m));
  EXPECT_TRUE(PrereqsMet(m, F::kEthDst));
}

}  // namespace
}  // namespace sluice::ofp::test
