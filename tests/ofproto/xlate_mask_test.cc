// The megaflow mask property: every packet inside a megaflow translates the same way, for
// random rules and for the set-fields of ARP, ICMP and neighbour discovery.
#include <random>

#include "tests/ofproto/xlate_test_util.h"

namespace sluice::ofp::test {
namespace {

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
}  // namespace sluice::ofp::test
