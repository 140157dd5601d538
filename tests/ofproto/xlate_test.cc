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
  a_->x.ports[1].vlan = PortVlan{M::kAccess, 10, {}};
  a_->x.ports[2].vlan = PortVlan{M::kAccess, 10, {}};
  a_->x.ports[3].vlan = PortVlan{M::kAccess, 20, {}};
  a_->x.ports[4].vlan = PortVlan{M::kTrunk, -1, {10, 20}};
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
      InstructionList insts = {InstApplyActions{acts}};
      if (rnd(3) == 0) insts.push_back(InstGotoTable{1});
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

}  // namespace
}  // namespace sluice::ofp
