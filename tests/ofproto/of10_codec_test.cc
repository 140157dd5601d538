// The OpenFlow 1.0 wire codec: 1.0 messages decode into the typed (1.3) messages and encode back
// byte for byte; matches, actions, ports and errors convert as of10_codec.cc describes; what 1.0
// cannot express fails to encode with kUnsupported.
#include <gtest/gtest.h>

#include "ofproto/codec_test_util.h"

namespace sluice::ofp::test {
namespace {

using F = OxmField;

Message Msg10(MessageBody body, uint32_t xid = 0x12345678) {
  return Message{kOfp10, xid, std::move(body)};
}

// Encodes in 1.0, checks the header, decodes, expects the same message and the same bytes.
void ExpectRoundTrip10(const Message& m, uint8_t wire_type) {
  Bytes wire = Encode(m);
  ASSERT_GE(wire.size(), 8u);
  EXPECT_EQ(wire[0], kOfp10);
  EXPECT_EQ(wire[1], wire_type);
  EXPECT_EQ((size_t{wire[2]} << 8 | wire[3]), wire.size());
  OfpResult<Message> back = DecodeMessage(wire);
  ASSERT_TRUE(back.has_value()) << OfpErrName(back.error().err) << " " << back.error().detail;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(Encode(*back), wire);
}

Errc EncodeErr(const Message& m) {
  Result<Bytes> b = EncodeMessage(m);
  EXPECT_FALSE(b.has_value());
  return b ? Errc::kOk : b.error().code;
}

// A 1.0 ofp_match: wildcards and the 36 bytes after them.
Bytes Match10(uint32_t wildcards, std::initializer_list<uint8_t> rest = {}) {
  Bytes b = {uint8_t(wildcards >> 24), uint8_t(wildcards >> 16), uint8_t(wildcards >> 8),
             uint8_t(wildcards)};
  for (uint8_t v : rest) b.push_back(v);
  b.resize(40, 0);
  return b;
}

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Bytes Raw10(uint8_t type, const Bytes& body, uint32_t xid = 1) {
  Bytes b = {kOfp10,      type, 0, 0, uint8_t(xid >> 24), uint8_t(xid >> 16), uint8_t(xid >> 8),
             uint8_t(xid)};
  b.insert(b.end(), body.begin(), body.end());
  b[2] = static_cast<uint8_t>(b.size() >> 8);
  b[3] = static_cast<uint8_t>(b.size());
  return b;
}

Match MatchOf(std::initializer_list<OxmEntry> entries) {
  Match m;
  for (const OxmEntry& e : entries) m.Set(e);
  return m;
}

TEST(Of10Codec, SymmetricAndSetupMessagesRoundTrip) {
  ExpectRoundTrip10(Msg10(Hello{}), 0);
  ExpectRoundTrip10(Msg10(ErrorMsg{1, 6, 0, {1, 2}}), 1);
  ExpectRoundTrip10(Msg10(EchoRequest{{1, 2, 3}}), 2);
  ExpectRoundTrip10(Msg10(EchoReply{{}}), 3);
  ExpectRoundTrip10(Msg10(ExperimenterMsg{0x2320, 0, {0, 0, 0, 1}}), 4);
  ExpectRoundTrip10(Msg10(FeaturesRequest{}), 5);
  ExpectRoundTrip10(Msg10(GetConfigRequest{}), 7);
  ExpectRoundTrip10(Msg10(GetConfigReply{{1, 128}}), 8);
  ExpectRoundTrip10(Msg10(SetConfig{{0, 0xffff}}), 9);
  ExpectRoundTrip10(Msg10(BarrierRequest{}), 18);
  ExpectRoundTrip10(Msg10(BarrierReply{}), 19);
  ExpectRoundTrip10(Msg10(QueueGetConfigRequest{3}), 20);
  ExpectRoundTrip10(Msg10(QueueGetConfigRequest{kPortAny}), 20);
  ExpectRoundTrip10(Msg10(QueueGetConfigReply{
                        3, {PacketQueue{1, 3, {QueueProp{QueuePropType::kMinRate, 5, 0, {}}}}}}),
                    21);
  EXPECT_EQ(Encode(Msg10(BarrierRequest{}, 9)), (Bytes{1, 18, 0, 8, 0, 0, 0, 9}));
  // OFPP_ALL (0xfffc) asks for every port's queues, as OFPP_ANY does in 1.3.
  EXPECT_EQ(Encode(Msg10(QueueGetConfigRequest{kPortAny}, 1)),
            (Bytes{1, 20, 0, 12, 0, 0, 0, 1, 0xff, 0xfc, 0, 0}));
}

TEST(Of10Codec, FeaturesReplyCarriesPorts) {
  FeaturesReply f;
  f.datapath_id = 0xaa;
  f.n_tables = 254;
  f.capabilities = 0x1 | 0x2 | 0x4 | 0x40;
  PortDesc p1;
  p1.port_no = 1;
  p1.name = "p1";
  p1.hw_addr = {0, 1, 2, 3, 4, 5};
  p1.config = 0x1;                       // PORT_DOWN
  p1.state = 0x1;                        // LINK_DOWN
  p1.curr = (1 << 6) | (1 << 13);        // 10GB_FD | AUTONEG (1.3 bits)
  p1.supported = (1 << 11) | (1 << 15);  // COPPER | PAUSE_ASYM
  PortDesc local;
  local.port_no = kPortLocal;
  local.name = "br0";
  f.ports = {p1, local};
  ExpectRoundTrip10(Msg10(f), 6);
  Bytes wire = Encode(Msg10(f, 1));
  ASSERT_EQ(wire.size(), 8u + 24 + 2 * 48);
  // Capabilities gain ARP_MATCH_IP; every 1.0 action is offered.
  EXPECT_EQ(Bytes(wire.begin() + 24, wire.begin() + 32), (Bytes{0, 0, 0, 0xc7, 0, 0, 0x0f, 0xff}));
  // Port 1: 16-bit number, then the 1.0 feature bits (10GB_FD = 1<<6, AUTONEG = 1<<9).
  EXPECT_EQ(wire[32], 0);
  EXPECT_EQ(wire[33], 1);
  EXPECT_EQ(Bytes(wire.begin() + 32 + 32, wire.begin() + 32 + 36), (Bytes{0, 0, 0x02, 0x40}));
  EXPECT_EQ(wire[32 + 48], 0xff);  // OFPP_LOCAL is 0xfffe
  EXPECT_EQ(wire[32 + 49], 0xfe);
  // The 1.3 layout has no ports: they are ignored there.
  Bytes wire13 = Encode(Msg(f));
  EXPECT_EQ(wire13.size(), 32u);
}

TEST(Of10Codec, FlowModFromOvsOfctl) {
  // "in_port=1,actions=output:2" as ovs-ofctl sends it over OpenFlow 1.0.
  Bytes body =
      Cat({Match10(0x3ffffe, {0, 1}),
           {0,    0,    0,    0,    0,    0,    0,    0,     // cookie
            0,    0,    0,    0,    0,    0,    0x80, 0,     // add, idle, hard, priority 0x8000
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,    0,     // buffer, out_port NONE, flags
            0,    0,    0,    8,    0,    2,    0,    0}});  // output:2
  OfpResult<Message> m = DecodeMessage(Raw10(14, body));
  ASSERT_TRUE(m.has_value()) << m.error().detail;
  const auto& fm = std::get<FlowMod>(m->body);
  EXPECT_EQ(fm.command, FlowModCommand::kAdd);
  EXPECT_EQ(fm.table_id, 0);
  EXPECT_EQ(fm.priority, 0x8000);
  EXPECT_EQ(fm.out_port, kPortAny);
  EXPECT_EQ(fm.match, MatchOf({OxmEntry::Exact(F::kInPort, 1)}));
  EXPECT_EQ(fm.instructions, (InstructionList{InstApplyActions{{ActOutput{2, 0}}}}));
  EXPECT_EQ(Encode(*m), Raw10(14, body));

  // Deletes apply to every table; bad commands and emergency flows are refused.
  FlowMod del;
  del.command = FlowModCommand::kDeleteStrict;
  del.table_id = kTableAll;
  del.priority = 5;
  ExpectRoundTrip10(Msg10(del), 14);
  Bytes bad = Raw10(14, body);
  bad[8 + 40 + 9] = 5;  // command
  EXPECT_EQ(DecodeErr(bad), OfpErr::kFlowModBadCommand);
  bad = Raw10(14, body);
  bad[8 + 40 + 23] = 4;  // OFPFF_EMERG
  EXPECT_EQ(DecodeErr(bad), OfpErr::kFlowModBadFlags);
}

TEST(Of10Codec, MatchConversion) {
  FlowMod fm;
  // ip,nw_src=10.1.2.0/24,nw_dst=10.0.0.1,nw_tos=0x10,tcp,tp_dst=80, on VLAN 5 pcp 3, from port 7
  fm.match =
      MatchOf({OxmEntry::Exact(F::kInPort, 7), OxmEntry::Exact(F::kEthType, 0x0800),
               OxmEntry::Exact(F::kVlanVid, kVidPresent | 5), OxmEntry::Exact(F::kVlanPcp, 3),
               OxmEntry::Exact(F::kIpDscp, 4), OxmEntry::Exact(F::kIpProto, 6),
               OxmEntry::Masked(F::kIpv4Src, 0x0a010200, 0xffffff00),
               OxmEntry::Exact(F::kIpv4Dst, 0x0a000001), OxmEntry::Exact(F::kTcpDst, 80)});
  ExpectRoundTrip10(Msg10(fm), 14);
  Bytes wire = Encode(Msg10(fm, 1));
  // Wildcards: dl_src, dl_dst, tp_src; nw_src 8 bits wildcarded; nothing else.
  uint32_t w = uint32_t{wire[8]} << 24 | wire[9] << 16 | wire[10] << 8 | wire[11];
  EXPECT_EQ(w, (1u << 2) | (1u << 3) | (1u << 6) | (8u << 8));
  EXPECT_EQ(wire[8 + 24], 0x10);  // nw_tos is the DSCP shifted left by two

  // No tag; ICMP type and code in tp_src/tp_dst; ARP opcode and addresses in nw_*.
  FlowMod icmp;
  icmp.match = MatchOf({OxmEntry::Exact(F::kEthType, 0x0800), OxmEntry::Exact(F::kVlanVid, 0),
                        OxmEntry::Exact(F::kIpProto, 1), OxmEntry::Exact(F::kIcmpv4Type, 8),
                        OxmEntry::Exact(F::kIcmpv4Code, 0)});
  ExpectRoundTrip10(Msg10(icmp), 14);
  FlowMod arp;
  arp.match = MatchOf({OxmEntry::Exact(F::kEthType, 0x0806), OxmEntry::Exact(F::kArpOp, 1),
                       OxmEntry::Masked(F::kArpTpa, 0x0a000000, 0xff000000)});
  ExpectRoundTrip10(Msg10(arp), 14);
  // Any tag with priority 2 (dl_vlan wildcarded, dl_vlan_pcp not).
  FlowMod pcp;
  pcp.match = MatchOf(
      {OxmEntry::Masked(F::kVlanVid, kVidPresent, kVidPresent), OxmEntry::Exact(F::kVlanPcp, 2)});
  ExpectRoundTrip10(Msg10(pcp), 14);

  // Fields whose 1.0 prerequisites fail are ignored: nw_src without dl_type, tp_dst without an
  // exact nw_proto, a priority on untagged traffic.
  Bytes body =
      Cat({Match10(0x3fffff & ~((1u << 4) | (1u << 7) | (1u << 1) | (1u << 20) | (0x3fu << 8))),
           Bytes(24, 0)});
  body[4 + 2 + 12] = 0xff;  // dl_vlan = OFPVID_NONE
  body[4 + 2 + 13] = 0xff;
  body[4 + 2 + 14] = 5;     // dl_vlan_pcp
  body[4 + 2 + 16] = 0x86;  // dl_type = IPv6
  body[4 + 2 + 17] = 0xdd;
  body[28] = 10;  // nw_src (ignored)
  OfpResult<Message> m = DecodeMessage(Raw10(14, body));
  ASSERT_TRUE(m.has_value()) << m.error().detail;
  EXPECT_EQ(std::get<FlowMod>(m->body).match,
            MatchOf({OxmEntry::Exact(F::kEthType, 0x86dd), OxmEntry::Exact(F::kVlanVid, 0)}));
}

TEST(Of10Codec, MatchesThatOneZeroCannotExpress) {
  auto with = [](OxmEntry e, std::initializer_list<OxmEntry> more = {}) {
    FlowMod fm;
    for (const OxmEntry& m : more) fm.match.Set(m);
    fm.match.Set(e);
    return Msg10(fm);
  };
  EXPECT_EQ(EncodeErr(with(OxmEntry::Masked(F::kEthDst, 0x010000000000, 0x010000000000))),
            Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(with(OxmEntry::Exact(F::kMetadata, 1))), Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(with(OxmEntry::Masked(F::kIpv4Src, 0x0a000001, 0xff0000ff),
                           {OxmEntry::Exact(F::kEthType, 0x0800)})),
            Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(with(OxmEntry::Exact(F::kInPort, 0x10000))), Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(with(OxmEntry::Masked(F::kVlanVid, kVidPresent, kVidPresent))),
            Errc::kUnsupported);
}

TEST(Of10Codec, ActionConversion) {
  PacketOut po;
  po.in_port = kPortController;
  po.actions = {ActSetField{OxmEntry::Exact(F::kVlanVid, kVidPresent | 10)},
                ActSetField{OxmEntry::Exact(F::kVlanPcp, 5)},
                ActPopVlan{},
                ActSetField{OxmEntry::Exact(F::kEthSrc, 0x020000000001)},
                ActSetField{OxmEntry::Exact(F::kEthDst, 0x020000000002)},
                ActSetField{OxmEntry::Exact(F::kIpv4Src, 1)},
                ActSetField{OxmEntry::Exact(F::kIpv4Dst, 2)},
                ActSetField{OxmEntry::Exact(F::kIpDscp, 46)},
                ActSetField{OxmEntry::Exact(F::kTcpSrc, 1000)},
                ActSetField{OxmEntry::Exact(F::kTcpDst, 2000)},
                ActSetQueue{3},
                ActOutput{4, 0},
                ActOutput{kPortController, 128},
                ActExperimenter{0x2320, {0, 1, 2, 3, 4, 5, 6, 7}}};
  po.data = {0xde, 0xad};
  ExpectRoundTrip10(Msg10(po), 13);
  // set_queue + output is one enqueue (16 bytes) on the wire.
  Bytes wire =
      Encode(Msg10(PacketOut{kNoBuffer, kPortAny, {ActSetQueue{3}, ActOutput{4, 0}}, {}}, 1));
  EXPECT_EQ(wire, (Bytes{1, 13, 0, 32, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 16,
                         0, 11, 0, 16, 0, 4, 0, 0, 0,    0,    0,    0,    0,    0,    0, 3}));

  // set_tp_* rewrites the match's transport: UDP here.
  FlowMod fm;
  fm.match = MatchOf({OxmEntry::Exact(F::kEthType, 0x0800), OxmEntry::Exact(F::kIpProto, 17)});
  fm.instructions = {InstApplyActions{{ActSetField{OxmEntry::Exact(F::kUdpDst, 54)}}}};
  ExpectRoundTrip10(Msg10(fm), 14);

  // What 1.0 has no action for.
  for (const Action& a :
       std::initializer_list<Action>{ActGroup{1}, ActDecNwTtl{}, ActPushVlan{}, ActSetQueue{1},
                                     ActSetField{OxmEntry::Exact(F::kMplsLabel, 1)}}) {
    EXPECT_EQ(EncodeErr(Msg10(PacketOut{kNoBuffer, kPortController, {a}, {}})), Errc::kUnsupported);
  }
  FlowMod goto_table;
  goto_table.instructions = {InstGotoTable{1}};
  EXPECT_EQ(EncodeErr(Msg10(goto_table)), Errc::kUnsupported);

  // Decoding errors keep the 1.3 codes.
  Bytes tos = Raw10(13, {0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 8, 0, 8, 0, 8, 0x11, 0, 0, 0});
  EXPECT_EQ(DecodeErr(tos), OfpErr::kBadActionBadArgument);  // ECN bits in set_nw_tos
  Bytes type = Raw10(13, {0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 8, 0, 12, 0, 8, 0, 0, 0, 0});
  EXPECT_EQ(DecodeErr(type), OfpErr::kBadActionBadType);
  Bytes len = Raw10(13, {0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 8, 0, 0, 0, 16, 0, 0, 0, 0});
  EXPECT_EQ(DecodeErr(len), OfpErr::kBadActionBadLen);
  Bytes port = Raw10(13, {0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, 0, 8, 0, 0, 0, 8, 0, 0, 0, 0});
  EXPECT_EQ(DecodeErr(port), OfpErr::kBadActionBadOutPort);
  Bytes in_port = Raw10(13, {0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 0, 0});
  EXPECT_EQ(DecodeErr(in_port), OfpErr::kBadRequestBadPort);
  // in_port OFPP_NONE (what `ovs-ofctl packet-out ... none` sends) is OFPP_CONTROLLER in 1.3.
  OfpResult<Message> none = DecodeMessage(Raw10(13, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(std::get<PacketOut>(none->body).in_port, kPortController);
}

TEST(Of10Codec, AsyncMessagesRoundTrip) {
  PacketIn pi;
  pi.buffer_id = kNoBuffer;
  pi.total_len = 60;
  pi.reason = PacketInReason::kAction;
  pi.match.Set(OxmEntry::Exact(F::kInPort, 3));
  pi.data = {1, 2, 3};
  ExpectRoundTrip10(Msg10(pi), 10);
  pi.reason = PacketInReason::kInvalidTtl;
  EXPECT_EQ(EncodeErr(Msg10(pi)), Errc::kUnsupported);

  FlowRemoved fr;
  fr.cookie = 1;
  fr.priority = 2;
  fr.reason = FlowRemovedReason::kHardTimeout;
  fr.duration_sec = 3;
  fr.idle_timeout = 4;
  fr.packet_count = 5;
  fr.byte_count = 6;
  fr.match = MatchOf({OxmEntry::Exact(F::kInPort, 1)});
  ExpectRoundTrip10(Msg10(fr), 11);
  // A group delete reads as a delete to a 1.0 controller.
  fr.reason = FlowRemovedReason::kGroupDelete;
  OfpResult<Message> back = DecodeMessage(Encode(Msg10(fr)));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(std::get<FlowRemoved>(back->body).reason, FlowRemovedReason::kDelete);

  PortStatus ps;
  ps.reason = PortReason::kModify;
  ps.desc.port_no = 2;
  ps.desc.name = "p2";
  ExpectRoundTrip10(Msg10(ps), 12);
  PortMod pm{2, {0, 0, 0, 0, 0, 1}, 0x1, 0x1, 1 << 6};
  ExpectRoundTrip10(Msg10(pm), 15);
  // NO_FLOOD (0x10) has no 1.3 meaning.
  Bytes no_flood =
      Raw10(15, {0, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(DecodeErr(no_flood), OfpErr::kPortModBadConfig);
}

TEST(Of10Codec, StatsRoundTrip) {
  FlowStatsRequest fsr;
  fsr.table_id = kTableAll;
  fsr.out_port = kPortAny;
  fsr.match = MatchOf({OxmEntry::Exact(F::kEthType, 0x0806)});
  AggregateRequest agg;
  agg.table_id = 0;
  agg.out_port = 2;
  for (const MultipartRequestBody& b :
       {MultipartRequestBody{DescRequest{}}, MultipartRequestBody{fsr}, MultipartRequestBody{agg},
        MultipartRequestBody{TableStatsRequest{}}, MultipartRequestBody{PortStatsRequest{kPortAny}},
        MultipartRequestBody{PortStatsRequest{kPortLocal}},
        MultipartRequestBody{QueueStatsRequest{kPortAny, 0xffffffff}},
        MultipartRequestBody{QueueStatsRequest{1, 2}}}) {
    ExpectRoundTrip10(Msg10(MultipartRequest{0, b}), 16);
  }
  EXPECT_EQ(Encode(Msg10(MultipartRequest{0, DescRequest{}}, 1)),
            (Bytes{1, 16, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0}));

  FlowStats fs;
  fs.table_id = 0;
  fs.duration_sec = 1;
  fs.priority = 10;
  fs.cookie = 0x99;
  fs.packet_count = 3;
  fs.match = MatchOf({OxmEntry::Exact(F::kInPort, 1)});
  fs.instructions = {InstApplyActions{{ActOutput{2, 0}}}};
  TableStats ts{0, 2, 30, 20};
  PortStats ps;
  ps.port_no = 1;
  ps.rx_packets = 5;
  ps.collisions = 9;
  QueueStats qs{1, 2, 3, 4, 5, 0, 0};
  DescReply d{"m", "h", "s", "n", "dp"};
  for (const MultipartReplyBody& b :
       {MultipartReplyBody{d}, MultipartReplyBody{FlowStatsReply{{fs, fs}}},
        MultipartReplyBody{AggregateReply{1, 2, 3}},
        MultipartReplyBody{TableStatsReply{{ts, TableStats{1, 0, 0, 0}}}},
        MultipartReplyBody{PortStatsReply{{ps}}}, MultipartReplyBody{QueueStatsReply{{qs}}}}) {
    ExpectRoundTrip10(Msg10(MultipartReply{kMultipartMore, b}), 17);
  }
  // Entry sizes: flow stats 88 + actions, table 64, port 104, queue 32.
  EXPECT_EQ(Encode(Msg10(MultipartReply{0, FlowStatsReply{{fs}}})).size(), 12u + 88 + 8);
  EXPECT_EQ(Encode(Msg10(MultipartReply{0, TableStatsReply{{ts}}})).size(), 12u + 64);
  EXPECT_EQ(Encode(Msg10(MultipartReply{0, PortStatsReply{{ps}}})).size(), 12u + 104);
  EXPECT_EQ(Encode(Msg10(MultipartReply{0, QueueStatsReply{{qs}}})).size(), 12u + 32);

  // A flow 1.0 cannot describe is left out of a flow stats reply.
  FlowStats fancy = fs;
  fancy.instructions = {InstGotoTable{1}};
  OfpResult<Message> back =
      DecodeMessage(Encode(Msg10(MultipartReply{0, FlowStatsReply{{fs, fancy, fs}}})));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(std::get<FlowStatsReply>(std::get<MultipartReply>(back->body).body).entries.size(), 2u);

  // 1.3-only multipart types do not exist in 1.0.
  EXPECT_EQ(EncodeErr(Msg10(MultipartRequest{0, GroupDescRequest{}})), Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(Msg10(MultipartReply{0, PortDescReply{}})), Errc::kUnsupported);
  EXPECT_EQ(DecodeErr(Raw10(16, {0, 9, 0, 0})), OfpErr::kBadRequestBadMultipart);
  EXPECT_EQ(DecodeErr(Raw10(16, {0xff, 0xff, 0, 0, 0, 0, 0x23, 0x20})),
            OfpErr::kBadRequestBadExperimenter);
  EXPECT_EQ(DecodeErr(Raw10(16, {0, 4, 0, 0, 0, 1})), OfpErr::kBadRequestBadLen);
}

TEST(Of10Codec, LargeFlowStatsReplySplitsInOneZeroSizes) {
  FlowStats fs;
  fs.match = MatchOf({OxmEntry::Exact(F::kInPort, 1)});
  fs.instructions = {InstApplyActions{{ActOutput{2, 0}}}};
  FlowStatsReply r;
  r.entries.assign(1000, fs);  // 96 bytes each in 1.0 (88 in 1.3): 96000 bytes
  Result<std::vector<Bytes>> parts = EncodeMessages(Msg10(MultipartReply{0, r}));
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2u);
  size_t n = 0;
  for (size_t i = 0; i < parts->size(); ++i) {
    OfpResult<Message> m = DecodeMessage((*parts)[i]);
    ASSERT_TRUE(m.has_value());
    const auto& mp = std::get<MultipartReply>(m->body);
    EXPECT_EQ(mp.flags, i == 0 ? kMultipartMore : 0);
    n += std::get<FlowStatsReply>(mp.body).entries.size();
  }
  EXPECT_EQ(n, 1000u);
}

TEST(Of10Codec, OneThreeOnlyMessagesAreUnsupported) {
  EXPECT_EQ(EncodeErr(Msg10(GroupMod{})), Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(Msg10(MeterMod{})), Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(Msg10(RoleRequest{})), Errc::kUnsupported);
  EXPECT_EQ(EncodeErr(Msg10(ExperimenterMsg{1, 2, {}})), Errc::kUnsupported);
  // Type 22 and above are not OpenFlow 1.0 messages (24 is ROLE_REQUEST in 1.3).
  EXPECT_EQ(DecodeErr(Raw10(24, Bytes(16, 0))), OfpErr::kBadRequestBadType);
  EXPECT_EQ(DecodeErr(Raw10(5, {0})), OfpErr::kBadRequestBadLen);
}

TEST(Of10Codec, ErrorsSpokenInOneZero) {
  using E = OfpErr;
  auto pair = [](uint16_t t, uint16_t c) { return std::pair<uint16_t, uint16_t>{t, c}; };
  EXPECT_EQ(Of10ErrorCode(E::kHelloIncompatible), pair(0, 0));
  EXPECT_EQ(Of10ErrorCode(E::kBadRequestBadMultipart), pair(1, 2));     // OFPBRC_BAD_STAT
  EXPECT_EQ(Of10ErrorCode(E::kBadRequestBadExperimenter), pair(1, 3));  // OFPBRC_BAD_VENDOR
  EXPECT_EQ(Of10ErrorCode(E::kBadRequestBufferUnknown), pair(1, 8));
  EXPECT_EQ(Of10ErrorCode(E::kBadRequestIsSlave), pair(1, 5));  // EPERM
  EXPECT_EQ(Of10ErrorCode(E::kBadActionBadOutPort), pair(2, 4));
  EXPECT_EQ(Of10ErrorCode(E::kBadActionBadSetType), pair(2, 5));
  EXPECT_EQ(Of10ErrorCode(E::kBadInstBadTableId), pair(2, 5));
  EXPECT_EQ(Of10ErrorCode(E::kBadMatchBadPrereq), pair(1, 5));
  EXPECT_EQ(Of10ErrorCode(E::kFlowModTableFull), pair(3, 0));
  EXPECT_EQ(Of10ErrorCode(E::kFlowModOverlap), pair(3, 1));
  EXPECT_EQ(Of10ErrorCode(E::kFlowModBadCommand), pair(3, 4));
  EXPECT_EQ(Of10ErrorCode(E::kFlowModBadFlags), pair(3, 2));
  EXPECT_EQ(Of10ErrorCode(E::kPortModBadPort), pair(4, 0));
  EXPECT_EQ(Of10ErrorCode(E::kPortModBadHwAddr), pair(4, 1));
  EXPECT_EQ(Of10ErrorCode(E::kQueueOpBadPort), pair(5, 0));
  EXPECT_EQ(Of10ErrorCode(E::kMeterModUnknownMeter), pair(1, 5));
  Bytes offending = Raw10(18, {}, 0x42);
  Message err = MakeErrorReply(OfpError{E::kBadRequestBadMultipart, ""}, offending, kOfp10);
  EXPECT_EQ(Encode(err),
            (Bytes{1, 1, 0, 20, 0, 0, 0, 0x42, 0, 1, 0, 2, 1, 18, 0, 8, 0, 0, 0, 0x42}));
}

TEST(Of10Codec, VersionNegotiation) {
  VersionSet ours = kSupportedVersions;
  EXPECT_EQ(HighestCommonVersion(ours, PeerVersions(kOfp10, std::nullopt)), kOfp10);
  EXPECT_EQ(HighestCommonVersion(ours, PeerVersions(kOfp13, std::nullopt)), kOfp13);
  EXPECT_EQ(HighestCommonVersion(ours, PeerVersions(0x02, std::nullopt)), kOfp10);
  EXPECT_EQ(HighestCommonVersion(ours, PeerVersions(kOfp15, std::nullopt)), kOfp13);
  EXPECT_EQ(HighestCommonVersion(ours, PeerVersions(kOfp15, VersionBit(kOfp10) | VersionBit(6))),
            kOfp10);
  EXPECT_EQ(HighestCommonVersion(ours, PeerVersions(kOfp15, VersionBit(5) | VersionBit(6))),
            std::nullopt);
  // A 1.0 HELLO decodes (with or without a bitmap element).
  OfpResult<Message> h = DecodeMessage(Bytes{1, 0, 0, 8, 0, 0, 0, 1});
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->version, kOfp10);
  EXPECT_EQ(std::get<Hello>(h->body).versions, std::nullopt);
  h = DecodeMessage(Bytes{1, 0, 0, 16, 0, 0, 0, 1, 0, 1, 0, 8, 0, 0, 0, 0x12});
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(std::get<Hello>(h->body).versions, VersionSet{0x12});
}

}  // namespace
}  // namespace sluice::ofp::test
