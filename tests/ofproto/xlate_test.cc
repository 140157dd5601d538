// Translation of OpenFlow pipelines into datapath actions and megaflow masks: hand-written
// cases (reserved ports, goto-table, action set, groups, patch ports, NORMAL with VLANs,
// packet-in) and a property test that every packet inside a megaflow translates the same way.
#include "ofproto/xlate/xlate.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <random>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "datapath/flow/odp_text.h"
#include "ofproto/ofproto.h"

namespace sluice::ofp {
namespace {

dp::FlowKey Udp(uint32_t in_port, const char* src_mac, const char* dst_mac, const char* src_ip,
                const char* dst_ip, uint16_t sport, uint16_t dport) {
  dp::FlowKey k;
  k.Clear();
  k.in_port = in_port;
  unsigned m[6];
  std::sscanf(src_mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
  for (int i = 0; i < 6; ++i) k.eth_src[i] = static_cast<uint8_t>(m[i]);
  std::sscanf(dst_mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]);
  for (int i = 0; i < 6; ++i) k.eth_dst[i] = static_cast<uint8_t>(m[i]);
  k.eth_type = htons(0x0800);
  inet_pton(AF_INET, src_ip, &k.nw_src);
  inet_pton(AF_INET, dst_ip, &k.nw_dst);
  k.nw_proto = 17;
  k.nw_ttl = 64;
  k.tp_src = htons(sport);
  k.tp_dst = htons(dport);
  return k;
}

class XlateTest : public ::testing::Test {
 protected:
  void SetUp() override { a_ = MakeBridge("a", {{1, 11}, {2, 12}, {3, 13}, {4, 14}}); }

  struct Br {
    std::unique_ptr<Ofproto> ofp;
    std::unique_ptr<MacLearning> mac;
    XBridge x;
  };

  std::unique_ptr<Br> MakeBridge(const std::string& name,
                                 std::vector<std::pair<uint32_t, uint32_t>> ports) {
    auto b = std::make_unique<Br>();
    b->ofp = std::make_unique<Ofproto>(io_, name, 1);
    b->mac = std::make_unique<MacLearning>();
    b->x.name = name;
    b->x.ofproto = b->ofp.get();
    b->x.mac = b->mac.get();
    std::vector<OfPort> ofports;
    for (auto [of, dpn] : ports) {
      XPort p;
      p.ofport = of;
      p.dp_port = dpn;
      p.name = name + std::to_string(of);
      b->x.ports[of] = p;
      OfPort op;
      op.desc.port_no = of;
      op.desc.name = p.name;
      ofports.push_back(op);
    }
    b->ofp->SetPorts(ofports);
    return b;
  }

  void Flow(Br& b, uint8_t table, uint16_t prio, std::vector<OxmEntry> match, InstructionList insts,
            uint64_t cookie = 0) {
    FlowMod fm;
    fm.table_id = table;
    fm.priority = prio;
    fm.cookie = cookie;
    for (auto& e : match) fm.match.Set(e);
    fm.instructions = std::move(insts);
    auto r = b.ofp->mutable_pipeline().ApplyFlowMod(fm, 0);
    ASSERT_TRUE(r.has_value()) << r.error().detail;
  }
  static InstructionList Apply(ActionList a) { return {InstApplyActions{std::move(a)}}; }
  static ActOutput Out(uint32_t p, uint16_t max_len = 0) { return ActOutput{p, max_len}; }

  XlateResult Run(Br& b, const dp::FlowKey& key, uint32_t in_ofport, bool learn = true) {
    XlateEnv env;
    env.registry = &registry_;
    env.recirc = &recirc_;
    env.bridges = &bridges_;
    bridges_[b.x.name] = &b.x;
    XlateInput in;
    in.bridge = &b.x;
    in.key = key;
    in.in_ofport = in_ofport;
    in.learn = learn;
    in.now_ms = 1000;
    in.trace = &trace_;
    trace_.clear();
    return Translate(env, in);
  }
  static std::string Acts(const XlateResult& r) {
    return r.actions.size() ? dp::FormatOdpActions(r.actions.view()) : "drop";
  }
  static std::string MaskText(const dp::FlowKey& key, const XlateResult& r) {
    dp::FlowKey masked;
    dp::ApplyMask(key, r.mask, &masked);
    return dp::FormatOdpFlow(masked, r.mask);
  }

  asio::io_context io_;
  PacketInRegistry registry_;
  RecircRegistry recirc_;
  std::unordered_map<std::string, XBridge*> bridges_;
  std::unique_ptr<Br> a_;
  std::string trace_;
};

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

dp::FlowKey ArpKey(uint16_t op) {
  dp::FlowKey k = Udp(11, "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "10.0.0.1", "10.0.0.2", 0, 0);
  k.eth_type = htons(0x0806);
  k.nw_proto = static_cast<uint8_t>(op);
  k.nw_ttl = 0;
  k.arp_sha = {0, 0, 0, 0, 0, 1};
  return k;
}

dp::FlowKey Icmp6Key(uint8_t type) {
  dp::FlowKey k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "0.0.0.0", "0.0.0.0", 0, 0);
  k.eth_type = htons(0x86dd);
  inet_pton(AF_INET6, "fe80::1", k.ipv6_src.data());
  inet_pton(AF_INET6, "ff02::1:ff00:5", k.ipv6_dst.data());
  k.nw_proto = 58;
  k.nw_ttl = 255;
  k.tp_src = htons(type);
  if (type == 135 || type == 136) {
    inet_pton(AF_INET6, "2001:db8::5", k.nd_target.data());
    (type == 135 ? k.arp_sha : k.arp_tha) = {0x02, 0, 0, 0, 0, 0x22};
  }
  return k;
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
TEST_F(XlateTest, MegaflowMaskIsSoundForRandomRules) {
  std::mt19937 rng(42);
  auto rnd = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  for (int round = 0; round < 20; ++round) {
    auto br = MakeBridge("r" + std::to_string(round), {{1, 11}, {2, 12}, {3, 13}, {4, 14}});
    for (int i = 0; i < 30; ++i) {
      std::vector<OxmEntry> m;
      if (rnd(2)) m.push_back(OxmEntry::Exact(OxmField::kInPort, 1 + rnd(4)));
      bool ip = rnd(3) != 0;
      if (ip) {
        m.push_back(OxmEntry::Exact(OxmField::kEthType, 0x0800));
        if (rnd(2)) {
          uint32_t len = rnd(33);
          uint32_t mask = len ? ~0u << (32 - len) : 0;
          m.push_back(
              OxmEntry::Masked(OxmField::kIpv4Dst, (0x0a000000 | rnd(1 << 16)) & mask, mask));
        }
        if (rnd(2)) {
          m.push_back(OxmEntry::Exact(OxmField::kIpProto, 17));
          if (rnd(2)) m.push_back(OxmEntry::Exact(OxmField::kUdpDst, rnd(4)));
        }
      }
      if (rnd(3) == 0) {
        m.push_back(OxmEntry::Exact(OxmField::kEthSrc, 0x000000000000ULL | rnd(4)));
      }
      ActionList acts;
      uint32_t kind = rnd(4);
      if (kind == 0) acts = {Out(1 + rnd(4))};
      if (kind == 1)
        acts = {ActSetField{OxmEntry::Exact(OxmField::kEthDst, rnd(8))}, Out(1 + rnd(4))};
      if (kind == 2) acts = {Out(kPortNormal)};
      // Built step by step: an initializer list here trips g++ 12's -Wmaybe-uninitialized.
      InstructionList insts;
      insts.emplace_back(InstApplyActions{std::move(acts)});
      if (rnd(3) == 0) insts.emplace_back(InstGotoTable{1});
      FlowMod fm;
      fm.table_id = 0;
      fm.priority = static_cast<uint16_t>(rnd(5));
      for (auto& e : m) fm.match.Set(e);
      fm.instructions = insts;
      (void)br->ofp->mutable_pipeline().ApplyFlowMod(fm, 0);
    }
    Flow(*br, 1, 0, {OxmEntry::Exact(OxmField::kEthType, 0x0800)}, Apply({Out(2)}));
    auto rand_pkt = [&] {
      char smac[32], dmac[32], sip[32], dip[32];
      std::snprintf(smac, sizeof smac, "00:00:00:00:00:%02x", rnd(4));
      std::snprintf(dmac, sizeof dmac, "00:00:00:00:00:%02x", rnd(4));
      std::snprintf(sip, sizeof sip, "10.0.%u.%u", rnd(2), rnd(4));
      std::snprintf(dip, sizeof dip, "10.0.%u.%u", rnd(2), rnd(4));
      uint32_t in = 1 + rnd(4);
      auto k = Udp(10 + in, smac, dmac, sip, dip, static_cast<uint16_t>(rnd(4)),
                   static_cast<uint16_t>(rnd(4)));
      if (rnd(4) == 0) k.eth_type = htons(0x86dd);
      if (rnd(4) == 0) k.nw_proto = 6;
      return std::make_pair(k, in);
    };
    for (int p = 0; p < 200; ++p) {
      auto [k1, in1] = rand_pkt();
      auto r1 = Run(*br, k1, in1, /*learn=*/false);
      for (int q = 0; q < 50; ++q) {
        auto [k2, in2] = rand_pkt();
        dp::FlowKey m1, m2;
        dp::ApplyMask(k1, r1.mask, &m1);
        dp::ApplyMask(k2, r1.mask, &m2);
        if (!(m1 == m2)) continue;
        auto r2 = Run(*br, k2, in2, false);
        ASSERT_EQ(Acts(r1), Acts(r2))
            << "megaflow " << MaskText(k1, r1) << "\npacket " << dp::FormatOdpFlow(k2, [] {
                 dp::FlowMask all;
                 all.SetAll();
                 return all;
               }());
      }
    }
  }
}

// Set-fields of ARP, ICMP and ND: every packet inside a megaflow gets the same datapath actions
// (whether a set is emitted, and what it writes, depends only on bits in the mask).
TEST_F(XlateTest, MegaflowMaskIsSoundForArpIcmpNdSetFields) {
  std::mt19937 rng(7);
  auto rnd = [&](uint32_t n) { return static_cast<uint32_t>(rng() % n); };
  auto mac = [&](uint8_t last) { return std::vector<uint8_t>{2, 0, 0, 0, 0, last}; };
  auto v6 = [&](uint8_t last) {
    std::vector<uint8_t> a(16, 0);
    a[0] = 0x20;
    a[15] = last;
    return a;
  };
  for (int round = 0; round < 10; ++round) {
    auto br = MakeBridge("s" + std::to_string(round), {{1, 11}, {2, 12}});
    for (int i = 0; i < 12; ++i) {
      std::vector<OxmEntry> m;
      ActionList acts;
      auto set = [&](OxmEntry e) { acts.push_back(ActSetField{e}); };
      switch (rnd(3)) {
        case 0:
          m.push_back(OxmEntry::Exact(OxmField::kEthType, 0x0806));
          if (rnd(2)) m.push_back(OxmEntry::Exact(OxmField::kArpOp, 1 + rnd(2)));
          if (rnd(2)) set(OxmEntry::Exact(OxmField::kArpOp, 1 + rnd(2)));
          if (rnd(2)) set(OxmEntry::Exact(OxmField::kArpSpa, rnd(3)));
          if (rnd(2)) set(OxmEntry::FromBytes(OxmField::kArpSha, mac(rnd(2))));
          if (rnd(2)) set(OxmEntry::FromBytes(OxmField::kArpTha, mac(rnd(2))));
          break;
        case 1:
          m.push_back(OxmEntry::Exact(OxmField::kEthType, 0x0800));
          m.push_back(OxmEntry::Exact(OxmField::kIpProto, 1));
          if (rnd(2)) set(OxmEntry::Exact(OxmField::kIcmpv4Type, rnd(2) ? 0 : 8));
          if (rnd(2)) set(OxmEntry::Exact(OxmField::kIcmpv4Code, rnd(2)));
          break;
        default:
          m.push_back(OxmEntry::Exact(OxmField::kEthType, 0x86dd));
          m.push_back(OxmEntry::Exact(OxmField::kIpProto, 58));
          if (rnd(2)) m.push_back(OxmEntry::Exact(OxmField::kIcmpv6Type, 135 + rnd(2)));
          if (rnd(3) == 0) set(OxmEntry::Exact(OxmField::kIcmpv6Type, 135 + rnd(2)));
          if (rnd(2)) set(OxmEntry::FromBytes(OxmField::kIpv6NdTarget, v6(rnd(2))));
          if (rnd(2)) set(OxmEntry::FromBytes(OxmField::kIpv6NdSll, mac(rnd(2))));
          if (rnd(2)) set(OxmEntry::FromBytes(OxmField::kIpv6NdTll, mac(rnd(2))));
          if (rnd(3) == 0) set(OxmEntry::Exact(OxmField::kIcmpv6Code, rnd(2)));
          break;
      }
      acts.push_back(Out(2));
      FlowMod fm;
      fm.priority = static_cast<uint16_t>(rnd(4));
      for (auto& e : m) fm.match.Set(e);
      fm.instructions = Apply(acts);
      (void)br->ofp->mutable_pipeline().ApplyFlowMod(fm, 0);
    }
    auto rand_pkt = [&] {
      switch (rnd(3)) {
        case 0: {
          auto k = ArpKey(1 + rnd(2));
          k.nw_src = htonl(rnd(3));
          k.arp_sha[5] = static_cast<uint8_t>(rnd(2));
          k.arp_tha[5] = static_cast<uint8_t>(rnd(2));
          return k;
        }
        case 1: {
          auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2",
                       rnd(2) ? 0 : 8, static_cast<uint16_t>(rnd(2)));
          k.nw_proto = 1;
          return k;
        }
        default: {
          static constexpr uint8_t kTypes[] = {128, 135, 136};
          auto k = Icmp6Key(kTypes[rnd(3)]);
          k.tp_dst = htons(static_cast<uint16_t>(rnd(4) == 0));
          if (k.nd_target[0]) k.nd_target[15] = static_cast<uint8_t>(rnd(2));
          k.arp_sha[5] = k.arp_sha[0] ? static_cast<uint8_t>(rnd(2)) : 0;
          k.arp_tha[5] = k.arp_tha[0] ? static_cast<uint8_t>(rnd(2)) : 0;
          return k;
        }
      }
    };
    for (int p = 0; p < 150; ++p) {
      auto k1 = rand_pkt();
      auto r1 = Run(*br, k1, 1, /*learn=*/false);
      ASSERT_FALSE(r1.error) << r1.error_text;
      for (int q = 0; q < 60; ++q) {
        auto k2 = rand_pkt();
        dp::FlowKey m1, m2;
        dp::ApplyMask(k1, r1.mask, &m1);
        dp::ApplyMask(k2, r1.mask, &m2);
        if (!(m1 == m2)) continue;
        auto r2 = Run(*br, k2, 1, false);
        ASSERT_EQ(Acts(r1), Acts(r2)) << "megaflow " << MaskText(k1, r1);
      }
    }
  }
}

}  // namespace
}  // namespace sluice::ofp

namespace sluice::ofp {
namespace {

// An MPLS packet as the parser leaves it: L2 and the top label stack entry only.
dp::FlowKey MplsKey(uint32_t in_port, uint32_t label, uint32_t tc, uint32_t bos, uint32_t ttl) {
  auto k = Udp(in_port, "00:00:00:00:00:01", "00:00:00:00:00:02", "0.0.0.0", "0.0.0.0", 0, 0);
  constexpr size_t kL3 = offsetof(dp::FlowKey, nw_src);
  std::memset(reinterpret_cast<uint8_t*>(&k) + kL3, 0, sizeof(k) - kL3);
  k.eth_type = htons(0x8847);
  k.mpls_lse = htonl(label << 12 | tc << 9 | bos << 8 | ttl);
  return k;
}

TEST_F(XlateTest, MplsPushCopiesIpTtlAndTcThenSetField) {
  Flow(*a_, 0, 10, {},
       Apply(
           {ActPushMpls{0x8847}, ActSetField{OxmEntry::Exact(OxmField::kMplsLabel, 100)}, Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  k.nw_tos = 0xb8;  // DSCP 46: tc 46 & 7 = 6
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "push_mpls(label=0,tc=6,ttl=64,bos=1,eth_type=0x8847),set(mpls(label=100)),12")
      << trace_;
  EXPECT_EQ(r.mask.bits.nw_ttl, 0xff);
  EXPECT_EQ(r.mask.bits.nw_tos, 0xfc);
  // A second push copies the outer entry without bottom of stack.
  Flow(*a_, 0, 20, {OxmEntry::Exact(OxmField::kEthType, 0x8847)},
       Apply({ActPushMpls{0x8848}, Out(2)}));
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 5, 1, 1, 9), 1)),
            "push_mpls(label=5,tc=1,ttl=9,bos=0,eth_type=0x8848),12");
}

TEST_F(XlateTest, MplsMatchSetTtlDecTtl) {
  Flow(*a_, 0, 10,
       {OxmEntry::Exact(OxmField::kEthType, 0x8847), OxmEntry::Exact(OxmField::kMplsLabel, 5)},
       Apply({ActSetMplsTtl{10}, ActDecMplsTtl{},
              ActSetField{OxmEntry::Exact(OxmField::kMplsTc, 3)}, Out(2)}));
  auto r = Run(*a_, MplsKey(11, 5, 0, 1, 64), 1);
  EXPECT_EQ(Acts(r), "set(mpls(tc=3,ttl=9)),12") << trace_;
  EXPECT_EQ(r.mask.bits.mpls_lse, UINT32_MAX);
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 6, 0, 1, 64), 1)), "drop");  // label 6: no match

  // dec_mpls_ttl of TTL 1 (or 0) drops the packet, like dec_ttl.
  Flow(*a_, 0, 20, {OxmEntry::Exact(OxmField::kEthType, 0x8847)}, Apply({ActDecMplsTtl{}, Out(2)}));
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 7, 0, 1, 2), 1)), "set(mpls(ttl=1)),12");
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 7, 0, 1, 1), 1)), "drop");
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 7, 0, 1, 0), 1)), "drop");
  // MPLS actions on a packet without MPLS do nothing.
  auto udp = Udp(12, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  Flow(*a_, 0, 30, {OxmEntry::Exact(OxmField::kInPort, 2)},
       Apply({ActPopMpls{0x0800}, ActDecMplsTtl{}, Out(1)}));
  EXPECT_EQ(Acts(Run(*a_, udp, 2)), "11");
}

TEST_F(XlateTest, PopMplsThenGotoTableRecirculatesAndResumes) {
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kEthType, 0x8847)},
       {InstApplyActions{{ActPopMpls{0x0800}}}, InstWriteActions{{Out(3)}},
        InstWriteMetadata{0x7, 0xff}, InstGotoTable{1}},
       0x11);
  Flow(
      *a_, 1, 10,
      {OxmEntry::Exact(OxmField::kEthType, 0x0800), OxmEntry::Exact(OxmField::kIpv4Src, 0x0a000001),
       OxmEntry::Masked(OxmField::kMetadata, 0x7, 0xff)},
      Apply({Out(2)}));
  auto r = Run(*a_, MplsKey(11, 5, 0, 1, 64), 1);
  EXPECT_EQ(Acts(r), "pop_mpls(eth_type=0x800),recirc(0x1)") << trace_;
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.rules.size(), 1u);
  ASSERT_EQ(recirc_.size(), 1u);
  EXPECT_EQ(recirc_.Find(1)->stage, FrozenState::Stage::kTable);
  EXPECT_EQ(recirc_.Find(1)->table_id, 1);
  EXPECT_EQ(recirc_.Find(1)->metadata, 0x7u);

  // The recirculated packet, parsed again: table 1 matches the inner IPv4 source and the action
  // set (output 3) written before the recirculation runs at the end.
  auto inner = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  inner.recirc_id = 1;
  auto r2 = Run(*a_, inner, 1);
  EXPECT_EQ(Acts(r2), "12,13") << trace_;
  EXPECT_EQ(r2.mask.bits.recirc_id, UINT32_MAX);
  EXPECT_EQ(r2.mask.bits.nw_src, UINT32_MAX);
  inner.nw_src = htonl(0x0a000002);
  EXPECT_EQ(Acts(Run(*a_, inner, 1)), "13");  // table 1 misses; the action set still runs

  // The same packet again interns the same state: the megaflow stays the same.
  EXPECT_EQ(Acts(Run(*a_, MplsKey(11, 5, 0, 1, 64), 1)), "pop_mpls(eth_type=0x800),recirc(0x1)");
  EXPECT_EQ(recirc_.size(), 1u);
  // An unknown id drops.
  inner.recirc_id = 99;
  auto r3 = Run(*a_, inner, 1);
  EXPECT_EQ(Acts(r3), "drop");
  EXPECT_TRUE(r3.error);
}

TEST_F(XlateTest, PopMplsThenL3SetFieldFreezesMidList) {
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kEthType, 0x8847)},
       Apply({ActPopMpls{0x0800}, Out(3),
              ActSetField{OxmEntry::Exact(OxmField::kIpv4Dst, 0x0a0000ff)}, Out(2)}));
  auto r = Run(*a_, MplsKey(11, 5, 0, 1, 64), 1);
  // Output needs no L3: it happens before the recirculation.
  EXPECT_EQ(Acts(r), "pop_mpls(eth_type=0x800),13,recirc(0x1)") << trace_;
  ASSERT_NE(recirc_.Find(1), nullptr);
  EXPECT_EQ(recirc_.Find(1)->stage, FrozenState::Stage::kApply);
  EXPECT_EQ(recirc_.Find(1)->actions.size(), 2u);
  auto inner = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  inner.recirc_id = 1;
  EXPECT_EQ(Acts(Run(*a_, inner, 1)), "set(ipv4(dst=10.0.0.255)),12") << trace_;
}

TEST_F(XlateTest, PushThenPopMplsKeepsL3Known) {
  Flow(*a_, 0, 10, {},
       Apply({ActPushMpls{0x8847}, Out(3), ActPopMpls{0x0800}, ActDecNwTtl{}, Out(2)}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)),
            "push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8847),13,pop_mpls(eth_type=0x800),"
            "set(ipv4(ttl=63)),12")
      << trace_;
  EXPECT_TRUE(recirc_.size() == 0u);
}

TEST_F(XlateTest, MplsPushInGroupBucketIsUndoneForTheNextBucket) {
  GroupMod gm;
  gm.type = GroupType::kAll;
  gm.group_id = 1;
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {ActPushMpls{0x8847}, Out(2)}});
  gm.buckets.push_back(Bucket{0, kPortAny, kGroupAny, {Out(3)}});
  ASSERT_TRUE(a_->ofp->mutable_groups().Apply(gm));
  Flow(*a_, 0, 10, {}, Apply({ActGroup{1}}));
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  EXPECT_EQ(Acts(Run(*a_, k, 1)),
            "push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8847),12,pop_mpls(eth_type=0x800),13")
      << trace_;
}

TEST_F(XlateTest, StandaloneFailsOpenToNormalUntilAControllerConnects) {
  // The controller's flows drop everything from port 1.
  Flow(*a_, 0, 10, {OxmEntry::Exact(OxmField::kInPort, 1)}, {});
  auto k = Udp(11, "00:00:00:00:00:01", "00:00:00:00:00:02", "10.0.0.1", "10.0.0.2", 1, 2);
  std::string path = "/tmp/sluice-failopen-" + std::to_string(getpid()) + ".sock";
  ::unlink(path.c_str());
  clock::Stop();
  a_->ofp->SetFailMode(false);
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());  // no controller configured: never
  // A controller that is not there, probed every second: fail open after 3 s.
  a_->ofp->connmgr().SetControllers({"unix:" + path}, 1000, 1000);
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());
  clock::Warp(2999);
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  clock::Warp(1);
  a_->ofp->RunFailOpen();
  EXPECT_TRUE(a_->ofp->fail_open());
  auto r = Run(*a_, k, 1);
  EXPECT_EQ(Acts(r), "12,13,14");  // NORMAL floods, above the controller's flow
  EXPECT_TRUE(r.rules.empty());
  EXPECT_NE(trace_.find("fail-open"), std::string::npos) << trace_;
  // The hidden behaviour is not a flow: the table still holds only the controller's.
  EXPECT_EQ(a_->ofp->pipeline().TableStatsQuery().entries[0].active_count, 1u);
  // Secure never fails open.
  a_->ofp->SetFailMode(true);
  EXPECT_FALSE(a_->ofp->fail_open());
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  a_->ofp->SetFailMode(false);
  EXPECT_TRUE(a_->ofp->fail_open());

  // The controller comes up: as soon as it has negotiated, the bridge is back to its flows.
  asio::local::stream_protocol::acceptor acc(io_, asio::local::stream_protocol::endpoint(path));
  asio::local::stream_protocol::socket ctl(io_);
  bool accepted = false;
  acc.async_accept(ctl, [&](std::error_code ec) {
    ASSERT_FALSE(ec);
    accepted = true;
    const uint8_t hello[] = {4, 0, 0, 8, 0, 0, 0, 1};
    asio::write(ctl, asio::buffer(hello));
  });
  for (int i = 0; i < 5000 && a_->ofp->fail_open(); ++i) io_.run_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(accepted);
  EXPECT_FALSE(a_->ofp->fail_open());
  EXPECT_EQ(Acts(Run(*a_, k, 1)), "drop");
  // It goes away: three probe intervals later the bridge fails open again.
  ctl.close();
  for (int i = 0; i < 2000 && a_->ofp->connmgr().HasController(); ++i) {
    io_.run_for(std::chrono::milliseconds(1));
  }
  ASSERT_FALSE(a_->ofp->connmgr().HasController());
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());
  clock::Warp(3000);
  a_->ofp->RunFailOpen();
  EXPECT_TRUE(a_->ofp->fail_open());
  a_->ofp->connmgr().SetControllers({});
  a_->ofp->RunFailOpen();
  EXPECT_FALSE(a_->ofp->fail_open());  // no controllers configured any more
  ::unlink(path.c_str());
}

TEST(RecircRegistryTest, SweepDropsUnnamedStatesAfterTheGraceAndIdsAreNeverReused) {
  RecircRegistry reg;
  FrozenState a;
  a.bridge = "br0";
  a.table_id = 1;
  FrozenState b = a;
  b.table_id = 2;
  uint32_t ia = reg.Intern(a, 1000);
  uint32_t ib = reg.Intern(b, 1000);
  ASSERT_NE(ia, 0u);
  ASSERT_NE(ib, 0u);
  EXPECT_NE(ia, ib);
  EXPECT_EQ(reg.Intern(a, 1500), ia);  // deduplicated, and used again at 1500
  EXPECT_EQ(reg.size(), 2u);

  // Within the grace nothing goes; a kept id stays whatever its age.
  EXPECT_EQ(reg.Sweep({}, 1900, 1000), 0u);
  EXPECT_EQ(reg.Sweep({ib}, 2400, 1000), 0u);  // a: used at 1500, b: kept
  EXPECT_EQ(reg.Sweep({ib}, 2600, 1000), 1u);  // a: unused for 1100 ms
  EXPECT_EQ(reg.Find(ia), nullptr);
  ASSERT_NE(reg.Find(ib), nullptr);
  EXPECT_EQ(reg.Find(ib)->table_id, 2);
  EXPECT_EQ(reg.size(), 1u);

  // The same state again: a new id, never the dropped one.
  uint32_t ia2 = reg.Intern(a, 2800);
  EXPECT_NE(ia2, ia);
  EXPECT_NE(ia2, ib);
  EXPECT_EQ(reg.Find(ia2)->table_id, 1);
  EXPECT_EQ(reg.Sweep({}, 3500, 1000), 0u);  // b was kept at 2600, a used at 2800
  EXPECT_EQ(reg.Sweep({}, 3800, 1000), 2u);
  EXPECT_EQ(reg.size(), 0u);
}

}  // namespace
}  // namespace sluice::ofp
