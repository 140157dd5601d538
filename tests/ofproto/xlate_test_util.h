// The fixture of the translation tests (xlate_test.cc, xlate_mask_test.cc,
// xlate_mpls_test.cc): bridges as xlate sees them, without a datapath.
#pragma once

#include <arpa/inet.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <unordered_map>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "datapath/flow/odp_text.h"
#include "ofproto/ofproto.h"
#include "ofproto/xlate/xlate.h"

namespace sluice::ofp::test {

inline dp::FlowKey Udp(uint32_t in_port, const char* src_mac, const char* dst_mac,
                       const char* src_ip, const char* dst_ip, uint16_t sport, uint16_t dport) {
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

inline dp::FlowKey ArpKey(uint16_t op) {
  dp::FlowKey k = Udp(11, "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "10.0.0.1", "10.0.0.2", 0, 0);
  k.eth_type = htons(0x0806);
  k.nw_proto = static_cast<uint8_t>(op);
  k.nw_ttl = 0;
  k.arp_sha = {0, 0, 0, 0, 0, 1};
  return k;
}

inline dp::FlowKey Icmp6Key(uint8_t type) {
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

}  // namespace sluice::ofp::test
