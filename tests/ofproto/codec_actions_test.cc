#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;

Bytes EncodeActs(const ActionList& a) {
  Bytes b;
  Writer w(&b);
  EncodeActions(a, w);
  EXPECT_EQ(b.size(), EncodedActionsLen(a));
  return b;
}

OfpErr ActErr(const Bytes& b) {
  OfpResult<ActionList> r = DecodeActions(b);
  EXPECT_FALSE(r);
  return r ? OfpErr{} : r.error().err;
}

OfpErr InstErr(const Bytes& b, uint8_t table = 0) {
  OfpResult<InstructionList> r = DecodeInstructions(b, table);
  EXPECT_FALSE(r);
  return r ? OfpErr{} : r.error().err;
}

ActionList AllActions() {
  return {ActOutput{2, 0},
          ActOutput{kPortController, kControllerNoBuffer},
          ActCopyTtlOut{},
          ActCopyTtlIn{},
          ActSetMplsTtl{63},
          ActDecMplsTtl{},
          ActPushVlan{0x88a8},
          ActPopVlan{},
          ActPushMpls{0x8848},
          ActPopMpls{0x86dd},
          ActSetQueue{5},
          ActGroup{kGroupMax},
          ActSetNwTtl{1},
          ActDecNwTtl{},
          ActSetField{OxmEntry::Exact(F::kVlanVid, kVidPresent | 100)},
          ActSetField{OxmEntry::Exact(F::kEthDst, 0x0a0000000001)},
          ActPushPbb{0x88e7},
          ActPopPbb{},
          ActExperimenter{0x2320, {0, 1, 2, 3, 4, 5, 6, 7}}};
}

TEST(OfpActions, AllTypesRoundTrip) {
  ActionList acts = AllActions();
  Bytes wire = EncodeActs(acts);
  OfpResult<ActionList> back = DecodeActions(wire);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, acts);
}

TEST(OfpActions, WireLayout) {
  EXPECT_EQ(EncodeActs({ActOutput{2, 0xffe5}}),
            (Bytes{0, 0, 0, 16, 0, 0, 0, 2, 0xff, 0xe5, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(EncodeActs({ActPushVlan{0x8100}}), (Bytes{0, 17, 0, 8, 0x81, 0, 0, 0}));
  // set_field ipv4_dst: 4 + 8 bytes, padded to 16.
  EXPECT_EQ(EncodeActs({ActSetField{OxmEntry::Exact(F::kIpv4Dst, 0x0a000001)}}),
            (Bytes{0, 25, 0, 16, 0x80, 0, 24, 4, 10, 0, 0, 1, 0, 0, 0, 0}));
}

TEST(OfpActions, BadLenAndType) {
  EXPECT_EQ(ActErr({0, 0, 0, 8, 0, 0, 0, 2}), OfpErr::kBadActionBadLen);  // output of 8
  EXPECT_EQ(ActErr({0, 11, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
            OfpErr::kBadActionBadLen);                         // copy_ttl_out of 16
  EXPECT_EQ(ActErr({0, 11, 0, 4}), OfpErr::kBadActionBadLen);  // below 8
  EXPECT_EQ(ActErr({0, 11, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0}), OfpErr::kBadActionBadLen);
  EXPECT_EQ(ActErr({0, 11, 0, 16, 0, 0, 0, 0}), OfpErr::kBadActionBadLen);  // past the end
  EXPECT_EQ(ActErr({0, 11}), OfpErr::kBadActionBadLen);
  EXPECT_EQ(ActErr({0, 1, 0, 8, 0, 0, 0, 0}), OfpErr::kBadActionBadType);  // 1.0's set_vlan_vid
  EXPECT_EQ(ActErr({0, 28, 0, 8, 0, 0, 0, 0}), OfpErr::kBadActionBadType);
}

TEST(OfpActions, BadOutPortAndGroupAndArgument) {
  EXPECT_EQ(ActErr(EncodeActs({ActOutput{0, 0}})), OfpErr::kBadActionBadOutPort);
  EXPECT_EQ(ActErr(EncodeActs({ActOutput{kPortAny, 0}})), OfpErr::kBadActionBadOutPort);
  EXPECT_EQ(ActErr(EncodeActs({ActOutput{0xffffff01, 0}})), OfpErr::kBadActionBadOutPort);
  EXPECT_TRUE(DecodeActions(EncodeActs({ActOutput{kPortInPort, 0}})));
  EXPECT_EQ(ActErr(EncodeActs({ActGroup{kGroupAll}})), OfpErr::kBadActionBadOutGroup);
  EXPECT_EQ(ActErr(EncodeActs({ActPushVlan{0x0800}})), OfpErr::kBadActionBadArgument);
  EXPECT_EQ(ActErr(EncodeActs({ActPushMpls{0x8100}})), OfpErr::kBadActionBadArgument);
  EXPECT_EQ(ActErr(EncodeActs({ActPushPbb{0x8100}})), OfpErr::kBadActionBadArgument);
}

TEST(OfpActions, SetFieldErrors) {
  // Unknown field 45 -> BAD_SET_TYPE.
  EXPECT_EQ(ActErr({0, 25, 0, 8, 0x80, 0, 90, 0}), OfpErr::kBadActionBadSetType);
  // Not settable: in_port.
  EXPECT_EQ(ActErr({0, 25, 0, 16, 0x80, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0}),
            OfpErr::kBadActionBadSetType);
  // ipv4_dst with a 2-byte value -> BAD_SET_LEN.
  EXPECT_EQ(ActErr({0, 25, 0, 16, 0x80, 0, 24, 2, 10, 0, 0, 0, 0, 0, 0, 0}),
            OfpErr::kBadActionBadSetLen);
  // Action longer than its OXM needs.
  EXPECT_EQ(ActErr({0, 25, 0, 24, 0x80, 0, 24, 4, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
            OfpErr::kBadActionBadSetLen);
  // Masked set-field -> BAD_SET_ARGUMENT.
  EXPECT_EQ(ActErr({0, 25, 0, 16, 0x80, 0, 25, 8, 10, 0, 0, 0, 255, 0, 0, 0}),
            OfpErr::kBadActionBadSetArgument);
  // vlan_pcp 9 -> BAD_SET_ARGUMENT.
  EXPECT_EQ(ActErr({0, 25, 0, 16, 0x80, 0, 14, 1, 9, 0, 0, 0, 0, 0, 0, 0}),
            OfpErr::kBadActionBadSetArgument);
}

TEST(OfpInstructions, AllTypesRoundTrip) {
  InstructionList insts = {InstGotoTable{5},
                           InstWriteMetadata{0x1234, 0xffff},
                           InstWriteActions{{ActOutput{1, 0}, ActSetQueue{2}}},
                           InstApplyActions{AllActions()},
                           InstClearActions{},
                           InstMeter{7},
                           InstExperimenter{0x2320, {1, 2, 3, 4, 5, 6, 7, 8}}};
  Bytes wire;
  Writer w(&wire);
  EncodeInstructions(insts, w);
  OfpResult<InstructionList> back = DecodeInstructions(wire, 1);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, insts);
}

TEST(OfpInstructions, Errors) {
  EXPECT_EQ(InstErr({0, 7, 0, 8, 0, 0, 0, 0}), OfpErr::kBadInstUnknownInst);
  EXPECT_EQ(InstErr({0, 1, 0, 8, 3, 0, 0, 0}, 3), OfpErr::kBadInstBadTableId);  // same table
  EXPECT_EQ(InstErr({0, 1, 0, 8, 2, 0, 0, 0}, 3), OfpErr::kBadInstBadTableId);  // backwards
  EXPECT_EQ(InstErr({0, 1, 0, 8, 0xff, 0, 0, 0}, 3), OfpErr::kBadInstBadTableId);
  EXPECT_TRUE(DecodeInstructions(Bytes{0, 1, 0, 8, 4, 0, 0, 0}, 3));
  EXPECT_EQ(InstErr({0, 5, 0, 8, 0, 0, 0, 0, 0, 5, 0, 8, 0, 0, 0, 0}), OfpErr::kBadInstDupInst);
  EXPECT_EQ(InstErr({0, 1, 0, 16, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), OfpErr::kBadInstBadLen);
  EXPECT_EQ(InstErr({0, 2, 0, 8, 0, 0, 0, 0}), OfpErr::kBadInstBadLen);  // write_metadata of 8
  EXPECT_EQ(InstErr({0, 5, 0, 16, 0, 0, 0, 0, 0, 18, 0, 8, 0, 0, 0, 0}),
            OfpErr::kBadInstBadLen);  // clear_actions carrying an action
  EXPECT_EQ(InstErr({0, 4, 0, 6, 0, 0}), OfpErr::kBadInstBadLen);
  EXPECT_EQ(InstErr({0, 4, 0, 16, 0, 0, 0, 0}), OfpErr::kBadInstBadLen);
  EXPECT_EQ(InstErr({0, 4}), OfpErr::kBadInstBadLen);
  // An action error inside apply_actions surfaces as the action error.
  EXPECT_EQ(InstErr({0, 4, 0, 16, 0, 0, 0, 0, 0, 99, 0, 8, 0, 0, 0, 0}), OfpErr::kBadActionBadType);
}

}  // namespace
}  // namespace sluice::ofp::test
