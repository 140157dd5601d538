// Translation of OpenFlow pipelines into datapath actions and megaflow masks, hand-written
// cases: reserved ports, goto-table, action set, meters, groups, VLANs, set-field, patch ports,
// NORMAL with VLANs, packet-in.
#include <random>

#include "tests/ofproto/xlate_test_util.h"

namespace sluice::ofp::test {
namespace {

TEST_F(XlateTest, InPortToOutputUnwildcardsOnlyInPort) {
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 1)}, Apply({Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "12");
  EXPECT_EQ(r.mask.bits.in_port, UINT32_MAX);
  dp::FlowMask expect;
  expect.Clear();
  expect.bits.in_port = UINT32_MAX;
  expect.bits.recirc_id = UINT32_MAX;
  EXPECT_TRUE(r.mask == expect) << MaskText(k, r);
  ASSERT_EQ(r.rules.size(), 1u);
}

TEST_F(XlateTest, PrefixRuleGivesPrefixMaskNotFiveTuple) {
  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x0800),
        OxmEntry::Masked(OxmField::kIpv4Dst, 0x0a000000, 0xff000000)},
       Apply({Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.1.2.3", "10.9.9.9", 1000, 53);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "12");
  EXPECT_EQ(r.mask.bits.nw_dst, htonl(0xff000000));
  EXPECT_EQ(r.mask.bits.nw_src, 0u);
  EXPECT_EQ(r.mask.bits.tp_src, 0);
  EXPECT_EQ(r.mask.bits.tp_dst, 0);
  EXPECT_EQ(r.mask.bits.eth_type, 0xffff);
  EXPECT_EQ(r.mask.bits.eth_src, (dp::MacAddr{}));
}

TEST_F(XlateTest, TableMissDropsAndReservedPorts) {
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  Flow(*a_, 0, 10, {}, Apply({Out(kPortInPort), Out(kPortAll)}));
  // IN_PORT sends back; ALL is every port but the input.
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "11,12,13,14");
  // Output to the input port by number is skipped (OpenFlow needs IN_PORT for that).
  Flow(*a_, 0, 20, {}, Apply({Out(1), Out(3)}));
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "13");
}

TEST_F(XlateTest, GotoTableMetadataAndActionSetOrder) {
  Flow(*a_, 0, 10, {},
       {InstWriteActions{{Out(3)}}, InstWriteMetadata{0x5, 0xff}, InstGotoTable{1}});
  Flow(*a_, 1, 10, {OxmEntry::Masked(OxmField::kMetadata, 0x5, 0xff)},
       {InstApplyActions{{ActSetField{OxmEntry::FromBytes(
                              OxmField::kEthDst, std::vector<uint8_t>{0x02, 0, 0, 0, 0, 0x99})},
                          Out(2)}}});
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  // Apply-actions run at once (set + output 2); the action set's output 3 runs at the end and
  // sees the rewritten packet, so no second set is needed.
  EXPECT_EQ(Acts(r), "set(eth(dst=02:00:00:00:00:99)),12,13") << trace_;
  EXPECT_EQ(r.rules.size(), 2u);
  // A write-actions output replaced by a later group is dropped (group wins over output).
}

TEST_F(XlateTest, MeterInstructionComesBeforeTheRulesActions) {
  a_->x.dp_meters[1] = 40;  // OpenFlow meter 1 is datapath meter 40
  a_->x.dp_meters[2] = 41;
  // Table 0 forwards a copy unmetered, then goes to table 1, whose rule is metered. The meter
  // instruction is listed last but runs first (OpenFlow 1.3 §5.9).
  Flow(*a_, 0, 10, {}, {InstApplyActions{{Out(3)}}, InstGotoTable{1}});
  Flow(*a_, 1, 10, {}, {InstApplyActions{{Out(2)}}, InstWriteActions{{Out(4)}}, InstMeter{1}});
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  EXPECT_FALSE(r.error) << r.error_text;
  EXPECT_EQ(Acts(r), "13,meter(40),12,14") << trace_;
  EXPECT_NE(trace_.find("meter:1"), std::string::npos) << trace_;
  // A meter the datapath does not have (deleted): an error and nothing more is forwarded.
  Flow(*a_, 1, 20, {}, {InstMeter{9}, InstApplyActions{{Out(2)}}});
  auto gone = Run(*a_, k, 1);
  EXPECT_TRUE(gone.error);
  EXPECT_EQ(Acts(gone), "13") << trace_;
}

TEST_F(XlateTest, ActionSetGroupBeatsOutputAndClearActions) {
  GroupMod gm;
  gm.group_id = 7;
  gm.type = GroupType::kIndirect;
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {Out(4)}});
  ASSERT_TRUE(a_->ofp->mutable_groups().Apply(gm));
  Flow(*a_, 0, 10, {}, {InstWriteActions{{Out(3), ActGroup{7}}}, InstGotoTable{1}});
  Flow(*a_, 1, 10, {}, {});
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "14");
  Flow(*a_, 1, 10, {}, {InstClearActions{}});
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
}

TEST_F(XlateTest, SelectGroupHashesFiveTupleAndSpreads) {
  GroupMod gm;
  gm.group_id = 1;
  gm.type = GroupType::kSelect;
  gm.buckets.push_back(Bucket{1, kPortAny, kGroupAny, {Out(2)}});
  gm.buckets.push_back(Bucket{1, kPortAny, kGroupAny, {Out(3)}});
  ASSERT_TRUE(a_->ofp->mutable_groups().Apply(gm));
  Flow(*a_, 0, 10, {}, Apply({ActGroup{1}}));
  std::map<std::string, int> seen;
  for (uint16_t sp = 1; sp <= 200; ++sp) {
    auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", sp, 80);
    auto r = Run(*a_, k, 1);
    seen[Acts(r)]++;
    EXPECT_EQ(r.mask.bits.tp_src, 0xffff);
    // Same packet, same bucket.
    EXPECT_EQ(Acts(Run(*a_, k, 1)), Acts(r));
  }
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_GT(seen["12"], 60);
  EXPECT_GT(seen["13"], 60);
}

TEST_F(XlateTest, FastFailoverUsesFirstLiveBucket) {
  GroupMod gm;
  gm.group_id = 2;
  gm.type = GroupType::kFastFailover;
  gm.buckets.push_back(Bucket{0, 2, kGroupAny, {Out(2)}});
  gm.buckets.push_back(Bucket{0, 3, kGroupAny, {Out(3)}});
  ASSERT_TRUE(a_->ofp->mutable_groups().Apply(gm));
  Flow(*a_, 0, 10, {}, Apply({ActGroup{2}}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "12");
  EXPECT_EQ(r.mask.bits.tp_src, 0);  // liveness reads no packet field
  a_->x.ports[2].link_up = false;
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "13");
}

TEST_F(XlateTest, AllGroupClonesBuckets) {
  GroupMod gm;
  gm.group_id = 3;
  gm.type = GroupType::kAll;
  gm.buckets.push_back(Bucket{
      0, kPortAny, kGroupAny, {ActSetField{OxmEntry::Exact(OxmField::kUdpDst, 99)}, Out(2)}});
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {Out(3)}});
  ASSERT_TRUE(a_->ofp->mutable_groups().Apply(gm));
  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x800), OxmEntry::Exact(OxmField::kIpProto, 17)},
       Apply({ActGroup{3}}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  // The second bucket sees the packet unmodified by the first: the port is set back.
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "set(udp(dst=99)),12,set(udp(dst=2)),13");
}

TEST_F(XlateTest, VlanPushSetPop) {
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 1)},
       Apply({ActPushVlan{0x8100}, ActSetField{OxmEntry::Exact(OxmField::kVlanVid, 0x1000 | 10)},
              Out(2)}));
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 2)}, Apply({ActPopVlan{}, Out(1)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "push_vlan(vid=10,pcp=0),12");
  auto t = k;
  t.in_port = 12;
  t.vlans[0] = dp::VlanHdr{htons(0x8100), htons(0x1000 | 10)};
  EXPECT_EQ(Acts(Run(*a_, t, 2)), "pop_vlan,11");
}

OxmEntry Bytes(OxmField f, std::vector<uint8_t> v) { return OxmEntry::FromBytes(f, v); }

TEST_F(XlateTest, SetFieldArpCommitsOneMaskedSet) {
  Flow(
      *a_, 0, 10, {OxmEntry::Exact(OxmField::kEthType, 0x0806)},
      Apply({ActSetField{OxmEntry::Exact(OxmField::kArpOp, 2)},
             ActSetField{OxmEntry::Exact(OxmField::kArpSpa, 0x0a0a0a0a)},
             ActSetField{Bytes(OxmField::kArpTha, {0xba, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb})}, Out(2)}));
  auto k = ArpKey(1);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "set(arp(sip=10.10.10.10,op=2,tha=ba:bb:bb:bb:bb:bb)),12") << trace_;
  // Whether each set is emitted depends on the packet's value: those fields are in the mask.
  EXPECT_EQ(r.mask.bits.eth_type, 0xffff);
  EXPECT_EQ(r.mask.bits.nw_proto, 0xff);
  EXPECT_EQ(r.mask.bits.nw_src, UINT32_MAX);
  EXPECT_EQ(r.mask.bits.arp_tha, (dp::MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(r.mask.bits.nw_dst, 0u);
  EXPECT_EQ(r.mask.bits.arp_sha, (dp::MacAddr{}));
  // A reply already carrying those values needs only what differs.
  k.nw_proto = 2;
  k.nw_src = htonl(0x0a0a0a0a);
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "set(arp(tha=ba:bb:bb:bb:bb:bb)),12");
  // The opcode is 16 bits in OpenFlow and on the wire.
  Flow(*a_, 0, 20, {OxmEntry::Exact(OxmField::kEthType, 0x0806)},
       Apply({ActSetField{OxmEntry::Exact(OxmField::kArpOp, 0x0102)}, Out(3)}));
  EXPECT_EQ(Acts(Run(*a_, ArpKey(1), 1)), "set(arp(op=258)),13");
  // ARP fields of a packet that is not ARP are left alone (the codec checks prerequisites of
  // the match; this is the translation's own guard).
  auto ip = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  Flow(*a_, 0, 30, {OxmEntry::Exact(OxmField::kInPort, 1)},
       Apply({ActSetField{OxmEntry::Exact(OxmField::kArpSpa, 1)}, Out(2)}));
  EXPECT_EQ(Acts(Run(*a_, ip, 1)), "12");
}

TEST_F(XlateTest, SetFieldTunnelIdIsPipelineMetadata) {
  Flow(
      *a_, 0, 10, {},
      {InstApplyActions{{ActSetField{OxmEntry::Exact(OxmField::kTunnelId, 5)}}}, InstGotoTable{1}});
  Flow(*a_, 1, 10, {OxmEntry::Exact(OxmField::kTunnelId, 5)}, Apply({Out(2)}));
  Flow(*a_, 1, 5, {}, Apply({Out(3)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  // Table 1 sees the new tunnel id; nothing is written into the packet.
  EXPECT_EQ(Acts(r), "12") << trace_;
  EXPECT_EQ(r.rules.size(), 2u);
}

TEST_F(XlateTest, SetFieldIcmpTypeAndCode) {
  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x0800), OxmEntry::Exact(OxmField::kIpProto, 1)},
       Apply({ActSetField{OxmEntry::Exact(OxmField::kIcmpv4Type, 0)},
              ActSetField{OxmEntry::Exact(OxmField::kIcmpv4Code, 10)}, Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 8, 0);
  k.nw_proto = 1;
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "set(icmp(type=0,code=10)),12") << trace_;
  EXPECT_EQ(r.mask.bits.tp_src, htons(0xff));
  EXPECT_EQ(r.mask.bits.tp_dst, htons(0xff));
  k.tp_src = 0;  // already an echo reply: only the code changes
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "set(icmp(code=10)),12");

  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x86dd), OxmEntry::Exact(OxmField::kIpProto, 58)},
       Apply({ActSetField{OxmEntry::Exact(OxmField::kIcmpv6Type, 135)}, Out(3)}));
  auto r6 = Run(*a_, Icmp6Key(128), 1);
  EXPECT_EQ(Acts(r6), "set(icmpv6(type=135)),13") << trace_;
  EXPECT_EQ(r6.mask.bits.tp_src, htons(0xff));
  EXPECT_EQ(r6.mask.bits.tp_dst, 0);
}

TEST_F(XlateTest, SetFieldNdTargetAndLinkLayerAddresses) {
  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x86dd), OxmEntry::Exact(OxmField::kIpProto, 58)},
       Apply({ActSetField{Bytes(OxmField::kIpv6NdTarget,
                                {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9})},
              ActSetField{Bytes(OxmField::kIpv6NdSll, {0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa})},
              ActSetField{Bytes(OxmField::kIpv6NdTll, {0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb})},
              Out(2)}));
  // A solicitation carries sll, not tll: the tll set does not apply to it.
  auto r = Run(*a_, Icmp6Key(135), 1);
  EXPECT_EQ(Acts(r), "set(nd(target=2001:db8::9,sll=aa:aa:aa:aa:aa:aa)),12") << trace_;
  EXPECT_EQ(r.mask.bits.tp_src, htons(0xff));
  EXPECT_EQ(r.mask.bits.tp_dst, htons(0xff));
  EXPECT_EQ(r.mask.bits.nd_target[0], 0xff);
  EXPECT_EQ(r.mask.bits.arp_sha[0], 0xff);
  EXPECT_EQ(Acts(Run(*a_, Icmp6Key(136), 1)),
            "set(nd(target=2001:db8::9,tll=bb:bb:bb:bb:bb:bb)),12");
  // Not ND (an echo request): nothing to rewrite, but the type was looked at.
  auto echo = Run(*a_, Icmp6Key(128), 1);
  EXPECT_EQ(Acts(echo), "12");
  EXPECT_EQ(echo.mask.bits.tp_src, htons(0xff));

  // An ICMPv6 type change first, then ND fields of what is now an advertisement: the datapath
  // sets run in that order.
  Flow(*a_, 0, 20,
       {OxmEntry::Exact(OxmField::kEthType, 0x86dd), OxmEntry::Exact(OxmField::kIpProto, 58)},
       Apply({ActSetField{OxmEntry::Exact(OxmField::kIcmpv6Type, 136)},
              ActSetField{Bytes(OxmField::kIpv6NdTll, {0xbb, 0xbb, 0xbb, 0xbb, 0xbb, 0xbb})},
              Out(3)}));
  EXPECT_EQ(Acts(Run(*a_, Icmp6Key(135), 1)),
            "set(icmpv6(type=136)),set(nd(tll=bb:bb:bb:bb:bb:bb)),13");
}

TEST_F(XlateTest, DecTtlExpiresAndRewrites) {
  Flow(*a_, 0, 10, {}, Apply({ActDecNwTtl{}, Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "set(ipv4(ttl=63)),12");
  EXPECT_EQ(r.mask.bits.nw_ttl, 0xff);
  k.nw_ttl = 1;
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
}

TEST_F(XlateTest, ControllerActionRegistersPacketInContext) {
  Flow(*a_, 0, 0, {}, Apply({Out(kPortController, 128)}), 0x77);
  Flow(*a_, 0, 5, {OxmEntry::Exact(OxmField::kInPort, 2)}, Apply({Out(kPortController, 0xffff)}),
       0x88);
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  ASSERT_EQ(Acts(r).rfind("userspace(pid=1", 0), 0u) << Acts(r);
  ASSERT_EQ(registry_.size(), 1u);
  const PacketInContext* c = registry_.Find(1);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason, PacketInReason::kNoMatch);  // the table-miss rule
  EXPECT_EQ(c->cookie, 0x77u);
  EXPECT_EQ(c->max_len, 128);
  EXPECT_EQ(c->in_port, 1u);
  k.in_port = 12;
  Run(*a_, k, 2);
  ASSERT_EQ(registry_.size(), 2u);
  EXPECT_EQ(registry_.Find(2)->reason, PacketInReason::kAction);
  // The same context is interned once.
  Run(*a_, k, 2);
  EXPECT_EQ(registry_.size(), 2u);
}

TEST_F(XlateTest, PatchPortContinuesInPeerBridge) {
  auto b = MakeBridge("b", {{1, UINT32_MAX}, {2, 22}});
  a_->x.ports[4].dp_port = UINT32_MAX;
  a_->x.ports[4].peer_bridge = &b->x;
  a_->x.ports[4].peer_ofport = 1;
  b->x.ports[1].peer_bridge = &a_->x;
  b->x.ports[1].peer_ofport = 4;
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 1)}, Apply({Out(4)}));
  Flow(*b, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 1)}, Apply({Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "22") << trace_;
  EXPECT_EQ(r.rules.size(), 2u);
  // A loop between the bridges is cut at the depth limit and not cached.
  Flow(*b, 0, 20, {OxmEntry::Exact(OxmField::kInPort, 1)}, Apply({Out(kPortInPort)}));
  Flow(*a_, 0, 20, {OxmEntry::Exact(OxmField::kInPort, 4)}, Apply({Out(kPortInPort)}));
  auto loop = Run(*a_, k, 1);
  EXPECT_TRUE(loop.no_install);
  EXPECT_TRUE(loop.error);
}

TEST_F(XlateTest, NormalLearnsFloodsAndUnicasts) {
  Flow(*a_, 0, 0, {}, Apply({Out(kPortNormal)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "12,13,14");  // unknown destination: flood, not back to the input
  ASSERT_EQ(r.learned.size(), 1u);
  EXPECT_EQ(r.mask.bits.eth_src, (dp::MacAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(r.mask.bits.nw_src, 0u);
  // The reply: destination 00:..:01 was learned on port 1.
  auto back = Udp(13, "00:00:00:00:00:02", "00:00:00:00:00:01", "10.0.0.2", "10.0.0.1", 2, 1);
  EXPECT_EQ(Acts(Run(*a_, back, 3)), "11");
  // A MAC moving to another port is reported.
  auto moved = k;
  moved.in_port = 14;
  auto rm = Run(*a_, moved, 4);
  EXPECT_TRUE(rm.mac_moved);
  EXPECT_EQ(Acts(Run(*a_, back, 3)), "14");
  // Broadcast floods.
  auto bc = Udp(11, "00:00:00:00:00:05", "ff:ff:ff:ff:ff:ff", "10.0.0.5", "10.0.0.255", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, bc, 1)), "12,13,14");
}

TEST_F(XlateTest, NormalVlanAccessAndTrunk) {
  Flow(*a_, 0, 0, {}, Apply({Out(kPortNormal)}));
  using M = PortVlan::Mode;
  a_->x.ports[1].vlan = PortVlan{M::kAccess, 10, {}, {}, 0x88a8};
  a_->x.ports[2].vlan = PortVlan{M::kAccess, 10, {}, {}, 0x88a8};
  a_->x.ports[3].vlan = PortVlan{M::kAccess, 20, {}, {}, 0x88a8};
  a_->x.ports[4].vlan = PortVlan{M::kTrunk, -1, {10, 20}, {}, 0x88a8};
  auto k = Udp(11, "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "10.0.0.1", "10.0.0.2", 1, 2);
  // Access port in VLAN 10 floods untagged to the other VLAN 10 access port and tagged to the
  // trunk; the VLAN 20 port sees nothing.
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "12,push_vlan(vid=10,pcp=0),14");
  // From the trunk, VLAN 20: only port 3, untagged.
  auto t = k;
  t.in_port = 14;
  t.vlans[0] = dp::VlanHdr{htons(0x8100), htons(0x1000 | 20)};
  EXPECT_EQ(Acts(Run(*a_, t, 4)), "pop_vlan,13");
  // A tagged frame on an access port is dropped; VLAN 30 on the trunk is not allowed.
  auto bad = k;
  bad.vlans[0] = dp::VlanHdr{htons(0x8100), htons(0x1000 | 10)};
  EXPECT_EQ(Acts(Run(*a_, bad, 1)), "drop");
  t.vlans[0].tci = htons(0x1000 | 30);
  EXPECT_EQ(Acts(Run(*a_, t, 4)), "drop");
  // Learning is per VLAN: 00:..:01 learned in VLAN 10 does not answer for VLAN 20.
  auto to1 = Udp(13, "00:00:00:00:00:03", "00:00:00:00:00:01", "10.0.0.3", "10.0.0.1", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, to1, 3)), "push_vlan(vid=20,pcp=0),14");
}

// dot1q-tunnel (802.1ad): frames entering the tunnel port get an outer 0x88a8 tag with its VLAN
// over whatever tag they carry; the outer tag leaves again towards tunnel and access ports;
// cvlans limits the customer VLANs; a frame already carrying two tags is dropped.
TEST_F(XlateTest, NormalDot1qTunnel) {
  Flow(*a_, 0, 0, {}, Apply({Out(kPortNormal)}));
  using M = PortVlan::Mode;
  a_->x.ports[1].vlan = PortVlan{M::kDot1qTunnel, 100, {}, {}, 0x88a8};
  a_->x.ports[2].vlan = PortVlan{M::kDot1qTunnel, 100, {}, {5, 0}, 0x88a8};
  a_->x.ports[3].vlan = PortVlan{M::kAccess, 100, {}, {}, 0x88a8};
  a_->x.ports[4].vlan = PortVlan{M::kTrunk, -1, {}, {}, 0x88a8};
  auto k = Udp(11, "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "10.0.0.1", "10.0.0.2", 1, 2);
  // Customer VLAN 5 enters port 1: the other tunnel port and the access port get it as it came
  // (only the service tag is removed, as in Open vSwitch), the trunk with the service tag
  // outside the customer tag.
  k.vlans[0] = dp::VlanHdr{htons(0x8100), htons(0x1000 | 5)};
  EXPECT_EQ(Acts(Run(*a_, k, 1)),
            "12,13,pop_vlan,push_vlan(vid=5,pcp=0),push_vlan(tpid=0x88a8,vid=100,pcp=0),14");
  // Untagged into the tunnel: only the service tag towards the trunk.
  auto u = Udp(11, "00:00:00:00:00:02", "ff:ff:ff:ff:ff:ff", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, u, 1)), "12,13,push_vlan(tpid=0x88a8,vid=100,pcp=0),14");
  // From the trunk, service VLAN 100 over customer VLAN 5: to the tunnel ports with the outer
  // tag removed (port 2 accepts customer VLAN 5).
  auto t = Udp(14, "00:00:00:00:00:04", "ff:ff:ff:ff:ff:ff", "10.0.0.4", "10.0.0.2", 1, 2);
  t.vlans[0] = dp::VlanHdr{htons(0x88a8), htons(0x1000 | 100)};
  t.vlans[1] = dp::VlanHdr{htons(0x8100), htons(0x1000 | 5)};
  EXPECT_EQ(Acts(Run(*a_, t, 4)), "pop_vlan,pop_vlan,push_vlan(vid=5,pcp=0),11,12,13");
  // Port 2 accepts customer VLANs 5 and untagged only; two tags in: dropped.
  auto c7 = k;
  c7.in_port = 12;
  c7.vlans[0].tci = htons(0x1000 | 7);
  EXPECT_EQ(Acts(Run(*a_, c7, 2)), "drop");
  EXPECT_EQ(Acts(Run(*a_, t, 1)), "drop");
}

// Property: for random rule sets, every packet that falls inside the megaflow of another
// packet's translation gets exactly the same actions when translated directly.

}  // namespace
}  // namespace sluice::ofp::test
