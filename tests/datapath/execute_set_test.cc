// Executing masked set actions on Ethernet, IPv4, IPv6 and transport headers: the rewritten bytes
// and checksums (re-derived from scratch, also on random packets and masks).
#include "datapath/actions/execute.h"

#include <random>

#include <gtest/gtest.h>

#include "datapath/execute_test_util.h"

namespace sluice::dp {
namespace {

using namespace exec_test;  // NOLINT: the shared builders and fixture

// ---- set: Ethernet, IPv4, IPv6, ports ----

TEST_F(ExecuteTest, SetEthernetMasked) {
  Pkt p = MakeV4(6);
  ActSetMasked s = MakeSet(SetHeader::kEthernet);
  s.value.eth.dst = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  s.mask.eth.dst = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  s.value.eth.src = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
  s.mask.eth.src = {0x00, 0x00, 0x00, 0x00, 0x00, 0x0f};
  Bytes out = RunOne(SetThenOutput(s), p.b);
  Bytes want = p.b;
  std::memcpy(&want[0], s.value.eth.dst.data(), 6);
  want[11] = 0x06;  // low nibble from value, high nibble kept (0x02 -> 0x06)
  EXPECT_EQ(out, want);
}

TEST_F(ExecuteTest, SetIpv4AllFieldsTcp) {
  Pkt p = MakeV4(6);
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4 = {htonl(0xc0a80a0b), htonl(0xac100001), 99, 0xb8, 5, 0};
  s.mask.ipv4 = {0xffffffff, 0xffffffff, 0xff, 0xff, 0xff, 0xff};  // proto/frag not settable
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l3 + 1], 0xb8);
  EXPECT_EQ(out[p.l3 + 8], 5);
  EXPECT_EQ(out[p.l3 + 9], 6);
  EXPECT_EQ(Get16(out, p.l3 + 12), 0xc0a8);
  EXPECT_EQ(Get16(out, p.l3 + 18), 0x0001);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetIpv4PartialMaskOnVlanUdp) {
  Pkt p = MakeV4(17, {5, 6});
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4.src = htonl(0x01020304);
  s.mask.ipv4.src = htonl(0x0000ffff);
  s.value.ipv4.tos = 0x03;
  s.mask.ipv4.tos = 0x03;  // ECN only
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l3 + 12), 0x0a00);
  EXPECT_EQ(Get16(out, p.l3 + 14), 0x0304);
  EXPECT_EQ(out[p.l3 + 1], 0x13);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, UdpZeroChecksumStaysZero) {
  Pkt p = MakeV4(17);
  Set16(p.b, p.l4 + 6, 0);
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4.dst = htonl(0x08080808);
  s.mask.ipv4.dst = 0xffffffff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 6), 0);
  ExpectChecksumsValid(out, p);
  ActSetMasked ports = MakeSet(SetHeader::kUdp);
  ports.value.ports.dst = htons(999);
  ports.mask.ports.dst = 0xffff;
  out = RunOne(SetThenOutput(ports), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 2), 999);
  EXPECT_EQ(Get16(out, p.l4 + 6), 0);
}

TEST_F(ExecuteTest, UdpComputedZeroBecomesFfff) {
  Pkt p = MakeV4(17);
  // Find the destination port for which the one's complement sum is all ones, i.e. the
  // checksum computes to 0 and must be sent as 0xffff.
  int found = -1;
  for (int port = 0; port < 65536 && found < 0; ++port) {
    Pkt q = p;
    Set16(q.b, q.l4 + 2, static_cast<uint16_t>(port));
    Set16(q.b, q.l4 + 6, 0);
    uint64_t s = SumBe16(q.b.data() + q.l4, q.b.size() - q.l4) +
                 SumBe16(q.b.data() + q.l3 + 12, 8) + (q.b.size() - q.l4) + 17;
    if (FinishSum(s) == 0) found = port;
  }
  ASSERT_GE(found, 0);
  ActSetMasked s = MakeSet(SetHeader::kUdp);
  s.value.ports.dst = htons(static_cast<uint16_t>(found));
  s.mask.ports.dst = 0xffff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 6), 0xffff);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetIpv4OnIcmpFixesOnlyIpChecksum) {
  Pkt p = MakeV4(1);
  ActSetMasked s = MakeSet(SetHeader::kIpv4);
  s.value.ipv4.src = htonl(0x7f000001);
  s.mask.ipv4.src = 0xffffffff;
  s.value.ipv4.ttl = 1;
  s.mask.ipv4.ttl = 0xff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(Get16(out, p.l4 + 2), Get16(p.b, p.l4 + 2));
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetOnAbsentHeaderLeavesPacketUnchanged) {
  Bytes arp = EthHdr({}, 0x0806);
  arp.insert(arp.end(), {0,  1, 8, 0, 6, 4, 0, 1, 1, 2, 3,  4, 5, 6,
                         10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2});
  ActSetMasked v4 = MakeSet(SetHeader::kIpv4);
  v4.value.ipv4.src = htonl(0x01010101);
  v4.mask.ipv4.src = 0xffffffff;
  EXPECT_EQ(RunOne(SetThenOutput(v4), arp), arp);
  Pkt ip6 = MakeV6(6);
  EXPECT_EQ(RunOne(SetThenOutput(v4), ip6.b), ip6.b);

  ActSetMasked v6 = MakeSet(SetHeader::kIpv6);
  v6.mask.ipv6.hlimit = 0xff;
  Pkt ip4 = MakeV4(6);
  EXPECT_EQ(RunOne(SetThenOutput(v6), ip4.b), ip4.b);

  ActSetMasked tcp = MakeSet(SetHeader::kTcp);
  tcp.value.ports.src = htons(1);
  tcp.mask.ports.src = 0xffff;
  Pkt udp = MakeV4(17);
  EXPECT_EQ(RunOne(SetThenOutput(tcp), udp.b), udp.b);

  // A later IPv4 fragment has no transport header to rewrite.
  ActSetMasked udp_set = MakeSet(SetHeader::kUdp);
  udp_set.value.ports.src = htons(1);
  udp_set.mask.ports.src = 0xffff;
  Pkt frag = MakeV4(17);
  frag.b[frag.l3 + 6] = 0x00;
  frag.b[frag.l3 + 7] = 0x10;
  FixChecksums(frag);
  EXPECT_EQ(RunOne(SetThenOutput(udp_set), frag.b), frag.b);

  // Too short for Ethernet.
  ActSetMasked eth = MakeSet(SetHeader::kEthernet);
  eth.mask.eth.dst[0] = 0xff;
  Bytes tiny(10, 0x33);
  EXPECT_EQ(RunOne(SetThenOutput(eth), tiny), tiny);
}

TEST_F(ExecuteTest, SetIpv6AllFields) {
  for (uint8_t proto : {6, 17, 58, 132}) {
    SCOPED_TRACE(int{proto});
    Pkt p = MakeV6(proto, {77});
    ActSetMasked s = MakeSet(SetHeader::kIpv6);
    for (int i = 0; i < 16; ++i) {
      s.value.ipv6.src[i] = static_cast<uint8_t>(0xf0 + i);
      s.value.ipv6.dst[i] = static_cast<uint8_t>(0x30 + i);
    }
    s.mask.ipv6.src.fill(0xff);
    s.mask.ipv6.dst.fill(0x0f);
    s.value.ipv6.label = htonl(0xabcde);
    s.mask.ipv6.label = htonl(0xfffff);
    s.value.ipv6.tclass = 0xe4;
    s.mask.ipv6.tclass = 0xff;
    s.value.ipv6.hlimit = 9;
    s.mask.ipv6.hlimit = 0xff;
    Bytes out = RunOne(SetThenOutput(s), p.b);
    EXPECT_EQ(out[p.l3], 0x6e);  // version kept, tclass 0xe4
    EXPECT_EQ(out[p.l3 + 1], 0x4a);
    EXPECT_EQ(Get16(out, p.l3 + 2), 0xbcde);
    EXPECT_EQ(out[p.l3 + 7], 9);
    EXPECT_EQ(out[p.l3 + 8], 0xf0);
    EXPECT_EQ(out[p.l3 + 24], 0x20);  // high nibble kept
    EXPECT_EQ(out[p.l3 + 25], 0x81);  // 0x81 & 0xf0 | 0x31 & 0x0f
    ExpectChecksumsValid(out, p);
  }
}

TEST_F(ExecuteTest, SetIpv6ThroughExtensionHeaders) {
  Bytes hbh = {60, 0, 1, 4, 0, 0, 0, 0};
  Bytes dst_opts = {6, 0, 1, 4, 0, 0, 0, 0};
  hbh.insert(hbh.end(), dst_opts.begin(), dst_opts.end());
  Pkt p = MakeV6(6, {}, 20, hbh, 0);
  ActSetMasked s = MakeSet(SetHeader::kIpv6);
  s.value.ipv6.src[15] = 0x99;
  s.mask.ipv6.src[15] = 0xff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l3 + 8 + 15], 0x99);
  ExpectChecksumsValid(out, p);
}

TEST_F(ExecuteTest, SetIpv6DstWithRoutingHeaderKeepsL4Checksum) {
  Bytes rh = {6, 2, 0, 1, 0, 0, 0, 0};  // routing header, one segment left
  rh.resize(24, 0);
  Pkt p = MakeV6(6, {}, 4, rh, 43);
  ActSetMasked s = MakeSet(SetHeader::kIpv6);
  s.value.ipv6.dst[15] = 0x42;
  s.mask.ipv6.dst[15] = 0xff;
  Bytes out = RunOne(SetThenOutput(s), p.b);
  EXPECT_EQ(out[p.l3 + 24 + 15], 0x42);
  EXPECT_EQ(Get16(out, p.l4 + 16), Get16(p.b, p.l4 + 16));
}

TEST_F(ExecuteTest, SetPorts) {
  struct Case {
    SetHeader h;
    uint8_t proto;
  };
  for (Case c :
       {Case{SetHeader::kTcp, 6}, Case{SetHeader::kUdp, 17}, Case{SetHeader::kSctp, 132}}) {
    for (bool v6 : {false, true}) {
      SCOPED_TRACE(testing::Message() << int{c.proto} << (v6 ? " v6" : " v4"));
      Pkt p = v6 ? MakeV6(c.proto, {}, 33) : MakeV4(c.proto, {9}, 33);
      ActSetMasked s = MakeSet(c.h);
      s.value.ports.src = htons(0xbeef);
      s.mask.ports.src = htons(0xff00);
      s.value.ports.dst = htons(8080);
      s.mask.ports.dst = 0xffff;
      Bytes out = RunOne(SetThenOutput(s), p.b);
      EXPECT_EQ(Get16(out, p.l4), (0xbe00 | (Get16(p.b, p.l4) & 0xff)));
      EXPECT_EQ(Get16(out, p.l4 + 2), 8080);
      ExpectChecksumsValid(out, p);
    }
  }
}

TEST(ExecuteCrc32cTest, KnownVector) {
  const uint8_t* s = reinterpret_cast<const uint8_t*>("123456789");
  EXPECT_EQ(Crc32cBitwise(s, 9), 0xe3069283u);
  EXPECT_EQ(~Crc32c(0xffffffff, s, 9), 0xe3069283u);
}

// Random packets and random masked sets; every checksum is re-derived from scratch.
TEST_F(ExecuteTest, RandomSetsKeepChecksumsValid) {
  std::mt19937 rng(777);
  const uint8_t kProtos[] = {6, 17, 132, 1, 58};
  for (int iter = 0; iter < 3000; ++iter) {
    bool v6 = rng() % 2;
    uint8_t proto = kProtos[rng() % 5];
    if (proto == 1 && v6) proto = 58;
    if (proto == 58 && !v6) proto = 1;
    size_t payload = rng() % 40;
    Pkt p = v6 ? MakeV6(proto, {}, payload) : MakeV4(proto, {}, payload);
    if (rng() % 3 == 0) {  // random VLAN tag: headers move by 4 bytes
      p.b.insert(p.b.begin() + 12, {0x81, 0x00, static_cast<uint8_t>(rng()), 1});
      p.l3 += 4;
      p.l4 += 4;
    }
    ActSetMasked s;
    for (auto& b : s.value.raw) b = static_cast<uint8_t>(rng());
    for (auto& b : s.mask.raw) b = static_cast<uint8_t>(rng() % 3 == 0 ? 0xff : rng());
    s.pad0 = 0;
    s.pad1 = 0;
    int which = static_cast<int>(rng() % 3);
    if (which == 0) {
      s.header = static_cast<uint16_t>(v6 ? SetHeader::kIpv6 : SetHeader::kIpv4);
    } else if (proto == 6) {
      s.header = static_cast<uint16_t>(SetHeader::kTcp);
    } else if (proto == 17) {
      s.header = static_cast<uint16_t>(SetHeader::kUdp);
    } else if (proto == 132) {
      s.header = static_cast<uint16_t>(SetHeader::kSctp);
    } else {
      s.header = static_cast<uint16_t>(v6 ? SetHeader::kIpv6 : SetHeader::kIpv4);
    }
    ActionBuilder b;
    b.SetMasked(s);
    if (rng() % 2) b.SetMasked(s);  // applying twice must stay consistent
    b.Output(1);
    Bytes out = RunOne(b, p.b);
    ASSERT_EQ(out.size(), p.b.size());
    ExpectChecksumsValid(out, p);
    if (HasFailure()) {
      ADD_FAILURE() << "iteration " << iter << " proto " << int{proto} << " header " << s.header;
      return;
    }
  }
}

}  // namespace
}  // namespace sluice::dp
