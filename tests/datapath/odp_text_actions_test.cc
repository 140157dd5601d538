#include "datapath/flow/odp_text.h"

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::dp {
namespace {

using ::testing::HasSubstr;

uint32_t Ip(const char* s) {
  uint32_t a;
  EXPECT_EQ(inet_pton(AF_INET, s, &a), 1);
  return a;
}

constexpr MacAddr kMacFull = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// ---- actions ---------------------------------------------------------------------------------

ActionBuilder MustParseActions(std::string_view text) {
  auto r = ParseOdpActions(text);
  EXPECT_TRUE(r.has_value()) << text << " -> " << (r ? "" : r.error().message);
  return r ? std::move(*r) : ActionBuilder{};
}

std::string ActionsError(std::string_view text) {
  auto r = ParseOdpActions(text);
  EXPECT_FALSE(r.has_value()) << "accepted: " << text;
  return r ? "" : r.error().message;
}

void ExpectCanonicalActions(std::string_view text) {
  ActionBuilder b = MustParseActions(text);
  EXPECT_EQ(FormatOdpActions(b.view()), text);
}

std::vector<ActionHeader> Headers(const ActionBuilder& b) {
  std::vector<ActionHeader> out;
  for (auto it = b.view().begin(); it != b.view().end(); ++it) out.push_back(*it);
  return out;
}

TEST(OdpActionsTest, OutputAndDrop) {
  ActionBuilder b = MustParseActions("1,output:2, 3");
  auto hs = Headers(b);
  ASSERT_EQ(hs.size(), 3u);
  uint32_t ports[3];
  int i = 0;
  for (auto it = b.view().begin(); it != b.view().end(); ++it) {
    EXPECT_EQ(it->type, static_cast<uint16_t>(ActionType::kOutput));
    ports[i++] = it.payload<ActOutput>().port;
  }
  EXPECT_EQ(ports[0], 1u);
  EXPECT_EQ(ports[1], 2u);
  EXPECT_EQ(ports[2], 3u);
  EXPECT_EQ(FormatOdpActions(b.view()), "1,2,3");

  EXPECT_TRUE(MustParseActions("drop").view().empty());
  EXPECT_TRUE(MustParseActions("").view().empty());
  EXPECT_EQ(FormatOdpActions(ActionView{}), "drop");
  ActionBuilder d = MustParseActions("1,drop");
  ASSERT_EQ(Headers(d).size(), 2u);
  EXPECT_EQ(Headers(d)[1].type, static_cast<uint16_t>(ActionType::kDrop));
  EXPECT_EQ(FormatOdpActions(d.view()), "1,drop");
}

TEST(OdpActionsTest, Userspace) {
  ActionBuilder b = MustParseActions("userspace(pid=42)");
  auto it = b.view().begin();
  EXPECT_EQ(it->type, static_cast<uint16_t>(ActionType::kUserspace));
  EXPECT_EQ(it.payload<ActUserspace>().pid, 42u);
  EXPECT_EQ(it.payload<ActUserspace>().cookie, 0u);
  EXPECT_EQ(FormatOdpActions(b.view()), "userspace(pid=42)");
  ActionBuilder u = MustParseActions("userspace(pid=7,userdata(0102))");
  uint64_t cookie = u.view().begin().payload<ActUserspace>().cookie;
  uint8_t bytes[8];
  std::memcpy(bytes, &cookie, 8);
  EXPECT_EQ(bytes[0], 1);
  EXPECT_EQ(bytes[1], 2);
  EXPECT_EQ(bytes[2], 0);
  EXPECT_EQ(FormatOdpActions(u.view()), "userspace(pid=7,userdata(0102000000000000))");
  ExpectCanonicalActions("userspace(pid=4294967295,userdata(deadbeef00000001))");
}

TEST(OdpActionsTest, VlanActions) {
  ActionBuilder b = MustParseActions("push_vlan(vid=10,pcp=0)");
  auto it = b.view().begin();
  EXPECT_EQ(it->type, static_cast<uint16_t>(ActionType::kPushVlan));
  EXPECT_EQ(it.payload<ActPushVlan>().tpid, htons(0x8100));
  EXPECT_EQ(it.payload<ActPushVlan>().tci, htons(10 | kVlanCfi));
  EXPECT_EQ(FormatOdpActions(b.view()), "push_vlan(vid=10,pcp=0)");
  ActionBuilder q = MustParseActions("push_vlan(tpid=0x88a8,vid=100,pcp=5)");
  EXPECT_EQ(q.view().begin().payload<ActPushVlan>().tpid, htons(0x88a8));
  EXPECT_EQ(q.view().begin().payload<ActPushVlan>().tci, htons(100 | 5 << 13 | kVlanCfi));
  EXPECT_EQ(FormatOdpActions(q.view()), "push_vlan(tpid=0x88a8,vid=100,pcp=5)");
  ExpectCanonicalActions("push_vlan(vid=4095,pcp=7,cfi=0),pop_vlan,pop_vlan,2");
}

TEST(OdpActionsTest, Recirc) {
  ActionBuilder b = MustParseActions("recirc(1)");
  EXPECT_EQ(b.view().begin().payload<ActRecirc>().recirc_id, 1u);
  EXPECT_EQ(FormatOdpActions(b.view()), "recirc(0x1)");
  EXPECT_EQ(FormatOdpActions(MustParseActions("recirc(0x2a)").view()), "recirc(0x2a)");
  EXPECT_EQ(FormatOdpActions(MustParseActions("recirc(0)").view()), "recirc(0)");
}

TEST(OdpActionsTest, SetMasked) {
  ActionBuilder b = MustParseActions("set(ipv4(src=10.0.0.1,ttl=63))");
  auto it = b.view().begin();
  ASSERT_EQ(it->type, static_cast<uint16_t>(ActionType::kSetMasked));
  const ActSetMasked& s = it.payload<ActSetMasked>();
  EXPECT_EQ(s.header, static_cast<uint16_t>(SetHeader::kIpv4));
  EXPECT_EQ(s.value.ipv4.src, Ip("10.0.0.1"));
  EXPECT_EQ(s.mask.ipv4.src, UINT32_MAX);
  EXPECT_EQ(s.value.ipv4.ttl, 63);
  EXPECT_EQ(s.mask.ipv4.ttl, 0xff);
  EXPECT_EQ(s.mask.ipv4.dst, 0u);
  EXPECT_EQ(s.mask.ipv4.tos, 0);
  EXPECT_EQ(FormatOdpActions(b.view()), "set(ipv4(src=10.0.0.1,ttl=63))");

  ActionBuilder m = MustParseActions("set(ipv4(src=10.0.0.1/255.255.255.0))");
  const ActSetMasked& sm = m.view().begin().payload<ActSetMasked>();
  EXPECT_EQ(sm.mask.ipv4.src, Ip("255.255.255.0"));
  EXPECT_EQ(FormatOdpActions(m.view()), "set(ipv4(src=10.0.0.0/255.255.255.0))");
  EXPECT_EQ(FormatOdpActions(MustParseActions("set(ipv4(src=10.0.0.0/24))").view()),
            "set(ipv4(src=10.0.0.0/255.255.255.0))");

  ActionBuilder e = MustParseActions("set(eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02))");
  const ActSetMasked& se = e.view().begin().payload<ActSetMasked>();
  EXPECT_EQ(se.header, static_cast<uint16_t>(SetHeader::kEthernet));
  EXPECT_EQ(se.value.eth.dst, (MacAddr{0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(se.mask.eth.src, kMacFull);

  ActionBuilder t = MustParseActions("set(tcp(dst=8080))");
  EXPECT_EQ(t.view().begin().payload<ActSetMasked>().header,
            static_cast<uint16_t>(SetHeader::kTcp));
  EXPECT_EQ(t.view().begin().payload<ActSetMasked>().value.ports.dst, htons(8080));
  EXPECT_EQ(t.view().begin().payload<ActSetMasked>().mask.ports.src, 0);

  ExpectCanonicalActions("set(eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02)),1");
  ExpectCanonicalActions("set(ipv4(src=1.2.3.4,dst=5.6.7.8,tos=0x10,ttl=1))");
  ExpectCanonicalActions("set(ipv6(src=2001:db8::1,dst=::1,label=0x5,tclass=0x2,hlimit=9))");
  ExpectCanonicalActions("set(tcp(src=1,dst=2)),set(udp(dst=53)),set(sctp(src=9/0xff))");
}

TEST(OdpActionsTest, SetArpIcmpNd) {
  ActionBuilder a = MustParseActions(
      "set(arp(sip=10.0.0.1,tip=10.0.0.2,op=258,sha=00:00:00:00:00:01,tha=00:00:00:00:00:02))");
  const ActSetMasked& sa = a.view().begin().payload<ActSetMasked>();
  EXPECT_EQ(sa.header, static_cast<uint16_t>(SetHeader::kArp));
  EXPECT_EQ(sa.value.arp.sip, Ip("10.0.0.1"));
  EXPECT_EQ(sa.value.arp.tip, Ip("10.0.0.2"));
  EXPECT_EQ(sa.value.arp.op, htons(258));  // the whole 16-bit opcode
  EXPECT_EQ(sa.mask.arp.op, 0xffff);
  EXPECT_EQ(sa.value.arp.tha, (MacAddr{0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(sa.mask.arp.sha, kMacFull);

  ActionBuilder i = MustParseActions("set(icmp(code=10))");
  const ActSetMasked& si = i.view().begin().payload<ActSetMasked>();
  EXPECT_EQ(si.header, static_cast<uint16_t>(SetHeader::kIcmp));
  EXPECT_EQ(si.value.icmp.code, 10);
  EXPECT_EQ(si.mask.icmp.code, 0xff);
  EXPECT_EQ(si.mask.icmp.type, 0);
  EXPECT_EQ(MustParseActions("set(icmpv6(type=135))").view().begin().payload<ActSetMasked>().header,
            static_cast<uint16_t>(SetHeader::kIcmpv6));

  ActionBuilder n = MustParseActions("set(nd(target=2001:db8::7,tll=02:00:00:00:00:09))");
  const ActSetMasked& sn = n.view().begin().payload<ActSetMasked>();
  EXPECT_EQ(sn.header, static_cast<uint16_t>(SetHeader::kNd));
  EXPECT_EQ(sn.value.nd.target[15], 7);
  EXPECT_EQ(sn.mask.nd.target[0], 0xff);
  EXPECT_EQ(sn.value.nd.tll, (MacAddr{2, 0, 0, 0, 0, 9}));
  EXPECT_EQ(sn.mask.nd.sll, (MacAddr{}));

  // As ovs-dpctl prints them: fields with a zero mask left out, partial masks after '/'.
  ExpectCanonicalActions(
      "set(arp(sip=10.0.0.1,tip=10.0.0.2,op=2,sha=00:00:00:00:00:01,tha=00:00:00:00:00:02)),1");
  ExpectCanonicalActions("set(arp(sip=10.0.0.0/255.255.0.0,op=1/0xff))");
  ExpectCanonicalActions("set(icmp(type=0,code=10)),set(icmpv6(type=128/0xf0))");
  ExpectCanonicalActions("set(nd(target=2001:db8::1,sll=02:00:00:00:00:01,tll=02:00:00:00:00:02))");
  ExpectCanonicalActions("set(nd(sll=02:00:00:00:00:00/ff:ff:00:00:00:00))");
}

TEST(OdpActionsTest, Combined) {
  ExpectCanonicalActions(
      "set(eth(dst=02:00:00:00:00:09)),push_vlan(vid=10,pcp=0),2,pop_vlan,"
      "userspace(pid=1),recirc(0x7),3");
}

TEST(OdpActionsTest, Errors) {
  EXPECT_EQ(ActionsError("foo"), "unknown action 'foo'");
  EXPECT_EQ(ActionsError("1,foo(2)"), "unknown action 'foo'");
  EXPECT_THAT(ActionsError("recirc(x)"), HasSubstr("recirc: bad number 'x'"));
  EXPECT_THAT(ActionsError("recirc(1)x"), HasSubstr("unexpected 'x' after 'recirc'"));
  EXPECT_THAT(ActionsError("recirc(1"), HasSubstr("expected ')'"));
  EXPECT_THAT(ActionsError("1x"), HasSubstr("bad number '1x'"));
  EXPECT_THAT(ActionsError("99999999999"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("output:99999999999"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("output"), HasSubstr("expected ':'"));
  EXPECT_THAT(ActionsError("1,,2"), HasSubstr("expected an action"));
  EXPECT_THAT(ActionsError("1,"), HasSubstr("expected an action"));
  EXPECT_THAT(ActionsError("1 2"), HasSubstr("unexpected '2'"));
  EXPECT_THAT(ActionsError("set(vxlan(vni=1))"), HasSubstr("unsupported header 'vxlan'"));
  EXPECT_THAT(ActionsError("set(arp(op=65536))"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("set(icmp(type=256))"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("set(icmpv6(type=1,type=2))"), HasSubstr("duplicate field 'type'"));
  EXPECT_THAT(ActionsError("set(nd(target=1.2.3.4))"), HasSubstr("bad IPv6 address"));
  EXPECT_THAT(ActionsError("set(nd(proto=58))"), HasSubstr("unknown field 'proto'"));
  EXPECT_THAT(ActionsError("set(ipv4(proto=6))"), HasSubstr("unknown field 'proto'"));
  EXPECT_THAT(ActionsError("set(ipv4(src=1.2.3))"), HasSubstr("bad IPv4 address '1.2.3'"));
  EXPECT_THAT(ActionsError("set(ipv4(src=1.2.3.4)"), HasSubstr("expected ')'"));
  EXPECT_THAT(ActionsError("set(tcp(dst=1)),"), HasSubstr("expected an action"));
  EXPECT_THAT(ActionsError("push_vlan(vid=4096)"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("push_vlan(vid=1,vid=2)"), HasSubstr("duplicate field 'vid'"));
  EXPECT_THAT(ActionsError("push_vlan(color=1)"), HasSubstr("unknown field 'color'"));
  EXPECT_THAT(ActionsError("userspace()"), HasSubstr("missing pid"));
  EXPECT_THAT(ActionsError("userspace(pid=1,foo=2)"), HasSubstr("unknown field 'foo'"));
  EXPECT_THAT(ActionsError("userspace(pid=1,userdata(123))"), HasSubstr("userdata"));
  EXPECT_THAT(ActionsError("userspace(pid=1,userdata(zz))"), HasSubstr("bad hex"));
  EXPECT_THAT(ActionsError("pop_vlan(1)"), HasSubstr("unexpected '(1)'"));
  EXPECT_THAT(ActionsError("@"), HasSubstr("expected an action at '@'"));
}

TEST(OdpActionsTest, MalformedEncodingsFormatWithoutLooping) {
  uint64_t buf[2] = {};
  ActionHeader h{static_cast<uint16_t>(ActionType::kOutput), 0, 0};  // len 0
  std::memcpy(buf, &h, sizeof(h));
  EXPECT_THAT(FormatOdpActions(ActionView(reinterpret_cast<uint8_t*>(buf), 16)),
              HasSubstr("<malformed"));
  h.len = 8;  // too short for its payload
  std::memcpy(buf, &h, sizeof(h));
  EXPECT_THAT(FormatOdpActions(ActionView(reinterpret_cast<uint8_t*>(buf), 8)),
              HasSubstr("<malformed"));
  h = {999, 8, 0};
  std::memcpy(buf, &h, sizeof(h));
  EXPECT_THAT(FormatOdpActions(ActionView(reinterpret_cast<uint8_t*>(buf), 8)),
              HasSubstr("unknown action type 999"));
}

TEST(OdpActionsTest, RandomRoundTrips) {
  std::mt19937 rng(777);
  for (int iter = 0; iter < 3000; ++iter) {
    ActionBuilder b;
    int n = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      switch (rng() % 7) {
        case 0:
          b.Output(rng());
          break;
        case 1:
          b.Userspace(rng(), rng() % 2 ? 0 : (static_cast<uint64_t>(rng()) << 32 | rng()));
          break;
        case 2:
          b.PushVlan(htons(rng() % 2 ? 0x8100 : 0x88a8), htons(static_cast<uint16_t>(rng())));
          break;
        case 3:
          b.PopVlan();
          break;
        case 4:
          b.Recirc(rng());
          break;
        case 5:
          b.Drop();
          break;
        default: {
          ActSetMasked s;
          std::memset(&s, 0, sizeof(s));
          uint32_t which = rng() % 6;
          static constexpr SetHeader kHeaders[] = {SetHeader::kIpv4,     SetHeader::kUdp,
                                                   SetHeader::kEthernet, SetHeader::kArp,
                                                   SetHeader::kIcmpv6,   SetHeader::kNd};
          s.header = static_cast<uint16_t>(kHeaders[which]);
          if (which == 0) {
            s.mask.ipv4.src = rng() % 2 ? UINT32_MAX : rng();
            s.value.ipv4.src = rng() & s.mask.ipv4.src;
            s.mask.ipv4.ttl = static_cast<uint8_t>(rng());
            s.value.ipv4.ttl = static_cast<uint8_t>(rng()) & s.mask.ipv4.ttl;
          } else if (which == 1) {
            s.mask.ports.dst = static_cast<uint16_t>(rng());
            s.value.ports.dst = static_cast<uint16_t>(rng()) & s.mask.ports.dst;
          } else if (which == 2) {
            for (int j = 0; j < 6; ++j) {
              s.mask.eth.src[j] = static_cast<uint8_t>(rng());
              s.value.eth.src[j] = static_cast<uint8_t>(rng()) & s.mask.eth.src[j];
            }
          } else if (which == 3) {
            s.mask.arp.op = static_cast<uint16_t>(rng());
            s.value.arp.op = static_cast<uint16_t>(rng()) & s.mask.arp.op;
            s.mask.arp.tip = rng() % 2 ? UINT32_MAX : rng();
            s.value.arp.tip = rng() & s.mask.arp.tip;
            for (int j = 0; j < 6; ++j) {
              s.mask.arp.tha[j] = static_cast<uint8_t>(rng());
              s.value.arp.tha[j] = static_cast<uint8_t>(rng()) & s.mask.arp.tha[j];
            }
          } else if (which == 4) {
            s.mask.icmp.type = static_cast<uint8_t>(rng());
            s.value.icmp.type = static_cast<uint8_t>(rng()) & s.mask.icmp.type;
            s.mask.icmp.code = static_cast<uint8_t>(rng() % 2 ? 0xff : 0);
            s.value.icmp.code = static_cast<uint8_t>(rng()) & s.mask.icmp.code;
          } else {
            for (int j = 0; j < 16; ++j) {
              s.mask.nd.target[j] = static_cast<uint8_t>(rng() % 2 ? 0xff : rng());
              s.value.nd.target[j] = static_cast<uint8_t>(rng()) & s.mask.nd.target[j];
            }
            for (int j = 0; j < 6; ++j) {
              s.mask.nd.sll[j] = static_cast<uint8_t>(rng());
              s.value.nd.sll[j] = static_cast<uint8_t>(rng()) & s.mask.nd.sll[j];
            }
          }
          b.SetMasked(s);
        }
      }
    }
    if (n == 1 && b.view().begin()->type == static_cast<uint16_t>(ActionType::kDrop)) continue;
    std::string text = FormatOdpActions(b.view());
    auto r = ParseOdpActions(text);
    ASSERT_TRUE(r.has_value()) << text << " -> " << r.error().message;
    ASSERT_EQ(r->size(), b.size()) << text;
    ASSERT_EQ(std::memcmp(r->storage().data(), b.storage().data(), b.size()), 0) << text;
  }
}

TEST(OdpActionsTest, MutatedInputsNeverCrash) {
  std::mt19937 rng(5);
  const std::string base =
      "set(eth(dst=02:00:00:00:00:09)),push_vlan(tpid=0x88a8,vid=10,pcp=0),2,pop_vlan,"
      "userspace(pid=1,userdata(0102)),recirc(0x7),set(ipv4(src=10.0.0.0/255.0.0.0)),3";
  static constexpr char kAlphabet[] = "(),=/:.x0123456789+-_ adefilnoprstuv";
  for (int i = 0; i < 5000; ++i) {
    std::string text = base;
    int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % text.size();
      if (rng() % 2) {
        text.erase(pos, 1);
      } else {
        text[pos] = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
      }
    }
    auto r = ParseOdpActions(text);
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
      continue;
    }
    std::string again = FormatOdpActions(r->view());
    auto r2 = ParseOdpActions(again);
    ASSERT_TRUE(r2.has_value()) << text << " -> " << again;
    EXPECT_EQ(FormatOdpActions(r2->view()), again);
  }
}

}  // namespace
}  // namespace sluice::dp

namespace sluice::dp {
namespace {

TEST(OdpActionsTest, MplsActions) {
  ActionBuilder b = MustParseActions("push_mpls(label=100,tc=3,ttl=64,bos=1,eth_type=0x8847)");
  auto it = b.view().begin();
  ASSERT_EQ(it->type, static_cast<uint16_t>(ActionType::kPushMpls));
  EXPECT_EQ(it.payload<ActPushMpls>().lse, htonl(100u << 12 | 3u << 9 | 1u << 8 | 64u));
  EXPECT_EQ(it.payload<ActPushMpls>().ethertype, htons(0x8847));
  EXPECT_EQ(FormatOdpActions(b.view()), "push_mpls(label=100,tc=3,ttl=64,bos=1,eth_type=0x8847)");

  ActionBuilder p = MustParseActions("pop_mpls(eth_type=0x800)");
  ASSERT_EQ(p.view().begin()->type, static_cast<uint16_t>(ActionType::kPopMpls));
  EXPECT_EQ(p.view().begin().payload<ActPopMpls>().ethertype, htons(0x0800));
  ExpectCanonicalActions("pop_mpls(eth_type=0x800)");

  ActionBuilder s = MustParseActions("set(mpls(label=5,ttl=63))");
  const auto& sm = s.view().begin().payload<ActSetMasked>();
  EXPECT_EQ(sm.header, static_cast<uint16_t>(SetHeader::kMpls));
  EXPECT_EQ(sm.value.mpls.lse, htonl(5u << 12 | 63u));
  EXPECT_EQ(sm.mask.mpls.lse, htonl(kMplsLabelMask | kMplsTtlMask));
  ExpectCanonicalActions("set(mpls(label=5,ttl=63))");
  ExpectCanonicalActions("set(mpls(tc=1/0x1,bos=0))");
  ExpectCanonicalActions(
      "pop_vlan,push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8848),set(mpls(label=1048575)),3");

  EXPECT_THAT(ActionsError("push_mpls(label=1,ttl=1,tc=0,bos=1)"), HasSubstr("missing eth_type"));
  EXPECT_THAT(ActionsError("push_mpls(label=1,eth_type=0x800)"), HasSubstr("0x8847 or 0x8848"));
  EXPECT_THAT(ActionsError("push_mpls(label=1048576,eth_type=0x8847)"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("pop_mpls(label=1)"), HasSubstr("eth_type"));
  EXPECT_THAT(ActionsError("set(mpls(tc=8))"), HasSubstr("out of range"));
  EXPECT_THAT(ActionsError("set(mpls(exp=1))"), HasSubstr("unknown field 'exp'"));
}

}  // namespace
}  // namespace sluice::dp
