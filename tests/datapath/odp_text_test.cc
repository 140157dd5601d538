#include "datapath/flow/odp_text.h"

#include <arpa/inet.h>
#include <endian.h>

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sluice::dp {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  FlowKey key;
  FlowMask mask;
};

Parsed MustParse(std::string_view text) {
  Parsed p;
  auto r = ParseOdpFlow(text, &p.key, &p.mask);
  EXPECT_TRUE(r.has_value()) << text << " -> " << (r ? "" : r.error().message);
  return p;
}

std::string ParseError(std::string_view text) {
  FlowKey key;
  FlowMask mask;
  auto r = ParseOdpFlow(text, &key, &mask);
  EXPECT_FALSE(r.has_value()) << "accepted: " << text;
  if (r) return "";
  EXPECT_EQ(r.error().code, Errc::kInvalid);
  return r.error().message;
}

// Parses, formats and expects the same text back.
void ExpectCanonical(std::string_view text) {
  Parsed p = MustParse(text);
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), text);
}

// Both texts parse to the same key and mask.
void ExpectSameMatch(std::string_view a, std::string_view b) {
  Parsed p = MustParse(a);
  Parsed q = MustParse(b);
  EXPECT_EQ(p.key, q.key) << a << " vs " << b;
  EXPECT_EQ(p.mask, q.mask) << a << " vs " << b;
}

uint32_t Ip(const char* s) {
  uint32_t a;
  EXPECT_EQ(inet_pton(AF_INET, s, &a), 1);
  return a;
}

In6Addr Ip6(const char* s) {
  In6Addr a;
  EXPECT_EQ(inet_pton(AF_INET6, s, a.data()), 1);
  return a;
}

constexpr MacAddr kMacFull = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

// ---- flows: exact printed forms ------------------------------------------------------------

TEST(OdpFlowTest, OvsExampleRoundTripsAndMapsFields) {
  const char* text =
      "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=00:00:00:00:00:01,"
      "dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.0/255.0.0.0,proto=6,"
      "frag=no),tcp(dst=80)";
  Parsed p = MustParse(text);
  EXPECT_EQ(p.key.recirc_id, 0u);
  EXPECT_EQ(p.mask.bits.recirc_id, UINT32_MAX);
  EXPECT_EQ(p.key.in_port, 1u);
  EXPECT_EQ(p.mask.bits.in_port, UINT32_MAX);
  EXPECT_EQ(p.key.eth_src, (MacAddr{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(p.key.eth_dst, (MacAddr{0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(p.mask.bits.eth_src, kMacFull);
  EXPECT_EQ(p.key.eth_type, htons(0x0800));
  EXPECT_EQ(p.mask.bits.eth_type, 0xffff);
  EXPECT_EQ(p.key.nw_src, Ip("10.0.0.1"));
  EXPECT_EQ(p.key.nw_dst, Ip("10.0.0.0"));
  EXPECT_EQ(p.mask.bits.nw_dst, Ip("255.0.0.0"));
  EXPECT_EQ(p.key.nw_proto, 6);
  EXPECT_EQ(p.key.nw_frag, 0);
  EXPECT_EQ(p.mask.bits.nw_frag, kFragAny | kFragLater);
  EXPECT_EQ(p.key.tp_dst, htons(80));
  EXPECT_EQ(p.mask.bits.tp_dst, 0xffff);
  EXPECT_EQ(p.mask.bits.tp_src, 0);
  EXPECT_EQ(p.mask.bits.nw_tos, 0);
  EXPECT_EQ(p.mask.bits.dp_hash, 0u);
  // No vlan(): untagged frames only, as in Open vSwitch.
  for (int level : {0, 1}) {
    EXPECT_EQ(p.key.vlans[level].tpid, 0);
    EXPECT_EQ(p.key.vlans[level].tci, 0);
    EXPECT_EQ(p.mask.bits.vlans[level].tpid, 0xffff);
    EXPECT_EQ(p.mask.bits.vlans[level].tci, 0xffff);
  }
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), text);
}

TEST(OdpFlowTest, PrefixAndDottedMasksAreTheSame) {
  ExpectSameMatch("ipv4(src=10.0.0.0/255.0.0.0)", "ipv4(src=10.0.0.0/8)");
  Parsed b = MustParse("ipv4(src=10.0.0.0/8)");
  EXPECT_EQ(FormatOdpFlow(b.key, b.mask), "packet_type(ns=0,id=0),ipv4(src=10.0.0.0/255.0.0.0)");
  Parsed c = MustParse("ipv6(dst=2001:db8::/32)");
  EXPECT_EQ(FormatOdpFlow(c.key, c.mask),
            "packet_type(ns=0,id=0),ipv6(dst=2001:db8::/ffff:ffff::)");
  Parsed d = MustParse("ipv4(src=10.1.2.3/0)");
  EXPECT_EQ(d.mask.bits.nw_src, 0u);
  EXPECT_EQ(FormatOdpFlow(d.key, d.mask), "packet_type(ns=0,id=0)");
}

TEST(OdpFlowTest, KeyIsStoredMasked) {
  Parsed p =
      MustParse("ipv4(src=10.1.2.3/255.255.0.0),eth(dst=01:23:45:67:89:ab/ff:00:00:00:00:00)");
  EXPECT_EQ(p.key.nw_src, Ip("10.1.0.0"));
  EXPECT_EQ(p.key.eth_dst, (MacAddr{0x01, 0, 0, 0, 0, 0}));
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask),
            "packet_type(ns=0,id=0),eth(dst=01:00:00:00:00:00/ff:00:00:00:00:00),"
            "ipv4(src=10.1.0.0/255.255.0.0)");
}

TEST(OdpFlowTest, MetadataAttributes) {
  Parsed p = MustParse("recirc_id(0x1),dp_hash(0x12/0xff),skb_mark(7),in_port(3/0xff)");
  EXPECT_EQ(p.key.recirc_id, 1u);
  EXPECT_EQ(p.key.dp_hash, 0x12u);
  EXPECT_EQ(p.mask.bits.dp_hash, 0xffu);
  EXPECT_EQ(p.key.pkt_mark, 7u);
  EXPECT_EQ(p.key.in_port, 3u);
  EXPECT_EQ(p.mask.bits.in_port, 0xffu);
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask),
            "skb_mark(0x7),recirc_id(0x1),dp_hash(0x12/0xff),in_port(3/0xff),"
            "packet_type(ns=0,id=0)");
}

TEST(OdpFlowTest, Tunnel) {
  Parsed p = MustParse("tunnel(tun_id=0x4,src=10.6.12.8,dst=10.6.12.7),in_port(2)");
  EXPECT_EQ(p.key.tun_id, htobe64(4));
  EXPECT_EQ(p.mask.bits.tun_id, UINT64_MAX);
  EXPECT_EQ(p.key.tun_src, Ip("10.6.12.8"));
  EXPECT_EQ(p.key.tun_dst, Ip("10.6.12.7"));
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask),
            "tunnel(tun_id=0x4,src=10.6.12.8,dst=10.6.12.7),in_port(2),packet_type(ns=0,id=0)");
  ExpectCanonical("tunnel(tun_id=0x0/0xffff0000),packet_type(ns=0,id=0)");
}

TEST(OdpFlowTest, UfidIsSkipped) {
  Parsed p = MustParse("ufid:3f2a1b4c-0000-0000-0000-000000000001,in_port(5),eth_type(0x0806)");
  EXPECT_EQ(p.key.in_port, 5u);
  EXPECT_EQ(p.key.eth_type, htons(0x0806));
  Parsed q = MustParse("  ufid:abc , in_port(5) , eth_type(0x0806)  ");
  EXPECT_EQ(p.key, q.key);
  EXPECT_EQ(p.mask, q.mask);
}

TEST(OdpFlowTest, EmptyIsAllWildcards) {
  Parsed p = MustParse("");
  FlowMask zero;
  zero.Clear();
  EXPECT_EQ(p.mask, zero);
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), "");
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask, OdpVerbosity::kVerbose), "");
  // Anything named makes it an (untagged) Ethernet flow.
  Parsed q = MustParse("packet_type(ns=0,id=0)");
  EXPECT_EQ(q.mask.bits.vlans[0].tci, 0xffff);
  EXPECT_EQ(FormatOdpFlow(q.key, q.mask), "packet_type(ns=0,id=0)");
}

TEST(OdpFlowTest, PacketTypeIsEthernetOnly) {
  ExpectSameMatch("in_port(1),packet_type(ns=0,id=0),eth_type(0x0800)",
                  "in_port(1),eth_type(0x0800)");
  EXPECT_THAT(ParseError("in_port(1),packet_type(ns=1,id=0x800)"),
              HasSubstr("packet_type: only Ethernet frames (ns=0,id=0) are supported"));
  EXPECT_THAT(ParseError("packet_type(ns=0,id=0/0)"), HasSubstr("only Ethernet"));
  EXPECT_THAT(ParseError("packet_type(id=0,ns=0)"), HasSubstr("expected 'ns='"));
  EXPECT_THAT(ParseError("packet_type(ns=0)"), HasSubstr("expected ',' after ns"));
  EXPECT_THAT(ParseError("vlan(vid=1),encap(packet_type(ns=0,id=0))"),
              HasSubstr("not allowed inside encap()"));
}

TEST(OdpFlowTest, SingleVlan) {
  const char* text =
      "in_port(1),packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=10,pcp=0),"
      "encap(eth_type(0x0800),ipv4(src=1.2.3.4,proto=17),udp(dst=53))";
  Parsed p = MustParse(text);
  EXPECT_EQ(p.key.vlans[0].tpid, htons(0x8100));
  EXPECT_EQ(p.mask.bits.vlans[0].tpid, 0xffff);
  EXPECT_EQ(p.key.vlans[0].tci, htons(10 | kVlanCfi));
  EXPECT_EQ(p.mask.bits.vlans[0].tci, 0xffff);
  EXPECT_EQ(p.mask.bits.vlans[1].tci, 0xffff);  // no second tag
  EXPECT_EQ(p.key.vlans[1].tci, 0);
  EXPECT_EQ(p.key.eth_type, htons(0x0800));
  EXPECT_EQ(p.key.tp_dst, htons(53));
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), text);
}

TEST(OdpFlowTest, QinQ) {
  const char* text =
      "packet_type(ns=0,id=0),eth_type(0x88a8),vlan(vid=100,pcp=3),encap(eth_type(0x8100),"
      "vlan(vid=200),encap(eth_type(0x86dd),ipv6(src=::1)))";
  Parsed p = MustParse(text);
  EXPECT_EQ(p.key.vlans[0].tpid, htons(0x88a8));
  EXPECT_EQ(p.key.vlans[0].tci, htons(100 | 3 << 13 | kVlanCfi));
  EXPECT_EQ(p.key.vlans[1].tpid, htons(0x8100));
  EXPECT_EQ(p.key.vlans[1].tci, htons(200 | kVlanCfi));
  EXPECT_EQ(p.mask.bits.vlans[1].tci, htons(0x0fff | kVlanCfi));
  EXPECT_EQ(p.key.eth_type, htons(0x86dd));
  EXPECT_EQ(p.key.ipv6_src, Ip6("::1"));
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), text);
}

TEST(OdpFlowTest, VlanVariants) {
  // As OVS: an encap() after every vlan(), empty when nothing inside is matched.
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=16/0xff0,pcp=4/0x4),encap()");
  // "No tag" is what a missing vlan() means; tersely any "no tag" match prints that way.
  ExpectSameMatch("eth_type(0x0000),vlan(vid=0,pcp=0,cfi=0),encap(eth_type(0x0800))",
                  "eth_type(0x0800)");
  Parsed untagged = MustParse("eth_type(0x0800)");
  EXPECT_EQ(FormatOdpFlow(untagged.key, untagged.mask), "packet_type(ns=0,id=0),eth_type(0x0800)");
  Parsed cfi_only = MustParse("vlan(cfi=0),encap(eth_type(0x0800))");
  EXPECT_EQ(FormatOdpFlow(cfi_only.key, cfi_only.mask), "packet_type(ns=0,id=0),eth_type(0x0800)");
  EXPECT_EQ(FormatOdpFlow(cfi_only.key, cfi_only.mask, OdpVerbosity::kVerbose),
            "skb_mark(0/0),recirc_id(0/0),dp_hash(0/0),in_port(0/0),packet_type(ns=0,id=0),"
            "eth(src=00:00:00:00:00:00/00:00:00:00:00:00,dst=00:00:00:00:00:00/00:00:00:00:00:00),"
            "eth_type(0x0000/0x0000),vlan(vid=0/0x0,pcp=0/0x0,cfi=0),encap(eth_type(0x0800),"
            "ipv4(src=0.0.0.0/0.0.0.0,dst=0.0.0.0/0.0.0.0,proto=0/0,tos=0/0,ttl=0/0))");
  ExpectCanonical("packet_type(ns=0,id=0),vlan(vid=3),encap(eth_type(0x0806))");
  ExpectCanonical(
      "packet_type(ns=0,id=0),vlan(cfi=0/0),encap(vlan(vid=7),encap(eth_type(0x0800)))");
  ExpectSameMatch("eth_type(0x8100),vlan(vid=1,cfi=1)", "eth_type(0x8100),vlan(vid=1)");
  Parsed p = MustParse("eth_type(0x8100),vlan(vid=1,cfi=1)");
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask),
            "packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=1),encap()");
}

TEST(OdpFlowTest, FragValues) {
  Parsed no = MustParse("ipv4(frag=no)");
  EXPECT_EQ(no.key.nw_frag, 0);
  EXPECT_EQ(no.mask.bits.nw_frag, kFragAny | kFragLater);
  Parsed first = MustParse("ipv4(frag=first)");
  EXPECT_EQ(first.key.nw_frag, kFragAny);
  EXPECT_EQ(first.mask.bits.nw_frag, kFragAny | kFragLater);
  Parsed later = MustParse("ipv4(frag=later)");
  EXPECT_EQ(later.key.nw_frag, kFragAny | kFragLater);
  EXPECT_EQ(later.mask.bits.nw_frag, kFragAny | kFragLater);
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=first)");
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(frag=later)");
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=0x1/0x1)");  // "is a fragment"
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=0/0x1)");  // "not a fragment"
}

TEST(OdpFlowTest, Ipv4FieldFormats) {
  ExpectCanonical(
      "packet_type(ns=0,id=0),eth_type(0x0800),ipv4(src=1.2.3.4,dst=5.6.7.8,proto=1,tos=0x10,ttl="
      "64,"
      "frag=no),icmp(type=8,code=0)");
  ExpectCanonical(
      "packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6,tos=0,ttl=0/0xf0),tcp(src=1024/"
      "0xfc00,dst=0)");
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x0800),ipv4(tos=0xfc/0xfc)");
}

TEST(OdpFlowTest, IcmpMapping) {
  Parsed p = MustParse("eth_type(0x0800),ipv4(proto=1),icmp(type=8,code=3)");
  EXPECT_EQ(p.key.tp_src, htons(8));
  EXPECT_EQ(p.key.tp_dst, htons(3));
  EXPECT_EQ(p.mask.bits.tp_src, 0xffff);
  Parsed q = MustParse("eth_type(0x0800),ipv4(proto=1),icmp(type=8/0xf0)");
  EXPECT_EQ(p.key.tp_src, htons(8));
  EXPECT_EQ(q.key.tp_src, htons(0));
  EXPECT_EQ(q.mask.bits.tp_src, htons(0xf0));
  EXPECT_EQ(FormatOdpFlow(q.key, q.mask),
            "packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=1),icmp(type=0/0xf0)");
  ExpectCanonical(
      "packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=135,code=0),"
      "nd(target=fe80::1,sll=00:11:22:33:44:55)");
}

TEST(OdpFlowTest, NdMapping) {
  Parsed p = MustParse(
      "eth_type(0x86dd),ipv6(proto=58),icmpv6(type=136),"
      "nd(target=2001:db8::5,tll=aa:bb:cc:dd:ee:ff,sll=00:00:00:00:00:01)");
  EXPECT_EQ(p.key.nd_target, Ip6("2001:db8::5"));
  EXPECT_EQ(p.key.arp_tha, (MacAddr{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
  EXPECT_EQ(p.key.arp_sha, (MacAddr{0, 0, 0, 0, 0, 1}));
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask),
            "packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(proto=58),icmpv6(type=136),"
            "nd(target=2001:db8::5,sll=00:00:00:00:00:01,tll=aa:bb:cc:dd:ee:ff)");
}

TEST(OdpFlowTest, ArpMapping) {
  const char* text =
      "packet_type(ns=0,id=0),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,"
      "sha=00:00:00:00:00:01,tha=00:00:00:00:00:00)";
  Parsed p = MustParse(text);
  EXPECT_EQ(p.key.nw_src, Ip("10.0.0.1"));
  EXPECT_EQ(p.key.nw_dst, Ip("10.0.0.2"));
  EXPECT_EQ(p.key.nw_proto, 1);
  EXPECT_EQ(p.mask.bits.nw_proto, 0xff);
  EXPECT_EQ(p.mask.bits.arp_tha, kMacFull);
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), text);
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x8035),arp(op=3)");
}

TEST(OdpFlowTest, Ipv6Formats) {
  Parsed p = MustParse(
      "eth_type(0x86dd),ipv6(src=2001:0db8:0:0:0:0:0:0001,label=0x12345,"
      "tclass=0x20,hlimit=255,proto=17),udp(src=546,dst=547)");
  EXPECT_EQ(p.key.ipv6_label, htonl(0x12345));
  EXPECT_EQ(p.mask.bits.ipv6_label, htonl(0xfffff));
  EXPECT_EQ(p.key.nw_tos, 0x20);
  EXPECT_EQ(p.key.nw_ttl, 255);
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask),
            "packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(src=2001:db8::1,label=0x12345,proto=17,"
            "tclass=0x20,"
            "hlimit=255),udp(src=546,dst=547)");
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(label=0/0xff)");
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x86dd),ipv6(proto=132),sctp(dst=9/0xf)");
}

TEST(OdpFlowTest, TcpFlags) {
  Parsed syn = MustParse("tcp_flags(syn)");
  EXPECT_EQ(syn.key.tcp_flags, htons(0x002));
  EXPECT_EQ(syn.mask.bits.tcp_flags, htons(0x0fff));
  Parsed hex = MustParse("tcp_flags(0x002)");
  EXPECT_EQ(hex.key, syn.key);
  EXPECT_EQ(hex.mask, syn.mask);
  Parsed masked = MustParse("tcp_flags(+syn-ack)");
  EXPECT_EQ(masked.key.tcp_flags, htons(0x002));
  EXPECT_EQ(masked.mask.bits.tcp_flags, htons(0x012));
  Parsed hexm = MustParse("tcp_flags(0x2/0x12)");
  EXPECT_EQ(hexm.key, masked.key);
  EXPECT_EQ(hexm.mask, masked.mask);
  EXPECT_EQ(FormatOdpFlow(masked.key, masked.mask), "packet_type(ns=0,id=0),tcp_flags(+syn-ack)");
  ExpectCanonical(
      "packet_type(ns=0,id=0),eth_type(0x0800),ipv4(proto=6),tcp(src=22),tcp_flags(syn|ack)");
  ExpectCanonical("packet_type(ns=0,id=0),tcp_flags(0)");
  ExpectCanonical("packet_type(ns=0,id=0),tcp_flags(fin|ns|[800])");
  ExpectCanonical("packet_type(ns=0,id=0),tcp_flags(-fin+rst-[400])");
}

TEST(OdpFlowTest, FallbackAttributesWhenEthTypeNotExact) {
  // Attributes are chosen from the masked fields when eth_type does not name the protocol.
  ExpectCanonical("packet_type(ns=0,id=0),ipv4(src=1.2.3.4)");
  ExpectCanonical("packet_type(ns=0,id=0),ipv6(dst=::2),tcp(dst=80)");
  ExpectCanonical("packet_type(ns=0,id=0),eth_type(0x0800/0xff00),ipv4(proto=6/0xfe),tcp(src=1)");
  ExpectCanonical("packet_type(ns=0,id=0),arp(sha=00:00:00:00:00:01)");
  ExpectCanonical("packet_type(ns=0,id=0),tcp(dst=80)");
  ExpectCanonical("packet_type(ns=0,id=0),tcp(src=1/0xff),tcp_flags(+syn)");
  // Without eth_type and proto, an ICMP match prints as the same bits in port form.
  Parsed p = MustParse("icmp(type=3,code=1)");
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), "packet_type(ns=0,id=0),tcp(src=3,dst=1)");
  Parsed q = MustParse("nd(tll=00:00:00:00:00:07)");
  EXPECT_EQ(FormatOdpFlow(q.key, q.mask), "packet_type(ns=0,id=0),arp(tha=00:00:00:00:00:07)");
  ExpectCanonical(
      "packet_type(ns=0,id=0),ipv6(proto=58,hlimit=255),icmpv6(type=135),nd(sll=00:00:00:00:00:"
      "01)");
  ExpectCanonical(
      "packet_type(ns=0,id=0),ipv6(tclass=0x1),icmpv6(type=136),nd(tll=00:00:00:00:00:01)");
  ExpectCanonical("packet_type(ns=0,id=0),arp(sip=1.1.1.1,op=58,sha=00:00:00:00:00:01)");
}

TEST(OdpFlowTest, FormatOmitsZeroMasksAndPrintsPartialMasks) {
  FlowKey k;
  FlowMask m;
  k.Clear();
  m.Clear();
  k.in_port = 4;
  m.bits.in_port = UINT32_MAX;
  k.eth_src = {0x02, 0, 0, 0, 0, 0x10};
  m.bits.eth_src = {0xff, 0xff, 0xff, 0, 0, 0};
  k.eth_type = htons(0x0800);
  m.bits.eth_type = 0xffff;
  k.nw_src = Ip("192.168.1.77");  // unmasked bits are not printed
  m.bits.nw_src = Ip("255.255.255.0");
  k.nw_proto = 6;
  m.bits.nw_proto = 0xff;
  k.tp_dst = htons(443);
  m.bits.tp_dst = 0xffff;
  k.pkt_mark = 9;  // mask zero: omitted
  EXPECT_EQ(FormatOdpFlow(k, m),
            "in_port(4),packet_type(ns=0,id=0),eth(src=02:00:00:00:00:00/ff:ff:ff:00:00:00),"
            "eth_type(0x0800),"
            "ipv4(src=192.168.1.0/255.255.255.0,proto=6),tcp(dst=443)");
}

// ---- flows: errors ---------------------------------------------------------------------------

TEST(OdpFlowTest, ErrorsNameTheProblem) {
  EXPECT_EQ(ParseError("ipv4(sorce=1.2.3.4)"), "ipv4: unknown field 'sorce'");
  EXPECT_THAT(ParseError("ipv4(src=1.2.3)"), HasSubstr("bad IPv4 address '1.2.3'"));
  EXPECT_EQ(ParseError("in_port(70000000000)"), "in_port: value '70000000000' out of range");
  EXPECT_EQ(ParseError("in_port(99999999999999999999999)"),
            "in_port: value '99999999999999999999999' out of range");
  EXPECT_EQ(ParseError("foo(1)"), "unknown attribute 'foo'");
  EXPECT_EQ(ParseError("in_port(1),in_port(2)"), "duplicate attribute 'in_port'");
  EXPECT_EQ(ParseError("ipv4(src=1.2.3.4,src=1.2.3.5)"), "ipv4: duplicate field 'src'");
  EXPECT_THAT(ParseError("in_port(1)x"), HasSubstr("unexpected 'x'"));
  EXPECT_THAT(ParseError("in_port(1"), HasSubstr("expected ')'"));
  EXPECT_THAT(ParseError("ipv4(src=1.2.3.4"), HasSubstr("missing ')'"));
  EXPECT_THAT(ParseError("in_port 1"), HasSubstr("expected '('"));
  EXPECT_THAT(ParseError("in_port(1),"), HasSubstr("expected an attribute"));
  EXPECT_THAT(ParseError("in_port(1),,in_port(2)"), HasSubstr("expected an attribute"));
  EXPECT_THAT(ParseError("in_port(abc)"), HasSubstr("bad number 'abc'"));
  EXPECT_THAT(ParseError("in_port()"), HasSubstr("missing number"));
  EXPECT_THAT(ParseError("in_port(-1)"), HasSubstr("bad number '-1'"));
  EXPECT_THAT(ParseError("ipv4(src=)"), HasSubstr("missing value"));
  EXPECT_THAT(ParseError("ipv4(src)"), HasSubstr("expected '='"));
  EXPECT_THAT(ParseError("ipv4(src=1.2.3.4/33)"), HasSubstr("bad IPv4 address mask '33'"));
  EXPECT_THAT(ParseError("ipv4(src=1.2.3.4/255.0.0)"), HasSubstr("bad IPv4 address mask"));
  EXPECT_THAT(ParseError("ipv4(src=256.1.1.1)"), HasSubstr("bad IPv4 address"));
  EXPECT_THAT(ParseError("ipv6(src=1::2::3)"), HasSubstr("bad IPv6 address '1::2::3'"));
  EXPECT_THAT(ParseError("ipv6(src=::1/129)"), HasSubstr("bad IPv6 address mask"));
  EXPECT_THAT(ParseError("eth(src=00:11:22:33:44)"), HasSubstr("bad MAC address"));
  EXPECT_THAT(ParseError("eth(src=00:11:22:33:44:5g)"), HasSubstr("bad MAC address"));
  EXPECT_THAT(ParseError("eth(src=000:11:22:33:44:55)"), HasSubstr("bad MAC address"));
  EXPECT_THAT(ParseError("ipv4(proto=256)"), HasSubstr("ipv4.proto: value '256' out of range"));
  EXPECT_THAT(ParseError("tcp(dst=65536)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("ipv6(label=0x100000)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("ipv4(frag=maybe)"), HasSubstr("bad frag 'maybe'"));
  EXPECT_THAT(ParseError("eth_type(0x10000)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("arp(op=256)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("icmp(type=300)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("tcp_flags(syn|bogus)"), HasSubstr("unknown flag 'bogus'"));
  EXPECT_THAT(ParseError("tcp_flags(+syn+syn)"), HasSubstr("given twice"));
  EXPECT_THAT(ParseError("tcp_flags(0x1000)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("tunnel(ttl=64)"), HasSubstr("tunnel: unknown field 'ttl'"));
}

TEST(OdpFlowTest, StructuralErrors) {
  EXPECT_THAT(ParseError("eth_type(0x86dd),ipv4(src=1.2.3.4)"),
              HasSubstr("ipv4: requires eth_type(0x0800)"));
  EXPECT_THAT(ParseError("eth_type(0x0800),ipv6(src=::1)"), HasSubstr("ipv6: requires"));
  EXPECT_THAT(ParseError("eth_type(0x0800),arp(op=1)"), HasSubstr("arp: requires"));
  EXPECT_THAT(ParseError("ipv4(proto=17),tcp(dst=80)"),
              HasSubstr("tcp: requires proto=6, not proto=17"));
  EXPECT_THAT(ParseError("ipv4(src=1.2.3.4),ipv6(src=::1)"),
              HasSubstr("ipv6: conflicts with 'ipv4'"));
  EXPECT_THAT(ParseError("tcp(dst=1),udp(dst=2)"), HasSubstr("udp: conflicts with 'tcp'"));
  EXPECT_THAT(ParseError("arp(op=1),tcp(dst=2)"), HasSubstr("tcp: not allowed with 'arp'"));
  EXPECT_THAT(ParseError("ipv6(src=::1),icmp(type=1)"), HasSubstr("use icmpv6"));
  EXPECT_THAT(ParseError("ipv4(src=1.1.1.1),icmpv6(type=1)"), HasSubstr("use icmp"));
  EXPECT_THAT(ParseError("ipv4(src=1.1.1.1),nd(target=::1)"), HasSubstr("nd: conflicts"));
  EXPECT_THAT(ParseError("eth_type(0x88cc),tcp(dst=1)"),
              HasSubstr("tcp: requires eth_type(0x0800 or 0x86dd)"));
  EXPECT_THAT(ParseError("eth_type(0x86dd),icmp(type=1)"), HasSubstr("icmp: requires"));
  EXPECT_THAT(ParseError("eth_type(0x0800),icmpv6(type=1)"), HasSubstr("icmpv6: requires"));
  EXPECT_THAT(ParseError("ipv6(proto=6),nd(target=::1)"),
              HasSubstr("nd: requires proto=58, not proto=6"));
  EXPECT_THAT(ParseError("encap(eth_type(0x0800))"), HasSubstr("must follow a vlan()"));
  EXPECT_THAT(ParseError("eth_type(0x8100),vlan(vid=1),ipv4(src=1.1.1.1)"),
              HasSubstr("ipv4: must be inside encap()"));
  EXPECT_THAT(ParseError("eth_type(0x0800),vlan(vid=1)"),
              HasSubstr("eth_type(0x0800) is not a VLAN TPID"));
  EXPECT_THAT(ParseError("vlan(vid=1),encap(in_port(1))"),
              HasSubstr("in_port: not allowed inside encap()"));
  EXPECT_THAT(ParseError("vlan(vid=1),encap(vlan(vid=2),encap(vlan(vid=3)))"),
              HasSubstr("at most 2 VLAN headers"));
  EXPECT_THAT(ParseError("vlan(vid=1),vlan(vid=2)"), HasSubstr("duplicate attribute 'vlan'"));
  EXPECT_THAT(ParseError("vlan(vid=4096)"), HasSubstr("vlan.vid: value '4096' out of range"));
  EXPECT_THAT(ParseError("vlan(pcp=8)"), HasSubstr("out of range"));
  EXPECT_THAT(ParseError("vlan(vid=1,tpid=2)"), HasSubstr("vlan: unknown field 'tpid'"));
  EXPECT_THAT(ParseError("vlan(vid=1),encap(eth_type(0x0800)"), HasSubstr("missing ')'"));
}

TEST(OdpFlowTest, Mpls) {
  const char* text =
      "in_port(1),packet_type(ns=0,id=0),eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)";
  Parsed p = MustParse(text);
  EXPECT_EQ(p.key.mpls_lse, htonl(100u << 12 | 3u << 9 | 1u << 8 | 64u));
  EXPECT_EQ(p.mask.bits.mpls_lse, UINT32_MAX);
  EXPECT_EQ(FormatOdpFlow(p.key, p.mask), text);
  // Partly masked: all four subfields with their masks, as OVS prints them.
  ExpectCanonical(
      "packet_type(ns=0,id=0),eth_type(0x8848),mpls(label=16/0xff0,tc=0/0,ttl=0/0x0,bos=0/1)");
  ExpectCanonical(
      "packet_type(ns=0,id=0),eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x8847),"
      "mpls(label=0/0x0,tc=7/7,ttl=0/0x0,bos=0/0))");
  Parsed some = MustParse("eth_type(0x8847),mpls(label=16,bos=1)");
  EXPECT_EQ(
      FormatOdpFlow(some.key, some.mask),
      "packet_type(ns=0,id=0),eth_type(0x8847),mpls(label=16/0xfffff,tc=0/0,ttl=0/0x0,bos=1/1)");
  // An MPLS eth_type with the entry wildcarded prints no mpls() and no L3.
  Parsed w = MustParse("eth_type(0x8847)");
  w.mask.bits.nw_src = UINT32_MAX;  // not in an MPLS key: never printed
  EXPECT_EQ(FormatOdpFlow(w.key, w.mask), "packet_type(ns=0,id=0),eth_type(0x8847)");

  EXPECT_THAT(ParseError("eth_type(0x0800),mpls(label=1)"), HasSubstr("eth_type(0x8847 or"));
  EXPECT_THAT(ParseError("eth_type(0x8847),mpls(label=1),ipv4(src=1.2.3.4)"),
              HasSubstr("conflicts with 'mpls'"));
  EXPECT_THAT(ParseError("mpls(label=1),tcp(src=1)"), HasSubstr("not allowed with 'mpls'"));
  EXPECT_THAT(ParseError("mpls(ttl=256)"), HasSubstr("out of range"));
}

}  // namespace
}  // namespace sluice::dp
