#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;

Match IpDst8() {
  Match m;
  m.Set(OxmEntry::Exact(F::kEthType, 0x0800));
  m.Set(OxmEntry::Masked(F::kIpv4Dst, 0x0a000000, 0xff000000));
  return m;
}

// What `ovs-ofctl -O OpenFlow13 add-flow br0 "ip,nw_dst=10.0.0.0/8,actions=output:2"` sends.
const Bytes kAddFlowWire = {
    0x04, 0x0e, 0x00, 0x60, 0x00, 0x00, 0x00, 0x02,  // header, 96 bytes
    0,    0,    0,    0,    0,    0,    0,    0,     // cookie
    0,    0,    0,    0,    0,    0,    0,    0,     // cookie_mask
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,  // table, ADD, idle, hard, priority
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // buffer_id, out_port
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,  // out_group, flags, pad
    0x00, 0x01, 0x00, 0x16,                          // OXM match, 22 bytes
    0x80, 0x00, 0x0a, 0x02, 0x08, 0x00,              // eth_type=0x0800
    0x80, 0x00, 0x19, 0x08, 0x0a, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00,  // ipv4_dst/8
    0x00, 0x00,                                                              // match padding
    0x00, 0x04, 0x00, 0x18, 0x00, 0x00, 0x00, 0x00,                          // apply_actions
    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0,    0,    0, 0, 0, 0,  // output:2
};

FlowMod AddFlow() {
  FlowMod f;
  f.match = IpDst8();
  f.instructions = {InstApplyActions{{ActOutput{2, 0}}}};
  return f;
}

TEST(OfpFlowMod, MatchesOvsOfctlBytes) {
  Message m = Msg(AddFlow(), 2);
  EXPECT_EQ(Encode(m), kAddFlowWire);
  OfpResult<Message> d = DecodeMessage(kAddFlowWire);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, m);
}

TEST(OfpFlowMod, AllCommandsAndFieldsRoundTrip) {
  for (uint8_t c = 0; c <= 4; ++c) {
    FlowMod f = AddFlow();
    f.command = static_cast<FlowModCommand>(c);
    f.cookie = 0x0102030405060708;
    f.cookie_mask = ~uint64_t{0};
    f.table_id = 3;
    f.idle_timeout = 10;
    f.hard_timeout = 20;
    f.priority = 7;
    f.buffer_id = 99;
    f.out_port = 4;
    f.out_group = 5;
    f.flags = kFlowAllFlags;
    f.instructions.push_back(InstGotoTable{4});
    ExpectRoundTrip(Msg(f));
  }
  FlowMod del;
  del.command = FlowModCommand::kDelete;
  del.table_id = kTableAll;
  ExpectRoundTrip(Msg(del));
}

TEST(OfpFlowMod, Errors) {
  Bytes b = kAddFlowWire;
  b[25] = 5;  // command
  EXPECT_EQ(DecodeErr(b), OfpErr::kFlowModBadCommand);
  b = kAddFlowWire;
  b[45] = 0x20;  // flags
  EXPECT_EQ(DecodeErr(b), OfpErr::kFlowModBadFlags);
  b = kAddFlowWire;
  b[24] = 0xff;  // OFPTT_ALL in an add
  EXPECT_EQ(DecodeErr(b), OfpErr::kFlowModBadTableId);
  b = kAddFlowWire;
  b[56] = 0x86, b[57] = 0xdd;
  EXPECT_EQ(DecodeErr(b), OfpErr::kBadMatchBadPrereq);  // ipv4_dst under eth_type 0x86dd
  b = kAddFlowWire;
  b[48 + 1] = 0;  // match type STANDARD
  EXPECT_EQ(DecodeErr(b), OfpErr::kBadMatchBadType);
  b = kAddFlowWire;
  b[87] = 0;  // output port 0
  EXPECT_EQ(DecodeErr(b), OfpErr::kBadActionBadOutPort);
  b = Bytes(kAddFlowWire.begin(), kAddFlowWire.begin() + 48);
  b[3] = 48;
  EXPECT_EQ(DecodeErr(b), OfpErr::kBadRequestBadLen);
}

TEST(OfpPacketIn, RoundTripAndLayout) {
  PacketIn p;
  p.buffer_id = kNoBuffer;
  p.total_len = 60;
  p.reason = PacketInReason::kAction;
  p.table_id = 2;
  p.cookie = 0xabc;
  p.match.Set(OxmEntry::Exact(F::kInPort, 1));
  p.data = Bytes(60, 0x5a);
  Message m = Msg(p);
  ExpectRoundTrip(m);
  Bytes wire = Encode(m);
  EXPECT_EQ(wire.size(), 8u + 16 + 16 + 2 + 60);
  EXPECT_EQ(wire[8 + 16 + 16], 0);  // 2 pad bytes before the frame
  EXPECT_EQ(wire[8 + 16 + 16 + 2], 0x5a);
}

TEST(OfpPacketOut, RoundTripAndErrors) {
  PacketOut p;
  p.in_port = kPortController;
  p.actions = {ActOutput{kPortTable, 0}};
  p.data = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  ExpectRoundTrip(Msg(p));
  p.in_port = 0;
  EXPECT_EQ(DecodeErr(Encode(Msg(p))), OfpErr::kBadRequestBadPort);
  p.in_port = 1;
  Bytes b = Encode(Msg(p));
  b[8 + 8] = 0x7f;  // actions_len beyond the message
  EXPECT_EQ(DecodeErr(b), OfpErr::kBadRequestBadLen);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kPacketOut, {0, 0, 0, 1})), OfpErr::kBadRequestBadLen);
}

TEST(OfpFlowRemoved, RoundTrip) {
  FlowRemoved f;
  f.cookie = 1;
  f.priority = 100;
  f.reason = FlowRemovedReason::kGroupDelete;
  f.table_id = 4;
  f.duration_sec = 5;
  f.duration_nsec = 6;
  f.idle_timeout = 7;
  f.hard_timeout = 8;
  f.packet_count = 9;
  f.byte_count = 10;
  f.match = IpDst8();
  ExpectRoundTrip(Msg(f));
}

PortDesc SomePort() {
  PortDesc d;
  d.port_no = 3;
  d.hw_addr = {0, 1, 2, 3, 4, 5};
  d.name = "eth3-with-15chr";
  d.config = 1;
  d.state = 4;
  d.curr = 0x820;
  d.advertised = 0x20;
  d.supported = 0x2820;
  d.peer = 0;
  d.curr_speed = 10000000;
  d.max_speed = 10000000;
  return d;
}

TEST(OfpPort, StatusModAndTableMod) {
  Message status = Msg(PortStatus{PortReason::kModify, SomePort()});
  ExpectRoundTrip(status);
  EXPECT_EQ(Encode(status).size(), 80u);
  ExpectRoundTrip(Msg(PortMod{3, {0, 1, 2, 3, 4, 5}, 1, 1, 0x20}));
  ExpectRoundTrip(Msg(PortMod{kPortLocal, {}, 0, 0, 0}));
  EXPECT_EQ(Encode(Msg(PortMod{})).size(), 40u);
  EXPECT_EQ(DecodeErr(Encode(Msg(PortMod{kPortAny, {}, 0, 0, 0}))), OfpErr::kPortModBadPort);
  ExpectRoundTrip(Msg(TableMod{kTableAll, 3}));
  EXPECT_EQ(DecodeErr(Encode(Msg(TableMod{1, 4}))), OfpErr::kTableModBadConfig);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kTableMod, {0})), OfpErr::kBadRequestBadLen);
}

TEST(OfpGroupMod, RoundTripAndErrors) {
  GroupMod g;
  g.command = GroupModCommand::kModify;
  g.type = GroupType::kSelect;
  g.group_id = 10;
  g.buckets = {Bucket{3, kPortAny, kGroupAny, {ActOutput{1, 0}}},
               Bucket{1, 2, 7, {ActPopVlan{}, ActOutput{2, 0}}}, Bucket{0, 1, 1, {}}};
  ExpectRoundTrip(Msg(g));
  Bytes wire = Encode(Msg(g));
  EXPECT_EQ(wire[8 + 8 + 1], 32);  // first bucket: 16 + one output action
  g.command = GroupModCommand::kDelete;
  g.group_id = kGroupAll;
  g.buckets.clear();
  ExpectRoundTrip(Msg(g));
  g.command = GroupModCommand::kAdd;
  EXPECT_EQ(DecodeErr(Encode(Msg(g))), OfpErr::kGroupModInvalidGroup);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kGroupMod, {0, 3, 0, 0, 0, 0, 0, 1})),
            OfpErr::kGroupModBadCommand);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kGroupMod, {0, 0, 4, 0, 0, 0, 0, 1})), OfpErr::kGroupModBadType);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kGroupMod, {0, 0, 0, 0, 0, 0, 0, 1, 0, 8, 0, 0,
                                               0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})),
            OfpErr::kGroupModBadBucket);
}

TEST(OfpMeterMod, RoundTripAndErrors) {
  MeterMod m;
  m.command = MeterModCommand::kAdd;
  m.flags = kMeterKbps | kMeterBurst | kMeterStats;
  m.meter_id = 1;
  m.bands = {MeterBand{MeterBandType::kDrop, 1000, 100, 0, 0},
             MeterBand{MeterBandType::kDscpRemark, 500, 50, 2, 0},
             MeterBand{MeterBandType::kExperimenter, 1, 2, 0, 0x2320}};
  ExpectRoundTrip(Msg(m));
  EXPECT_EQ(Encode(Msg(m)).size(), 16u + 3 * 16);
  m.flags = 0x10;
  EXPECT_EQ(DecodeErr(Encode(Msg(m))), OfpErr::kMeterModBadFlags);
  m.flags = kMeterKbps;
  m.meter_id = 0;
  EXPECT_EQ(DecodeErr(Encode(Msg(m))), OfpErr::kMeterModInvalidMeter);
  m.meter_id = kMeterAll;
  EXPECT_EQ(DecodeErr(Encode(Msg(m))), OfpErr::kMeterModInvalidMeter);
  m.command = MeterModCommand::kDelete;
  m.bands.clear();
  ExpectRoundTrip(Msg(m));
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMeterMod, {0, 3, 0, 0, 0, 0, 0, 1})),
            OfpErr::kMeterModBadCommand);
  EXPECT_EQ(DecodeErr(Raw(MsgType::kMeterMod, {0, 0, 0, 1, 0, 0, 0, 1, 0, 3, 0, 16,
                                               0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0})),
            OfpErr::kMeterModBadBand);
}

}  // namespace
}  // namespace sluice::ofp::test
