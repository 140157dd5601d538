#include "datapath/packet/parse.h"

#include <arpa/inet.h>

#include <cstring>
#include <initializer_list>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::dp {
namespace {

using Bytes = std::vector<uint8_t>;

const MacAddr kDst = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const MacAddr kSrc = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
const MacAddr kSha = {0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
const MacAddr kTha = {0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
const In6Addr kIp6Src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
const In6Addr kIp6Dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02};
const In6Addr kTarget = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};

// ---- frame builders (byte-exact, no checksums: the parser does not look at them) ----

void Put8(Bytes& b, uint8_t v) { b.push_back(v); }
void Put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
void Put32(Bytes& b, uint32_t v) {
  Put16(b, static_cast<uint16_t>(v >> 16));
  Put16(b, static_cast<uint16_t>(v));
}
void PutBytes(Bytes& b, const uint8_t* p, size_t n) { b.insert(b.end(), p, p + n); }

Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Ethernet header; `type` is written as is (an ethertype or an 802.3 length).
Bytes Eth(uint16_t type) {
  Bytes b;
  PutBytes(b, kDst.data(), 6);
  PutBytes(b, kSrc.data(), 6);
  Put16(b, type);
  return b;
}

// Ethernet header with VLAN tags: tags are {tpid, tci} pairs, outermost first.
Bytes EthVlan(std::initializer_list<std::pair<uint16_t, uint16_t>> tags, uint16_t type) {
  Bytes b;
  PutBytes(b, kDst.data(), 6);
  PutBytes(b, kSrc.data(), 6);
  for (auto [tpid, tci] : tags) {
    Put16(b, tpid);
    Put16(b, tci);
  }
  Put16(b, type);
  return b;
}

struct V4 {
  uint8_t proto = 6;
  uint32_t src = 0x0a000001;
  uint32_t dst = 0x0a000002;
  uint8_t tos = 0;
  uint8_t ttl = 64;
  uint16_t frag = 0;      // flags + offset
  uint8_t opt_words = 0;  // IPv4 options, 4-byte words
};

// IPv4 header for `payload_len` bytes of payload.
Bytes Ip4(const V4& v, size_t payload_len) {
  Bytes b;
  uint8_t ihl = static_cast<uint8_t>(5 + v.opt_words);
  Put8(b, static_cast<uint8_t>(0x40 | ihl));
  Put8(b, v.tos);
  Put16(b, static_cast<uint16_t>(ihl * 4 + payload_len));
  Put16(b, 0x1234);
  Put16(b, v.frag);
  Put8(b, v.ttl);
  Put8(b, v.proto);
  Put16(b, 0);
  Put32(b, v.src);
  Put32(b, v.dst);
  for (int i = 0; i < v.opt_words * 4; ++i) Put8(b, 1);  // NOPs
  return b;
}

Bytes Ip6(uint8_t next, size_t payload_len, uint8_t tclass = 0, uint32_t label = 0,
          uint8_t hlim = 64) {
  Bytes b;
  Put32(b, 6u << 28 | static_cast<uint32_t>(tclass) << 20 | (label & 0xfffff));
  Put16(b, static_cast<uint16_t>(payload_len));
  Put8(b, next);
  Put8(b, hlim);
  PutBytes(b, kIp6Src.data(), 16);
  PutBytes(b, kIp6Dst.data(), 16);
  return b;
}

// Generic IPv6 extension header (hop-by-hop, routing, dest options): `units` extra 8-byte units.
Bytes Ext6(uint8_t next, uint8_t units, uint8_t byte2 = 0, uint8_t byte3 = 0) {
  Bytes b = {next, units, byte2, byte3};
  b.resize(8 * (units + 1u), 0);
  return b;
}
Bytes Ah6(uint8_t next, uint8_t len_field) {  // length (len_field + 2) * 4
  Bytes b = {next, len_field, 0, 0};
  b.resize((len_field + 2u) * 4, 0);
  return b;
}
Bytes Frag6(uint8_t next, uint16_t offlg) {
  Bytes b = {next, 0};
  Put16(b, offlg);
  Put32(b, 0xabcd);
  return b;
}

Bytes Tcp(uint16_t sport, uint16_t dport, uint16_t flags) {
  Bytes b;
  Put16(b, sport);
  Put16(b, dport);
  Put32(b, 1000);
  Put32(b, 2000);
  Put16(b, static_cast<uint16_t>(5u << 12 | (flags & 0x0fff)));
  Put16(b, 8192);
  Put16(b, 0);
  Put16(b, 0);
  return b;
}
Bytes Udp(uint16_t sport, uint16_t dport, size_t payload = 0) {
  Bytes b;
  Put16(b, sport);
  Put16(b, dport);
  Put16(b, static_cast<uint16_t>(8 + payload));
  Put16(b, 0);
  b.resize(8 + payload, 0x5a);
  return b;
}
Bytes Sctp(uint16_t sport, uint16_t dport) {
  Bytes b;
  Put16(b, sport);
  Put16(b, dport);
  Put32(b, 0x11223344);
  Put32(b, 0);
  return b;
}
Bytes Icmp(uint8_t type, uint8_t code) { return {type, code, 0, 0, 0, 1, 0, 1}; }

Bytes NdOpt(uint8_t type, const MacAddr& mac) {
  Bytes b = {type, 1};
  PutBytes(b, mac.data(), 6);
  return b;
}
Bytes Nd(uint8_t type, std::initializer_list<Bytes> opts) {
  Bytes b = {type, 0, 0, 0, 0x60, 0, 0, 0};
  PutBytes(b, kTarget.data(), 16);
  for (const Bytes& o : opts) b.insert(b.end(), o.begin(), o.end());
  return b;
}

Bytes Arp(uint16_t op, uint16_t hrd = 1, uint16_t pro = 0x0800) {
  Bytes b;
  Put16(b, hrd);
  Put16(b, pro);
  Put8(b, 6);
  Put8(b, 4);
  Put16(b, op);
  PutBytes(b, kSha.data(), 6);
  Put32(b, 0xc0a80001);
  PutBytes(b, kTha.data(), 6);
  Put32(b, 0xc0a80002);
  return b;
}

Bytes V4Frame(const V4& v, const Bytes& l4) { return Cat({Eth(0x0800), Ip4(v, l4.size()), l4}); }
Bytes V6Frame(uint8_t next, const Bytes& payload) {
  return Cat({Eth(0x86dd), Ip6(next, payload.size()), payload});
}

// Parses from an exact-size heap copy, so that AddressSanitizer catches any read past `len`. The
// metadata words are pre-set to a pattern that must survive.
FlowKey Parse(const Bytes& frame, size_t len, PacketLayout* layout = nullptr) {
  auto buf = std::make_unique<uint8_t[]>(len == 0 ? 1 : len);
  if (len != 0) std::memcpy(buf.get(), frame.data(), len);
  FlowKey key;
  std::memset(&key, 0xa5, sizeof(key));
  ParsePacket(buf.get(), static_cast<uint32_t>(len), &key, layout);
  constexpr size_t kMeta = offsetof(FlowKey, eth_dst);
  uint8_t pattern[kMeta];
  std::memset(pattern, 0xa5, kMeta);
  EXPECT_EQ(std::memcmp(&key, pattern, kMeta), 0) << "metadata words were touched";
  return key;
}
FlowKey Parse(const Bytes& frame, PacketLayout* layout = nullptr) {
  return Parse(frame, frame.size(), layout);
}

// A key with only L2 filled as Eth() writes it.
void ExpectL2Only(const FlowKey& k, uint16_t eth_type) {
  EXPECT_EQ(k.eth_dst, kDst);
  EXPECT_EQ(k.eth_src, kSrc);
  EXPECT_EQ(ntohs(k.eth_type), eth_type);
  FlowKey zero;
  zero.Clear();
  constexpr size_t kL3 = offsetof(FlowKey, nw_src);
  EXPECT_EQ(std::memcmp(reinterpret_cast<const uint8_t*>(&k) + kL3,
                        reinterpret_cast<const uint8_t*>(&zero) + kL3, sizeof(FlowKey) - kL3),
            0)
      << "L3/L4 fields should be zero";
}

TEST(ParseTest, Ipv4TcpAllFields) {
  V4 v;
  v.tos = 0xb8;
  v.ttl = 17;
  PacketLayout lay;
  FlowKey k = Parse(V4Frame(v, Tcp(1234, 80, 0x012)), &lay);  // SYN|ACK
  EXPECT_EQ(k.eth_dst, kDst);
  EXPECT_EQ(k.eth_src, kSrc);
  EXPECT_EQ(k.eth_type, htons(0x0800));
  EXPECT_EQ(k.pad0, 0);
  EXPECT_EQ(k.vlans[0].tpid, 0);
  EXPECT_EQ(k.vlans[0].tci, 0);
  EXPECT_EQ(k.nw_src, htonl(0x0a000001));
  EXPECT_EQ(k.nw_dst, htonl(0x0a000002));
  EXPECT_EQ(k.nw_tos, 0xb8);
  EXPECT_EQ(k.nw_ttl, 17);
  EXPECT_EQ(k.nw_proto, 6);
  EXPECT_EQ(k.nw_frag, 0);
  EXPECT_EQ(k.tp_src, htons(1234));
  EXPECT_EQ(k.tp_dst, htons(80));
  EXPECT_EQ(k.tcp_flags, htons(0x012));
  EXPECT_EQ(k.ipv6_label, 0u);
  EXPECT_EQ(k.arp_sha, MacAddr{});
  EXPECT_EQ(lay.l3_ofs, 14u);
  EXPECT_EQ(lay.l4_ofs, 34u);
  EXPECT_EQ(lay.l4_end, 54u);
  EXPECT_EQ(lay.nw_proto, 6);
  EXPECT_EQ(lay.eth_type, htons(0x0800));
}

TEST(ParseTest, TcpFlagsKeepLow12Bits) {
  Bytes f = V4Frame(V4{}, Tcp(1, 2, 0));
  f[14 + 20 + 12] = 0x5f;  // data offset 5, reserved bits set, NS
  f[14 + 20 + 13] = 0xff;
  EXPECT_EQ(Parse(f).tcp_flags, htons(0x0fff));
}

TEST(ParseTest, Ieee8023AndSnap) {
  Bytes llc = Cat({Eth(46), Bytes{0x42, 0x42, 0x03}, Bytes(43, 0)});
  ExpectL2Only(Parse(llc), 0x05ff);

  Bytes snap_ip =
      Cat({Eth(60), Bytes{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00}, Ip4(V4{}, 20), Tcp(5, 6, 0x02)});
  PacketLayout lay;
  FlowKey k = Parse(snap_ip, &lay);
  EXPECT_EQ(k.eth_type, htons(0x0800));
  EXPECT_EQ(k.nw_proto, 6);
  EXPECT_EQ(k.tp_dst, htons(6));
  EXPECT_EQ(lay.l3_ofs, 22u);

  // SNAP with a non-zero OUI is not decoded.
  Bytes snap_oui = Cat({Eth(60), Bytes{0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x08, 0x00}, Ip4(V4{}, 0)});
  ExpectL2Only(Parse(snap_oui), 0x05ff);
  // Too short for an LLC/SNAP header.
  ExpectL2Only(Parse(Cat({Eth(60), Bytes{0xaa, 0xaa, 0x03}})), 0x05ff);
}

TEST(ParseTest, SingleVlan) {
  V4 v;
  v.proto = 17;
  FlowKey k = Parse(Cat({EthVlan({{0x8100, 0x2005}}, 0x0800), Ip4(v, 8), Udp(53, 99)}));
  EXPECT_EQ(k.vlans[0].tpid, htons(0x8100));
  EXPECT_EQ(k.vlans[0].tci, htons(0x2005 | kVlanCfi));
  EXPECT_EQ(k.vlans[1].tpid, 0);
  EXPECT_EQ(k.vlans[1].tci, 0);
  EXPECT_EQ(k.eth_type, htons(0x0800));
  EXPECT_EQ(k.nw_proto, 17);
  EXPECT_EQ(k.tp_src, htons(53));
  EXPECT_EQ(k.tp_dst, htons(99));
}

TEST(ParseTest, VlanZeroTciStillMarkedPresent) {
  FlowKey k = Parse(Cat({EthVlan({{0x8100, 0}}, 0x0806), Arp(1)}));
  EXPECT_EQ(k.vlans[0].tci, htons(kVlanCfi));
  EXPECT_EQ(k.eth_type, htons(0x0806));
  EXPECT_EQ(k.nw_proto, 1);
}

TEST(ParseTest, DoubleVlan) {
  Bytes f = Cat({EthVlan({{0x88a8, 0x0064}, {0x8100, 0xe00a}}, 0x86dd), Ip6(6, 20), Tcp(1, 2, 1)});
  PacketLayout lay;
  FlowKey k = Parse(f, &lay);
  EXPECT_EQ(k.vlans[0].tpid, htons(0x88a8));
  EXPECT_EQ(k.vlans[0].tci, htons(0x1064));
  EXPECT_EQ(k.vlans[1].tpid, htons(0x8100));
  EXPECT_EQ(k.vlans[1].tci, htons(0xf00a));
  EXPECT_EQ(k.eth_type, htons(0x86dd));
  EXPECT_EQ(k.nw_proto, 6);
  EXPECT_EQ(k.tcp_flags, htons(1));
  EXPECT_EQ(lay.l3_ofs, 22u);
}

TEST(ParseTest, ThirdVlanLeftUnparsed) {
  Bytes f = Cat({EthVlan({{0x88a8, 1}, {0x8100, 2}, {0x8100, 3}}, 0x0800), Ip4(V4{}, 0)});
  FlowKey k = Parse(f);
  EXPECT_EQ(k.vlans[0].tci, htons(0x1001));
  EXPECT_EQ(k.vlans[1].tci, htons(0x1002));
  EXPECT_EQ(k.eth_type, htons(0x8100));
  EXPECT_EQ(k.nw_src, 0u);
  EXPECT_EQ(k.nw_proto, 0);
}

TEST(ParseTest, VlanTagWithoutTypeIsNotATag) {
  // 16 bytes: the tag fits but the ethertype after it does not.
  Bytes f = EthVlan({{0x8100, 7}}, 0x0800);
  f.resize(16);
  FlowKey k = Parse(f);
  EXPECT_EQ(k.vlans[0].tci, 0);
  EXPECT_EQ(k.eth_type, htons(0x8100));
}

// MPLS: the outermost label stack entry only, nothing after it (as OVS).
TEST(ParseTest, MplsTopEntryOnlyAfterVlans) {
  V4 v;
  v.proto = 6;
  Bytes lse1, lse2;
  Put32(lse1, 100u << 12 | 5u << 9 | 0u << 8 | 64u);  // label 100, tc 5, not bos, ttl 64
  Put32(lse2, 200u << 12 | 1u << 8 | 63u);
  PacketLayout lay;
  FlowKey k =
      Parse(Cat({EthVlan({{0x8100, 0x0007}}, 0x8847), lse1, lse2, Ip4(v, 20), Tcp(1, 2, 2)}), &lay);
  EXPECT_EQ(k.vlans[0].tci, htons(0x1007));
  EXPECT_EQ(k.eth_type, htons(0x8847));
  EXPECT_EQ(ntohl(k.mpls_lse), 100u << 12 | 5u << 9 | 64u);
  EXPECT_EQ(k.nw_src, 0u);
  EXPECT_EQ(k.nw_proto, 0);
  EXPECT_EQ(k.tp_src, 0);
  EXPECT_EQ(lay.l3_ofs, 18u);
  EXPECT_EQ(lay.l4_ofs, 0u);

  k = Parse(Cat({Eth(0x8848), lse2}));
  EXPECT_EQ(k.eth_type, htons(0x8848));
  EXPECT_EQ(ntohl(k.mpls_lse), 200u << 12 | 1u << 8 | 63u);
}

TEST(ParseTest, TruncatedMplsEntryIsNotParsed) {
  Bytes f = Cat({Eth(0x8847), Bytes{1, 2, 3}});
  PacketLayout lay;
  FlowKey k = Parse(f, &lay);
  EXPECT_EQ(k.eth_type, htons(0x8847));
  EXPECT_EQ(k.mpls_lse, 0u);
  EXPECT_EQ(lay.l3_ofs, 0u);
}

TEST(ParseTest, Arp) {
  PacketLayout lay;
  FlowKey k = Parse(Cat({Eth(0x0806), Arp(2)}), &lay);
  EXPECT_EQ(lay.l3_ofs, 14u);  // where set(arp(...)) rewrites
  EXPECT_EQ(lay.l4_ofs, 0u);
  EXPECT_EQ(k.eth_type, htons(0x0806));
  EXPECT_EQ(k.nw_proto, 2);
  EXPECT_EQ(k.nw_src, htonl(0xc0a80001));
  EXPECT_EQ(k.nw_dst, htonl(0xc0a80002));
  EXPECT_EQ(k.arp_sha, kSha);
  EXPECT_EQ(k.arp_tha, kTha);
  EXPECT_EQ(k.tp_src, 0);

  // RARP uses the same layout.
  EXPECT_EQ(Parse(Cat({Eth(0x8035), Arp(3)})).nw_proto, 3);
  // Opcodes that do not fit 8 bits give 0, as in OVS.
  FlowKey big = Parse(Cat({Eth(0x0806), Arp(0x0101)}));
  EXPECT_EQ(big.nw_proto, 0);
  EXPECT_EQ(big.arp_sha, kSha);
  // Only Ethernet/IPv4 ARP is decoded.
  ExpectL2Only(Parse(Cat({Eth(0x0806), Arp(1, 6)}), &lay), 0x0806);
  EXPECT_EQ(lay.l3_ofs, 0u);
  ExpectL2Only(Parse(Cat({Eth(0x0806), Arp(1, 1, 0x86dd)})), 0x0806);
  Bytes short_arp = Cat({Eth(0x0806), Arp(1)});
  short_arp.pop_back();
  ExpectL2Only(Parse(short_arp), 0x0806);
}

TEST(ParseTest, Ipv4OptionsAndPadding) {
  V4 v;
  v.proto = 17;
  v.opt_words = 3;
  Bytes f = Cat({V4Frame(v, Udp(1000, 2000, 4)), Bytes(10, 0xee)});  // Ethernet trailer
  PacketLayout lay;
  FlowKey k = Parse(f, &lay);
  EXPECT_EQ(k.nw_proto, 17);
  EXPECT_EQ(k.tp_src, htons(1000));
  EXPECT_EQ(k.tp_dst, htons(2000));
  EXPECT_EQ(lay.l4_ofs, 14u + 32);
  EXPECT_EQ(lay.l4_end, 14u + 32 + 12);
}

TEST(ParseTest, Ipv4TotalLengthLimitsL4) {
  // The TCP header is in the frame but beyond the IP total length: no L4.
  Bytes f = Cat({Eth(0x0800), Ip4(V4{}, 10), Tcp(1, 2, 2)});
  FlowKey k = Parse(f);
  EXPECT_EQ(k.nw_proto, 6);
  EXPECT_EQ(k.nw_src, htonl(0x0a000001));
  EXPECT_EQ(k.tp_src, 0);
  EXPECT_EQ(k.tcp_flags, 0);
}

TEST(ParseTest, Ipv4Fragments) {
  V4 first;
  first.proto = 17;
  first.frag = 0x2000;  // MF, offset 0
  FlowKey k = Parse(V4Frame(first, Udp(7, 8)));
  EXPECT_EQ(k.nw_frag, kFragAny);
  EXPECT_EQ(k.tp_src, htons(7));

  V4 later = first;
  later.frag = 0x0003;  // last fragment, offset 24
  PacketLayout lay;
  k = Parse(V4Frame(later, Udp(7, 8)), &lay);
  EXPECT_EQ(k.nw_frag, kFragAny | kFragLater);
  EXPECT_EQ(k.nw_proto, 17);
  EXPECT_EQ(k.tp_src, 0);
  EXPECT_EQ(lay.l4_ofs, 0u);

  V4 df = first;
  df.frag = 0x4000;  // DF alone is not a fragment
  EXPECT_EQ(Parse(V4Frame(df, Udp(7, 8))).nw_frag, 0);
}

TEST(ParseTest, MalformedIpv4IsL2Only) {
  Bytes good = V4Frame(V4{}, Tcp(1, 2, 2));
  auto mutate = [&](size_t ofs, uint8_t val) {
    Bytes f = good;
    f[ofs] = val;
    return f;
  };
  ExpectL2Only(Parse(mutate(14, 0x44)), 0x0800);  // IHL 4
  ExpectL2Only(Parse(mutate(14, 0x40)), 0x0800);  // IHL 0
  ExpectL2Only(Parse(mutate(14, 0x4f)), 0x0800);  // IHL 15 > frame
  ExpectL2Only(Parse(mutate(14, 0x55)), 0x0800);  // version 5
  Bytes f = mutate(16, 0x01);                     // total length 256+40 > frame
  ExpectL2Only(Parse(f), 0x0800);
  f = mutate(16, 0);
  f[17] = 19;  // total length below the header length
  ExpectL2Only(Parse(f), 0x0800);
  Bytes short_hdr = good;
  short_hdr.resize(14 + 19);
  ExpectL2Only(Parse(short_hdr), 0x0800);
}

TEST(ParseTest, Ipv6TcpAllFields) {
  Bytes f = Cat({Eth(0x86dd), Ip6(6, 20, 0xa5, 0xbcdef, 3), Tcp(443, 5555, 0x018)});
  PacketLayout lay;
  FlowKey k = Parse(f, &lay);
  EXPECT_EQ(k.eth_type, htons(0x86dd));
  EXPECT_EQ(k.ipv6_src, kIp6Src);
  EXPECT_EQ(k.ipv6_dst, kIp6Dst);
  EXPECT_EQ(k.ipv6_label, htonl(0xbcdef));
  EXPECT_EQ(k.nw_tos, 0xa5);
  EXPECT_EQ(k.nw_ttl, 3);
  EXPECT_EQ(k.nw_proto, 6);
  EXPECT_EQ(k.nw_frag, 0);
  EXPECT_EQ(k.nw_src, 0u);
  EXPECT_EQ(k.tp_src, htons(443));
  EXPECT_EQ(k.tp_dst, htons(5555));
  EXPECT_EQ(k.tcp_flags, htons(0x018));
  EXPECT_EQ(lay.l3_ofs, 14u);
  EXPECT_EQ(lay.l4_ofs, 54u);
  EXPECT_FALSE(lay.ipv6_routed);
}

TEST(ParseTest, Ipv6ExtensionChain) {
  Bytes ext = Cat({Ext6(43, 1), Ext6(60, 0, 0, 2), Ext6(51, 2), Ah6(17, 4), Udp(11, 22)});
  PacketLayout lay;
  FlowKey k = Parse(V6Frame(0, ext), &lay);
  EXPECT_EQ(k.nw_proto, 17);
  EXPECT_EQ(k.tp_src, htons(11));
  EXPECT_EQ(k.tp_dst, htons(22));
  EXPECT_EQ(lay.l4_ofs, 14u + 40 + 16 + 8 + 24 + 24);
  EXPECT_TRUE(lay.ipv6_routed);  // routing header with 2 segments left

  // ESP and "no next header" end the chain.
  EXPECT_EQ(Parse(V6Frame(0, Cat({Ext6(50, 0), Bytes(8, 0)}))).nw_proto, 50);
  EXPECT_EQ(Parse(V6Frame(60, Ext6(59, 0))).nw_proto, 59);
}

TEST(ParseTest, Ipv6Fragments) {
  FlowKey k = Parse(V6Frame(44, Cat({Frag6(6, 0x0001), Tcp(1, 2, 0x10)})));  // first, M
  EXPECT_EQ(k.nw_frag, kFragAny);
  EXPECT_EQ(k.nw_proto, 6);
  EXPECT_EQ(k.tp_dst, htons(2));

  PacketLayout lay;
  k = Parse(V6Frame(44, Cat({Frag6(6, 0x00a8), Tcp(1, 2, 0x10)})), &lay);  // offset 21
  EXPECT_EQ(k.nw_frag, kFragAny | kFragLater);
  EXPECT_EQ(k.nw_proto, 44);
  EXPECT_EQ(k.tp_dst, 0);
  EXPECT_EQ(lay.l4_ofs, 0u);

  k = Parse(V6Frame(44, Cat({Frag6(17, 0), Udp(3, 4)})));  // atomic fragment
  EXPECT_EQ(k.nw_frag, 0);
  EXPECT_EQ(k.nw_proto, 17);
  EXPECT_EQ(k.tp_src, htons(3));
}

TEST(ParseTest, MalformedIpv6) {
  // Extension header longer than the payload: base fields kept, no protocol, no L4.
  Bytes f = V6Frame(0, Cat({Ext6(6, 0), Tcp(1, 2, 2)}));
  f[14 + 41] = 10;  // hop-by-hop claims 88 bytes
  PacketLayout lay;
  FlowKey k = Parse(f, &lay);
  EXPECT_EQ(k.ipv6_src, kIp6Src);
  EXPECT_EQ(k.nw_ttl, 64);
  EXPECT_EQ(k.nw_proto, 0);
  EXPECT_EQ(k.tp_src, 0);
  EXPECT_EQ(lay.l3_ofs, 14u);
  EXPECT_EQ(lay.l4_ofs, 0u);

  // Chain cut short by the payload length (headers present in the frame but not in payload).
  Bytes cut = Cat({Eth(0x86dd), Ip6(0, 4), Ext6(17, 0), Udp(1, 2)});
  EXPECT_EQ(Parse(cut).nw_proto, 0);
  // A fragment header that does not fit.
  Bytes frag = Cat({Eth(0x86dd), Ip6(44, 6), Frag6(17, 0x10)});
  frag.resize(frag.size() - 2);
  EXPECT_EQ(Parse(frag).nw_frag, 0);
  // An AH header that does not fit.
  EXPECT_EQ(Parse(V6Frame(51, Cat({Ah6(6, 4)}))).nw_proto, 6);  // fits exactly, L4 missing
  Bytes ah = V6Frame(51, Ah6(6, 4));
  ah[14 + 41] = 5;  // 28 bytes > 24 available
  EXPECT_EQ(Parse(ah).nw_proto, 0);

  // Payload length beyond the frame, bad version, truncated base header: L2 only.
  Bytes big = V6Frame(6, Tcp(1, 2, 2));
  big[14 + 4] = 0x10;
  ExpectL2Only(Parse(big), 0x86dd);
  Bytes ver = V6Frame(6, Tcp(1, 2, 2));
  ver[14] = 0x46;
  ExpectL2Only(Parse(ver), 0x86dd);
  Bytes hdr = Cat({Eth(0x86dd), Ip6(59, 0)});
  hdr.pop_back();
  ExpectL2Only(Parse(hdr), 0x86dd);
}

TEST(ParseTest, Sctp) {
  V4 v;
  v.proto = 132;
  FlowKey k = Parse(V4Frame(v, Sctp(2905, 36412)));
  EXPECT_EQ(k.nw_proto, 132);
  EXPECT_EQ(k.tp_src, htons(2905));
  EXPECT_EQ(k.tp_dst, htons(36412));
  EXPECT_EQ(k.tcp_flags, 0);
  FlowKey k6 = Parse(V6Frame(132, Sctp(1, 2)));
  EXPECT_EQ(k6.tp_dst, htons(2));
}

TEST(ParseTest, Icmp) {
  V4 v;
  v.proto = 1;
  FlowKey k = Parse(V4Frame(v, Icmp(3, 13)));
  EXPECT_EQ(k.nw_proto, 1);
  EXPECT_EQ(k.tp_src, htons(3));
  EXPECT_EQ(k.tp_dst, htons(13));
  Bytes f = V4Frame(v, Icmp(8, 0));
  f.resize(f.size() - 1);
  f[14 + 3] = 27;  // total length 27: ICMP header incomplete
  EXPECT_EQ(Parse(f).tp_src, 0);
  // ICMPv4 inside IPv6 is not decoded.
  EXPECT_EQ(Parse(V6Frame(1, Icmp(8, 0))).tp_src, 0);
}

TEST(ParseTest, Icmpv6Echo) {
  FlowKey k = Parse(V6Frame(58, Icmp(128, 0)));
  EXPECT_EQ(k.nw_proto, 58);
  EXPECT_EQ(k.tp_src, htons(128));
  EXPECT_EQ(k.tp_dst, 0);
  EXPECT_EQ(k.nd_target, In6Addr{});
  // ICMPv6 numbers inside IPv4 are not ICMPv6.
  V4 v;
  v.proto = 58;
  EXPECT_EQ(Parse(V4Frame(v, Icmp(128, 0))).tp_src, 0);
}

TEST(ParseTest, NeighborSolicitationAndAdvertisement) {
  FlowKey ns = Parse(V6Frame(58, Nd(135, {NdOpt(1, kSha)})));
  EXPECT_EQ(ns.tp_src, htons(135));
  EXPECT_EQ(ns.nd_target, kTarget);
  EXPECT_EQ(ns.arp_sha, kSha);
  EXPECT_EQ(ns.arp_tha, MacAddr{});

  // Unknown options (here an MTU option of two units) are skipped.
  Bytes mtu = {5, 2, 0, 0, 0, 0, 5, 0xdc, 0, 0, 0, 0, 0, 0, 0, 0};
  FlowKey na = Parse(V6Frame(58, Nd(136, {mtu, NdOpt(2, kTha)})));
  EXPECT_EQ(na.tp_src, htons(136));
  EXPECT_EQ(na.nd_target, kTarget);
  EXPECT_EQ(na.arp_sha, MacAddr{});
  EXPECT_EQ(na.arp_tha, kTha);

  // Non-zero code: not ND.
  Bytes odd = V6Frame(58, Nd(135, {NdOpt(1, kSha)}));
  odd[14 + 40 + 1] = 1;
  FlowKey k = Parse(odd);
  EXPECT_EQ(k.tp_dst, htons(1));
  EXPECT_EQ(k.nd_target, In6Addr{});
  EXPECT_EQ(k.arp_sha, MacAddr{});
  // Target cut off: type and code only.
  Bytes cut = V6Frame(58, Nd(135, {}));
  cut.resize(cut.size() - 1);
  cut[14 + 5] = static_cast<uint8_t>(cut.size() - 54);
  k = Parse(cut);
  EXPECT_EQ(k.tp_src, htons(135));
  EXPECT_EQ(k.nd_target, In6Addr{});
}

TEST(ParseTest, MalformedNdOptionsKeepEarlierFields) {
  Bytes zero_len = {2, 0, 1, 2, 3, 4, 5, 6};
  FlowKey k = Parse(V6Frame(58, Nd(135, {NdOpt(1, kSha), zero_len, NdOpt(2, kTha)})));
  EXPECT_EQ(k.nd_target, kTarget);
  EXPECT_EQ(k.arp_sha, kSha);
  EXPECT_EQ(k.arp_tha, MacAddr{});

  Bytes too_long = {2, 3, 1, 2, 3, 4, 5, 6};  // claims 24 bytes, 8 present
  k = Parse(V6Frame(58, Nd(136, {NdOpt(1, kSha), too_long})));
  EXPECT_EQ(k.arp_sha, kSha);
  EXPECT_EQ(k.arp_tha, MacAddr{});

  MacAddr other = {9, 9, 9, 9, 9, 9};
  k = Parse(V6Frame(58, Nd(135, {NdOpt(1, kSha), NdOpt(1, other), NdOpt(2, kTha)})));
  EXPECT_EQ(k.arp_sha, kSha);
  EXPECT_EQ(k.arp_tha, MacAddr{});

  // A trailing fragment shorter than an option is ignored.
  k = Parse(V6Frame(58, Nd(135, {NdOpt(2, kTha), Bytes{1, 1, 0}})));
  EXPECT_EQ(k.arp_tha, kTha);
}

TEST(ParseTest, ShortFramesHaveNoL2) {
  Bytes f = V4Frame(V4{}, Tcp(1, 2, 3));
  for (size_t len = 0; len < 14; ++len) {
    FlowKey k = Parse(f, len);
    FlowKey zero;
    zero.Clear();
    constexpr size_t kL2 = offsetof(FlowKey, eth_dst);
    EXPECT_EQ(std::memcmp(reinterpret_cast<uint8_t*>(&k) + kL2,
                          reinterpret_cast<uint8_t*>(&zero) + kL2, sizeof(FlowKey) - kL2),
              0);
  }
}

// Every prefix of every frame parses without reading past its end (checked by ASan in the
// sanitizer build), and a prefix never yields L4 fields the full frame does not have. Each prefix
// is tried as is (IP length beyond the frame) and with the IP length field shrunk to fit, which
// drives the cut into the extension headers and L4.
TEST(ParseTest, EveryTruncation) {
  struct Case {
    Bytes frame;
    size_t l3;  // 0: no IP header
    bool v6;
  };
  V4 opts;
  opts.opt_words = 2;
  opts.proto = 17;
  std::vector<Case> cases = {
      {V4Frame(V4{}, Tcp(1, 2, 3)), 14, false},
      {V4Frame(opts, Udp(5, 6, 3)), 14, false},
      {Cat({EthVlan({{0x88a8, 1}, {0x8100, 2}}, 0x0806), Arp(1)}), 0, false},
      {Cat({Eth(60), Bytes{0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd}, Ip6(132, 12), Sctp(7, 8)}), 22,
       true},
      {V6Frame(0, Cat({Ext6(43, 1), Ext6(44, 0, 0, 1), Frag6(51, 1), Ah6(58, 1),
                       Nd(136, {NdOpt(2, kTha)})})),
       14, true},
      {V6Frame(58, Nd(135, {NdOpt(1, kSha), NdOpt(2, kTha)})), 14, true},
  };
  for (const Case& c : cases) {
    FlowKey full = Parse(c.frame);
    for (size_t len = 0; len <= c.frame.size(); ++len) {
      Bytes fitted = c.frame;
      if (c.l3 != 0 && len >= c.l3 + (c.v6 ? 40 : 20)) {
        size_t ip_len = len - c.l3 - (c.v6 ? 40 : 0);
        fitted[c.l3 + (c.v6 ? 4 : 2)] = static_cast<uint8_t>(ip_len >> 8);
        fitted[c.l3 + (c.v6 ? 5 : 3)] = static_cast<uint8_t>(ip_len);
      }
      for (const Bytes* f : {&c.frame, static_cast<const Bytes*>(&fitted)}) {
        FlowKey k = Parse(*f, len);
        if (len >= 14) {
          EXPECT_EQ(k.eth_src, full.eth_src);
        }
        if (k.tp_src != 0) {
          EXPECT_EQ(k.tp_src, full.tp_src) << "len " << len;
        }
        if (k.nw_proto != 0 && c.l3 != 0 && !c.v6) {
          EXPECT_EQ(k.nw_proto, full.nw_proto);
        }
      }
    }
  }
}

// Random bytes, and random corruptions of valid frames (which reach deeper into the parser).
TEST(ParseTest, RandomFuzz) {
  std::mt19937 rng(12345);
  std::vector<Bytes> seeds = {
      V4Frame(V4{}, Tcp(1, 2, 3)),
      Cat({EthVlan({{0x8100, 2}}, 0x86dd), Ip6(0, 48), Ext6(44, 0), Frag6(58, 1),
           Nd(135, {NdOpt(1, kSha)})}),
      V6Frame(43, Cat({Ext6(17, 0), Udp(1, 2, 8)})),
      Cat({Eth(0x0806), Arp(1)}),
  };
  uint64_t checksum = 0;
  for (int iter = 0; iter < 100000; ++iter) {
    Bytes buf;
    if (iter % 2 == 0) {
      buf.resize(rng() % 160);
      for (auto& b : buf) b = static_cast<uint8_t>(rng());
      if (buf.size() >= 14 && rng() % 2) {  // steer towards interesting ethertypes
        static constexpr uint16_t kTypes[] = {0x0800, 0x86dd, 0x0806, 0x8100,
                                              0x88a8, 0x0040, 0x8847, 0x8848};
        uint16_t t = kTypes[rng() % 8];
        buf[12] = static_cast<uint8_t>(t >> 8);
        buf[13] = static_cast<uint8_t>(t);
      }
    } else {
      buf = seeds[rng() % seeds.size()];
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) buf[rng() % buf.size()] = static_cast<uint8_t>(rng());
      buf.resize(rng() % (buf.size() + 1));
    }
    PacketLayout lay;
    FlowKey k = Parse(buf, &lay);
    ASSERT_LE(lay.l3_ofs, buf.size());
    ASSERT_LE(lay.l4_ofs, lay.l4_end);
    ASSERT_LE(lay.l4_end, buf.size());
    ASSERT_EQ(k.pad0, 0);
    if (!IsMplsEthType(ntohs(k.eth_type))) {
      ASSERT_EQ(k.mpls_lse, 0u);
    }
    ASSERT_EQ(k.pad2, 0);
    ASSERT_EQ(k.ipv6_label & htonl(0xfff00000), 0u);
    ASSERT_EQ(k.tcp_flags & htons(0xf000), 0);
    checksum += HashFlowKey(k);
  }
  EXPECT_NE(checksum, 0u);
}

// ParsePacketL2 fills the metadata-free L2 words exactly as ParsePacket does (same random and
// corrupted frames as above), zeroes tcp_flags and leaves every other word as it was.
TEST(ParseTest, L2OnlyParseEqualsFullParseOnTheL2Words) {
  std::mt19937 rng(777);
  std::vector<Bytes> seeds = {
      V4Frame(V4{}, Tcp(1, 2, 0x12)),
      Cat({EthVlan({{0x88a8, 5}, {0x8100, 7}}, 0x0800), Ip4(V4{}, 8), Udp(1, 2)}),
      Cat({EthVlan({{0x8100, 0}}, 0x86dd), Ip6(17, 8), Udp(3, 4)}),
      Cat({Eth(0x0040), Bytes{0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06}, Arp(2)}),
      Cat({Eth(0x8847), Bytes{0, 1, 0x01, 0x40}}),
  };
  for (int iter = 0; iter < 50000; ++iter) {
    Bytes buf = seeds[rng() % seeds.size()];
    if (iter % 3 != 0) {
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) buf[rng() % buf.size()] = static_cast<uint8_t>(rng());
      buf.resize(rng() % (buf.size() + 1));
    }
    FlowKey full = Parse(buf);
    FlowKey l2;
    std::memset(&l2, 0xa5, sizeof l2);
    ParsePacketL2(buf.data(), static_cast<uint32_t>(buf.size()), &l2);
    for (size_t w = kFlowL2Word; w < kFlowL3Word; ++w) {
      ASSERT_EQ(l2.words()[w], full.words()[w]) << "word " << w << " iteration " << iter;
    }
    ASSERT_EQ(l2.tcp_flags, 0);
    FlowKey sentinel;
    std::memset(&sentinel, 0xa5, sizeof sentinel);
    for (size_t w = 0; w < FlowKey::kWords; ++w) {
      if (w >= kFlowL2Word && w < kFlowL3Word) continue;
      if (w == offsetof(FlowKey, tcp_flags) / 8) continue;
      ASSERT_EQ(l2.words()[w], sentinel.words()[w]) << "word " << w << " was written";
    }
  }
}

}  // namespace
}  // namespace sluice::dp
